/* gh_parse.c - GraphQL and REST replies -> struct org_input records. */
#include "github/gh_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/ga_log.h"
#include "util/ga_xalloc.h"

/* Warnings kept per sync; a token without the repo scope would otherwise
 * produce one per repository. */
#define MAX_WARNINGS 100
#define WHERE_MAX 160

/* Which partial errors of a repositories page hit which node. */
#define NODE_COLLABORATORS_FORBIDDEN 1u
#define NODE_PYPROJECT_FORBIDDEN 2u

/* A path for messages; long names are cut, which only shortens a message. */
static void __attribute__((format(printf, 2, 3)))
where_printf(char where[WHERE_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(where, WHERE_MAX, fmt, ap);
	va_end(ap);
}

void
gh_collect_init(struct gh_collect *collect, struct org_input *input,
		struct gh_sync_stats *stats)
{
	memset(collect, 0, sizeof(*collect));
	collect->input = input;
	collect->stats = stats;
	ga_map_init(&collect->members);
	ga_map_init(&collect->teams);
	ga_map_init(&collect->repositories);
}

void
gh_collect_free(struct gh_collect *collect)
{
	ga_map_free(&collect->members);
	ga_map_free(&collect->teams);
	ga_map_free(&collect->repositories);
	for (size_t i = 0; i < collect->followup_count; i++)
		ga_free(collect->followups[i].cursor);
	ga_free(collect->followups);
	collect->followups = NULL;
	collect->followup_count = 0;
	collect->followup_cap = 0;
	ga_free(collect->inferred);
	collect->inferred = NULL;
	collect->inferred_count = 0;
	collect->inferred_cap = 0;
}

void
gh_stats_warn(struct gh_sync_stats *stats, const char *fmt, ...)
{
	struct ga_buf text;
	va_list ap;

	if (stats->warning_count >= MAX_WARNINGS) {
		stats->warnings_omitted++;
		return;
	}
	ga_buf_init(&text, 1024);
	va_start(ap, fmt);
	ga_buf_vprintf(&text, fmt, ap);
	va_end(ap);
	ga_log(GA_LOG_WARN, "GitHub sync warning", "detail", ga_buf_cstr(&text), (char *)NULL);
	stats->warnings = ga_reallocarray(stats->warnings, stats->warning_count + 1,
					  sizeof(*stats->warnings));
	stats->warnings[stats->warning_count++] = ga_buf_steal(&text);
}

void
gh_stats_null(struct gh_sync_stats *stats, const char *field, const char *fmt, ...)
{
	struct ga_buf text;
	va_list ap;

	stats->nulls++;
	ga_buf_init(&text, 1024);
	va_start(ap, fmt);
	ga_buf_vprintf(&text, fmt, ap);
	va_end(ap);
	gh_stats_warn(stats, "%s (GitHub answered null for %s)", ga_buf_cstr(&text), field);
	ga_buf_free(&text);
}

void
gh_page_clear(struct gh_page *page)
{
	ga_free(page->end_cursor);
	page->end_cursor = NULL;
	page->has_next = false;
}

static void
add_followup(struct gh_collect *collect, enum gh_followup_kind kind, size_t index,
	     const char *cursor)
{
	if (collect->followup_count == collect->followup_cap) {
		collect->followup_cap = collect->followup_cap ? collect->followup_cap * 2 : 16;
		collect->followups = ga_reallocarray(collect->followups, collect->followup_cap,
						     sizeof(*collect->followups));
	}
	collect->followups[collect->followup_count++] = (struct gh_followup){
		.kind = kind,
		.index = index,
		.cursor = ga_strdup(cursor),
	};
}

/* ---- shapes shared by every page ------------------------------------ */

/* A connection: pageInfo plus the list of edges or nodes. */
struct connection {
	json_t *items;			/* NULL when GitHub answered null for the list */
	bool has_next;
	const char *end_cursor;		/* borrowed from the reply */
};

static enum ga_rc
parse_connection(const json_t *connection, const char *items_key, const char *where,
		 struct connection *out, struct ga_err *err)
{
	json_t *page_info;
	char inner[WHERE_MAX];
	enum ga_rc rc;

	where_printf(inner, "%s.pageInfo", where);
	rc = gh_json_object(connection, "pageInfo", false, &page_info, where, err);
	if (rc == GA_OK)
		rc = gh_json_bool(page_info, "hasNextPage", &out->has_next, inner, err);
	if (rc == GA_OK)
		rc = gh_json_string(page_info, "endCursor", true, &out->end_cursor, inner, err);
	if (rc == GA_OK && out->has_next && out->end_cursor == NULL)
		rc = ga_err_set(err, GA_EUPSTREAM, "malformed reply: %s has a next page but no cursor",
				where);
	/* The list itself is nullable ([Edge]): null loses that page's items
	 * only, which the callers warn about. */
	out->items = NULL;
	if (rc == GA_OK && !json_is_null(json_object_get(connection, items_key)))
		rc = gh_json_array(connection, items_key, &out->items, where, err);
	return rc;
}

/* parent.key as a connection (not null). */
static enum ga_rc
connection_member(const json_t *parent, const char *key, const char *items_key,
		  const char *where, struct connection *out, struct ga_err *err)
{
	json_t *connection;
	char inner[WHERE_MAX];
	enum ga_rc rc = gh_json_object(parent, key, false, &connection, where, err);

	if (rc != GA_OK)
		return rc;
	where_printf(inner, "%s.%s", where, key);
	return parse_connection(connection, items_key, inner, out, err);
}

static void
set_page(struct gh_page *page, const struct connection *connection)
{
	gh_page_clear(page);
	page->has_next = connection->has_next;
	if (connection->has_next)
		page->end_cursor = ga_strdup(connection->end_cursor);
}

/* The i-th item of a list, which must be an object. */
static enum ga_rc
item_object(const json_t *items, size_t i, const char *where, json_t **out,
	    struct ga_err *err)
{
	*out = json_array_get(items, i);
	if (!json_is_object(*out))
		return ga_err_set(err, GA_EUPSTREAM, "malformed reply: %s[%zu] is not an object",
				  where, i);
	return GA_OK;
}

/* The same for a list of nullable items: *out NULL for a null item. */
static enum ga_rc
item_object_or_null(const json_t *items, size_t i, const char *where, json_t **out,
		    struct ga_err *err)
{
	if (json_is_null(json_array_get(items, i))) {
		*out = NULL;
		return GA_OK;
	}
	return item_object(items, i, where, out, err);
}

/* A permission enum value (READ ... ADMIN) of an edge. */
static enum ga_rc
edge_level(const json_t *edge, const char *where, enum org_level *level, struct ga_err *err)
{
	const char *permission;
	enum ga_rc rc = gh_json_string(edge, "permission", false, &permission, where, err);

	if (rc != GA_OK)
		return rc;
	if (!org_level_parse(permission, level))
		return ga_err_set(err, GA_EUPSTREAM, "malformed reply: %s.permission: unknown value %.40s",
				  where, permission);
	return GA_OK;
}

/* edge.node.<key> as a non-null string. */
static enum ga_rc
edge_node_string(const json_t *edge, const char *key, const char *where, const char **out,
		 struct ga_err *err)
{
	json_t *node;
	char inner[WHERE_MAX];
	enum ga_rc rc = gh_json_object(edge, "node", false, &node, where, err);

	if (rc != GA_OK)
		return rc;
	where_printf(inner, "%s.node", where);
	return gh_json_string(node, key, false, out, inner, err);
}

/* Any GraphQL error on a page that tolerates none fails it. */
static enum ga_rc
refuse_errors(const struct gh_graphql_reply *reply, const char *what, struct ga_err *err)
{
	char description[GA_ERR_MESSAGE_MAX / 2];

	if (reply->error_count == 0)
		return GA_OK;
	return ga_err_set(err, GA_EUPSTREAM, "%s: GitHub answered with an error: %s", what,
			  gh_graphql_describe_error(&reply->errors[0], description,
						    sizeof(description)));
}

/* data.<key> as an object; null (an unknown organization) fails. */
static enum ga_rc
data_object(const struct gh_graphql_reply *reply, const char *key, const char *what,
	    json_t **out, struct ga_err *err)
{
	char description[GA_ERR_MESSAGE_MAX / 2];
	enum ga_rc rc;

	*out = NULL;
	if (reply->data == NULL && reply->error_count > 0)
		return refuse_errors(reply, what, err);
	if (reply->data == NULL)
		return ga_err_set(err, GA_EUPSTREAM, "%s: reply has no data", what);
	rc = gh_json_object(reply->data, key, true, out, "data", err);
	if (rc != GA_OK || *out != NULL)
		return rc;
	if (reply->error_count > 0)
		return ga_err_set(err, GA_EUPSTREAM, "%s: %s", what,
				  gh_graphql_describe_error(&reply->errors[0], description,
							    sizeof(description)));
	return ga_err_set(err, GA_EUPSTREAM, "%s: %s not found or not visible to the token", what,
			  key);
}

/* ---- members -------------------------------------------------------- */

static enum ga_rc
take_member(struct gh_collect *collect, const json_t *edge, const char *where,
	    struct ga_err *err)
{
	const char *role;
	const char *login = NULL;
	long long id;
	json_t *node;
	char inner[WHERE_MAX];
	struct org_input_member *member;
	enum ga_rc rc = gh_json_string(edge, "role", true, &role, where, err);

	if (rc == GA_OK)
		rc = gh_json_object(edge, "node", true, &node, where, err);
	if (rc != GA_OK)
		return rc;
	if (node == NULL) {
		gh_stats_null(collect->stats, "OrganizationMemberEdge.node",
			      "an organization member GitHub did not name is left out: that "
			      "person cannot log in until a sync sees them");
		return GA_OK;
	}
	where_printf(inner, "%s.node", where);
	rc = gh_json_string(node, "login", false, &login, inner, err);
	if (rc == GA_OK)
		rc = gh_json_integer(node, "databaseId", true, &id, inner, err);
	if (rc != GA_OK)
		return rc;
	/* The id tells a renamed account from a new one with the old login. */
	if (json_is_null(json_object_get(node, "databaseId"))) {
		gh_stats_null(collect->stats, "User.databaseId",
			      "member %s is left out: without GitHub's id for the account a login "
			      "taken over after a rename cannot be told apart", login);
		return GA_OK;
	}
	if (role == NULL)
		gh_stats_null(collect->stats, "OrganizationMemberEdge.role",
			      "member %s counts as a member, not an owner", login);
	else if (strcmp(role, "ADMIN") != 0 && strcmp(role, "MEMBER") != 0)
		gh_stats_warn(collect->stats, "member %s has the unknown role %.40s: not an owner",
			      login, role);
	if (ga_map_find(&collect->members, login, NULL))
		return GA_OK;
	member = org_input_add_member(collect->input, login, id,
				      role != NULL && strcmp(role, "ADMIN") == 0);
	ga_map_insert(&collect->members, member->login, collect->input->member_count - 1);
	return GA_OK;
}

enum ga_rc
gh_parse_members_page(struct gh_collect *collect, const struct gh_graphql_reply *reply,
		      struct gh_page *page, struct ga_err *err)
{
	const char *what = "OrgMembers";
	struct connection members = {.items = NULL};
	json_t *organization;
	char where[WHERE_MAX];
	enum ga_rc rc = refuse_errors(reply, what, err);

	if (rc == GA_OK)
		rc = data_object(reply, "organization", what, &organization, err);
	if (rc == GA_OK)
		rc = connection_member(organization, "membersWithRole", "edges",
				       "organization", &members, err);
	if (rc == GA_OK && members.items == NULL)
		gh_stats_null(collect->stats, "OrganizationMemberConnection.edges",
			      "a page of organization members is missing: they cannot log in "
			      "until a sync sees them");
	for (size_t i = 0; rc == GA_OK && i < json_array_size(members.items); i++) {
		json_t *edge;

		where_printf(where, "organization.membersWithRole.edges[%zu]", i);
		rc = item_object_or_null(members.items, i, "organization.membersWithRole.edges",
					 &edge, err);
		if (rc == GA_OK && edge == NULL)
			gh_stats_null(collect->stats, "OrganizationMemberConnection.edges[]",
				      "an organization member GitHub did not list is left out");
		else if (rc == GA_OK)
			rc = take_member(collect, edge, where, err);
	}
	if (rc == GA_OK)
		set_page(page, &members);
	return rc;
}

/* ---- teams ---------------------------------------------------------- */

static enum ga_rc
take_team_members(struct gh_collect *collect, size_t team, const struct connection *members,
		  const char *where, struct ga_err *err)
{
	char inner[WHERE_MAX];

	const char *slug = collect->input->teams[team].slug;

	if (members->items == NULL)
		gh_stats_null(collect->stats, "TeamMemberConnection.edges",
			      "team %s: a page of its members is missing; they gain nothing "
			      "through it until a sync sees them", slug);
	for (size_t i = 0; i < json_array_size(members->items); i++) {
		json_t *edge;
		const char *login;
		enum ga_rc rc;

		where_printf(inner, "%s[%zu]", where, i);
		rc = item_object_or_null(members->items, i, where, &edge, err);
		if (rc == GA_OK && edge == NULL) {
			gh_stats_null(collect->stats, "TeamMemberConnection.edges[]",
				      "team %s: a member GitHub did not list is left out", slug);
			continue;
		}
		if (rc == GA_OK)
			rc = edge_node_string(edge, "login", inner, &login, err);
		if (rc != GA_OK)
			return rc;
		org_input_team_add_member(&collect->input->teams[team], login);
	}
	return GA_OK;
}

static enum ga_rc
take_team_repositories(struct gh_collect *collect, size_t team,
		       const struct connection *repositories, const char *where,
		       struct ga_err *err)
{
	char inner[WHERE_MAX];

	const char *slug = collect->input->teams[team].slug;

	if (repositories->items == NULL)
		gh_stats_null(collect->stats, "TeamRepositoryConnection.edges",
			      "team %s: a page of its repository grants is missing", slug);
	for (size_t i = 0; i < json_array_size(repositories->items); i++) {
		json_t *edge;
		const char *name;
		enum org_level level;
		enum ga_rc rc;

		where_printf(inner, "%s[%zu]", where, i);
		rc = item_object_or_null(repositories->items, i, where, &edge, err);
		if (rc == GA_OK && edge == NULL) {
			gh_stats_null(collect->stats, "TeamRepositoryConnection.edges[]",
				      "team %s: a repository grant GitHub did not list is left out",
				      slug);
			continue;
		}
		if (rc == GA_OK)
			rc = edge_level(edge, inner, &level, err);
		if (rc == GA_OK)
			rc = edge_node_string(edge, "name", inner, &name, err);
		if (rc != GA_OK)
			return rc;
		org_input_team_add_repository(&collect->input->teams[team], name, level);
	}
	return GA_OK;
}

/* The team's own fields; *index is where it went, or -1 for a duplicate. */
static enum ga_rc
take_team_fields(struct gh_collect *collect, const json_t *node, const char *where,
		 long *index, struct ga_err *err)
{
	long long id;
	const char *slug = NULL;
	const char *name = NULL;
	const char *parent_slug = NULL;
	json_t *parent = NULL;
	char inner[WHERE_MAX];
	struct org_input_team *team;
	enum ga_rc rc = gh_json_integer(node, "databaseId", true, &id, where, err);

	if (rc == GA_OK)
		rc = gh_json_string(node, "slug", false, &slug, where, err);
	if (rc == GA_OK)
		rc = gh_json_string(node, "name", false, &name, where, err);
	if (rc == GA_OK)
		rc = gh_json_object(node, "parentTeam", true, &parent, where, err);
	where_printf(inner, "%s.parentTeam", where);
	if (rc == GA_OK && parent != NULL)
		rc = gh_json_string(parent, "slug", false, &parent_slug, inner, err);
	*index = -1;
	if (rc != GA_OK || ga_map_find(&collect->teams, slug, NULL))
		return rc;
	team = org_input_add_team(collect->input, id, slug, name, parent_slug);
	*index = (long)collect->input->team_count - 1;
	ga_map_insert(&collect->teams, team->slug, (size_t)*index);
	return GA_OK;
}

static enum ga_rc
take_team(struct gh_collect *collect, const json_t *node, const char *where,
	  struct ga_err *err)
{
	struct connection members = {.items = NULL};
	struct connection repositories = {.items = NULL};
	char inner[WHERE_MAX];
	long index;
	enum ga_rc rc = take_team_fields(collect, node, where, &index, err);

	if (rc == GA_OK)
		rc = connection_member(node, "members", "edges", where, &members, err);
	if (rc == GA_OK)
		rc = connection_member(node, "repositories", "edges", where, &repositories, err);
	if (rc != GA_OK || index < 0)
		return rc;
	where_printf(inner, "%s.members.edges", where);
	rc = take_team_members(collect, (size_t)index, &members, inner, err);
	where_printf(inner, "%s.repositories.edges", where);
	if (rc == GA_OK)
		rc = take_team_repositories(collect, (size_t)index, &repositories, inner, err);
	if (rc != GA_OK)
		return rc;
	if (members.has_next)
		add_followup(collect, GH_FOLLOW_TEAM_MEMBERS, (size_t)index, members.end_cursor);
	if (repositories.has_next)
		add_followup(collect, GH_FOLLOW_TEAM_REPOSITORIES, (size_t)index,
			     repositories.end_cursor);
	return GA_OK;
}

enum ga_rc
gh_parse_teams_page(struct gh_collect *collect, const struct gh_graphql_reply *reply,
		    struct gh_page *page, struct ga_err *err)
{
	const char *what = "OrgTeams";
	struct connection teams = {.items = NULL};
	json_t *organization;
	char where[WHERE_MAX];
	enum ga_rc rc = refuse_errors(reply, what, err);

	if (rc == GA_OK)
		rc = data_object(reply, "organization", what, &organization, err);
	if (rc == GA_OK)
		rc = connection_member(organization, "teams", "nodes", "organization", &teams, err);
	if (rc == GA_OK && teams.items == NULL)
		gh_stats_null(collect->stats, "TeamConnection.nodes",
			      "a page of teams is missing: their members gain nothing through them "
			      "until a sync sees them");
	for (size_t i = 0; rc == GA_OK && i < json_array_size(teams.items); i++) {
		json_t *node;

		where_printf(where, "organization.teams.nodes[%zu]", i);
		rc = item_object_or_null(teams.items, i, "organization.teams.nodes", &node, err);
		if (rc == GA_OK && node == NULL)
			gh_stats_null(collect->stats, "TeamConnection.nodes[]",
				      "a team GitHub did not name is left out: its members gain "
				      "nothing through it (nor through it as a parent)");
		else if (rc == GA_OK)
			rc = take_team(collect, node, where, err);
	}
	if (rc == GA_OK)
		set_page(page, &teams);
	return rc;
}

/* ---- repositories --------------------------------------------------- */

/*
 * "organization.repositories.nodes[12].collaborators" with prefix
 * "organization.repositories.nodes" and field "collaborators" -> 12.
 */
static bool
match_node_path(const char *path, const char *prefix, const char *field, size_t *index)
{
	size_t prefix_len = strlen(prefix);
	const char *p = path + prefix_len;
	char *end;
	unsigned long long value;

	if (strncmp(path, prefix, prefix_len) != 0 || p[0] != '[' || p[1] < '0' || p[1] > '9')
		return false;
	value = strtoull(p + 1, &end, 10);
	if (end[0] != ']' || end[1] != '.' || strcmp(end + 2, field) != 0)
		return false;
	*index = (size_t)value;
	return true;
}

/*
 * The partial errors a repositories page may carry: FORBIDDEN on one
 * repository's collaborators or on its pyproject.toml.  Each marks its
 * node in flags; any other error fails the page.
 */
static enum ga_rc
absorb_repository_errors(const struct gh_graphql_reply *reply, unsigned char *flags,
			 size_t node_count, struct ga_err *err)
{
	const char *prefix = "organization.repositories.nodes";

	for (size_t i = 0; i < reply->error_count; i++) {
		const struct gh_graphql_error *error = &reply->errors[i];
		char description[GA_ERR_MESSAGE_MAX / 2];
		size_t node;

		if (strcmp(error->type, "FORBIDDEN") == 0 &&
		    match_node_path(error->path, prefix, "collaborators", &node) &&
		    node < node_count) {
			flags[node] |= NODE_COLLABORATORS_FORBIDDEN;
			continue;
		}
		if (strcmp(error->type, "FORBIDDEN") == 0 &&
		    match_node_path(error->path, prefix, "pyproject", &node) && node < node_count) {
			flags[node] |= NODE_PYPROJECT_FORBIDDEN;
			continue;
		}
		return ga_err_set(err, GA_EUPSTREAM, "OrgRepos: GitHub answered with an error: %s",
				  gh_graphql_describe_error(error, description,
							    sizeof(description)));
	}
	return GA_OK;
}

/* GitHub could not say what the file holds: the repository yields no package. */
static void
pyproject_undetermined(struct gh_collect *collect, struct org_input_repository *repository,
		       const char *field)
{
	repository->pyproject_state = ORG_PYPROJECT_UNDETERMINED;
	gh_stats_null(collect->stats, field,
		      "repository %s yields no package: GitHub could not read pyproject.toml",
		      repository->name);
}

/*
 * The "pyproject" alias: null (no such path), {} (not a file), or a Blob.
 * Blob.isBinary is null when GitHub cannot determine the encoding, and
 * text is null for a binary blob: a blob that is neither binary nor
 * truncated but has no text contradicts that, and is not guessed at.
 */
static enum ga_rc
take_pyproject(struct gh_collect *collect, struct org_input_repository *repository,
	       const json_t *node, bool forbidden, const char *where, struct ga_err *err)
{
	json_t *blob;
	json_t *text;
	json_t *binary;
	bool truncated;
	char inner[WHERE_MAX];
	enum ga_rc rc = gh_json_object(node, "pyproject", true, &blob, where, err);

	repository->pyproject_state = ORG_PYPROJECT_MISSING;
	if (rc != GA_OK)
		return rc;
	if (blob == NULL) {
		if (forbidden)
			repository->pyproject_state = ORG_PYPROJECT_UNREADABLE;
		return GA_OK;
	}
	if (json_object_size(blob) == 0)
		return GA_OK;	/* a directory named pyproject.toml */
	where_printf(inner, "%s.pyproject", where);
	binary = json_object_get(blob, "isBinary");
	if (binary == NULL || (!json_is_null(binary) && !json_is_boolean(binary)))
		return ga_err_set(err, GA_EUPSTREAM,
				  "malformed reply: %s.isBinary is not true, false or null", inner);
	rc = gh_json_bool(blob, "isTruncated", &truncated, inner, err);
	if (rc != GA_OK)
		return rc;
	text = json_object_get(blob, "text");
	if (text == NULL || (!json_is_null(text) && !json_is_string(text)))
		return ga_err_set(err, GA_EUPSTREAM, "malformed reply: %s.text is not a string or null",
				  inner);
	if (json_is_null(binary))
		pyproject_undetermined(collect, repository, "Blob.isBinary");
	else if (json_is_true(binary))
		repository->pyproject_state = ORG_PYPROJECT_BINARY;
	else if (truncated)
		repository->pyproject_state = ORG_PYPROJECT_TRUNCATED;
	else if (json_is_null(text))
		pyproject_undetermined(collect, repository, "Blob.text");
	else	/* the text may hold NUL bytes: the length is passed on */
		org_input_repository_set_pyproject(repository, json_string_value(text),
						   json_string_length(text));
	return GA_OK;
}

static void
clear_collaborators(struct org_input_repository *repository)
{
	for (size_t i = 0; i < repository->collaborator_count; i++)
		ga_free(repository->collaborators[i].name);
	ga_free(repository->collaborators);
	repository->collaborators = NULL;
	repository->collaborator_count = 0;
	repository->collaborators_known = false;
}

static void
collaborators_unknown(struct gh_collect *collect, size_t index, const char *why)
{
	struct org_input_repository *repository = &collect->input->repositories[index];

	clear_collaborators(repository);
	gh_stats_warn(collect->stats,
		      "repository %s: direct collaborators unknown (%s); only team grants and "
		      "the base permission apply",
		      repository->name, why);
}

static void
add_inferred(struct gh_collect *collect, size_t repository)
{
	if (collect->inferred_count == collect->inferred_cap) {
		collect->inferred_cap = collect->inferred_cap ? collect->inferred_cap * 2 : 16;
		collect->inferred = ga_reallocarray(collect->inferred, collect->inferred_cap,
						    sizeof(*collect->inferred));
	}
	collect->inferred[collect->inferred_count++] = (struct gh_inferred){
		.repository = repository,
		.collaborator = collect->input->repositories[repository].collaborator_count - 1,
	};
}

/*
 * One permissionSources entry: is its source the repository (databaseId
 * repository_id, or any Repository when that id is unknown), and if so the
 * level it grants: roleName for a built-in role, else permission (READ,
 * WRITE, ADMIN: a custom role's base role).
 */
static enum ga_rc
source_level(const json_t *entry, long long repository_id, const char *where, bool *direct,
	     enum org_level *level, struct ga_err *err)
{
	json_t *source;
	const char *typename = NULL;
	const char *permission = NULL;
	const char *role = NULL;
	long long id = 0;
	char inner[WHERE_MAX];
	enum ga_rc rc = gh_json_object(entry, "source", false, &source, where, err);

	*direct = false;
	where_printf(inner, "%s.source", where);
	if (rc == GA_OK)
		rc = gh_json_string(source, "__typename", false, &typename, inner, err);
	if (rc != GA_OK || strcmp(typename, "Repository") != 0)
		return rc;
	rc = gh_json_integer(source, "databaseId", true, &id, inner, err);
	if (rc == GA_OK)
		rc = gh_json_string(entry, "permission", false, &permission, where, err);
	if (rc == GA_OK)
		rc = gh_json_string(entry, "roleName", true, &role, where, err);
	if (rc != GA_OK || (repository_id > 0 && id > 0 && id != repository_id))
		return rc;
	if (role != NULL && org_level_parse(role, level) && *level != ORG_LEVEL_NONE) {
		*direct = true;
		return GA_OK;
	}
	/* DefaultRepositoryPermissionField: NONE, READ, WRITE, ADMIN. */
	if (!org_level_parse(permission, level) || *level == ORG_LEVEL_TRIAGE ||
	    *level == ORG_LEVEL_MAINTAIN)
		return ga_err_set(err, GA_EUPSTREAM, "malformed reply: %s.permission: unknown value %.40s",
				  where, permission);
	*direct = *level != ORG_LEVEL_NONE;
	return GA_OK;
}

/*
 * The direct grant of an edge from its permissionSources; *known false when
 * GitHub did not say (not asked, null, or no entry for this repository).
 */
static enum ga_rc
edge_direct_level(struct gh_collect *collect, size_t index, const json_t *edge,
		  const char *login, const char *where, bool *known, enum org_level *level,
		  struct ga_err *err)
{
	const struct org_input_repository *repository = &collect->input->repositories[index];
	json_t *sources = json_object_get(edge, "permissionSources");
	char list[WHERE_MAX];
	char inner[WHERE_MAX];

	*known = false;
	if (!collect->sources_asked)
		return GA_OK;
	if (sources == NULL)
		return ga_err_set(err, GA_EUPSTREAM, "malformed reply: %s.permissionSources is missing",
				  where);
	if (json_is_null(sources)) {
		gh_stats_null(collect->stats, "RepositoryCollaboratorEdge.permissionSources",
			      "repository %s: GitHub did not say where %s's permission comes from; "
			      "the direct grant is inferred", repository->name, login);
		return GA_OK;
	}
	if (!json_is_array(sources))
		return ga_err_set(err, GA_EUPSTREAM,
				  "malformed reply: %s.permissionSources is not a list", where);
	for (size_t i = 0; i < json_array_size(sources); i++) {
		json_t *entry;
		enum ga_rc rc;

		where_printf(list, "%s.permissionSources", where);
		where_printf(inner, "%s[%zu]", list, i);
		rc = item_object(sources, i, list, &entry, err);
		if (rc == GA_OK)
			rc = source_level(entry, repository->id, inner, known, level, err);
		if (rc != GA_OK || *known)
			return rc;
	}
	gh_stats_warn(collect->stats, "repository %s: GitHub lists %s as a direct collaborator "
		      "without a direct grant among the permission sources; the direct grant is "
		      "inferred", repository->name, login);
	return GA_OK;
}

/*
 * The edges of a collaborators page.  An edge's permission is the highest
 * after every source; the direct grant is the repository's own entry in
 * permissionSources, or inferred after the sync (gh_direct.c).
 */
static enum ga_rc
take_collaborators(struct gh_collect *collect, size_t index, const struct connection *edges,
		   const char *where, struct ga_err *err)
{
	char inner[WHERE_MAX];

	for (size_t i = 0; i < json_array_size(edges->items); i++) {
		json_t *edge;
		const char *login;
		enum org_level highest;
		enum org_level direct = ORG_LEVEL_NONE;
		bool known = false;
		enum ga_rc rc;

		where_printf(inner, "%s[%zu]", where, i);
		rc = item_object_or_null(edges->items, i, where, &edge, err);
		if (rc == GA_OK && edge == NULL) {
			gh_stats_null(collect->stats, "RepositoryCollaboratorConnection.edges[]",
				      "repository %s: a direct collaborator GitHub did not list is "
				      "left out", collect->input->repositories[index].name);
			continue;
		}
		if (rc == GA_OK)
			rc = edge_level(edge, inner, &highest, err);
		if (rc == GA_OK)
			rc = edge_node_string(edge, "login", inner, &login, err);
		if (rc == GA_OK)
			rc = edge_direct_level(collect, index, edge, login, inner, &known, &direct,
					       err);
		if (rc != GA_OK)
			return rc;
		org_input_repository_add_collaborator(&collect->input->repositories[index], login,
						      known ? direct : highest);
		if (!known)
			add_inferred(collect, index);
	}
	return GA_OK;
}

/* The collaborators connection of a node (null when forbidden). */
static enum ga_rc
take_repository_collaborators(struct gh_collect *collect, size_t index, const json_t *node,
			      bool forbidden, const char *where, struct ga_err *err)
{
	json_t *collaborators;
	struct connection edges = {.items = NULL};
	char inner[WHERE_MAX];
	enum ga_rc rc = gh_json_object(node, "collaborators", true, &collaborators, where, err);

	if (rc != GA_OK)
		return rc;
	if (collaborators == NULL) {
		collaborators_unknown(collect, index,
				      forbidden ? "FORBIDDEN: the token may not list them"
						: "GitHub returned none");
		return GA_OK;
	}
	where_printf(inner, "%s.collaborators", where);
	rc = parse_connection(collaborators, "edges", inner, &edges, err);
	if (rc == GA_OK && edges.items == NULL) {
		collaborators_unknown(collect, index, "GitHub answered null for the list");
		collect->stats->nulls++;
		return GA_OK;
	}
	where_printf(inner, "%s.collaborators.edges", where);
	if (rc == GA_OK)
		rc = take_collaborators(collect, index, &edges, inner, err);
	if (rc == GA_OK && edges.has_next)
		add_followup(collect, GH_FOLLOW_COLLABORATORS, index, edges.end_cursor);
	return rc;
}

/* isFork, isTemplate and a fork's parent (null when GitHub does not show it). */
static enum ga_rc
take_origin(struct org_input_repository *repository, const json_t *node, const char *where,
	    struct ga_err *err)
{
	bool fork;
	json_t *parent = NULL;
	const char *parent_name = NULL;
	char inner[WHERE_MAX];
	enum ga_rc rc = gh_json_bool(node, "isFork", &fork, where, err);

	if (rc == GA_OK)
		rc = gh_json_bool(node, "isTemplate", &repository->is_template, where, err);
	if (rc == GA_OK)
		rc = gh_json_object(node, "parent", true, &parent, where, err);
	where_printf(inner, "%s.parent", where);
	if (rc == GA_OK && parent != NULL)
		rc = gh_json_string(parent, "nameWithOwner", false, &parent_name, inner, err);
	if (rc == GA_OK)
		org_input_repository_set_fork(repository, fork, parent_name);
	return rc;
}

static enum ga_rc
take_repository(struct gh_collect *collect, const json_t *node, unsigned flags,
		const char *where, struct ga_err *err)
{
	long long id;
	const char *name = NULL;
	bool archived;
	bool disabled;
	struct org_input_repository *repository;
	size_t index;
	enum ga_rc rc = gh_json_integer(node, "databaseId", true, &id, where, err);

	if (rc == GA_OK)
		rc = gh_json_string(node, "name", false, &name, where, err);
	if (rc == GA_OK)
		rc = gh_json_bool(node, "isArchived", &archived, where, err);
	if (rc == GA_OK)
		rc = gh_json_bool(node, "isDisabled", &disabled, where, err);
	if (rc != GA_OK || ga_map_find(&collect->repositories, name, NULL))
		return rc;
	repository = org_input_add_repository(collect->input, id, name, archived, disabled);
	repository->collaborators_known = true;
	index = collect->input->repository_count - 1;
	ga_map_insert(&collect->repositories, repository->name, index);
	/* id 0: the snapshot lets neither it nor a namesake have the package. */
	if (json_is_null(json_object_get(node, "databaseId")))
		gh_stats_null(collect->stats, "Repository.databaseId",
			      "repository %s yields no package, and neither does another "
			      "declaring the same name: its age cannot settle the conflict", name);
	rc = take_origin(repository, node, where, err);
	if (rc == GA_OK)
		rc = take_pyproject(collect, repository, node, flags & NODE_PYPROJECT_FORBIDDEN, where,
				    err);
	if (rc == GA_OK && repository->pyproject_state == ORG_PYPROJECT_UNREADABLE)
		gh_stats_warn(collect->stats, "repository %s: pyproject.toml not readable by the token",
			      repository->name);
	if (rc == GA_OK)
		rc = take_repository_collaborators(collect, index, node,
						   flags & NODE_COLLABORATORS_FORBIDDEN, where, err);
	return rc;
}

/* A repository GitHub answered null for: nothing is known of it, not even
 * the name it may declare, so no name may fall back to another index. */
static void
repository_unnamed(struct gh_collect *collect, const char *field, const char *what)
{
	collect->input->unnamed_repositories++;
	gh_stats_null(collect->stats, field,
		      "%s: no package name falls back to another index until a sync sees %s",
		      what, strcmp(field, "RepositoryConnection.nodes") == 0 ? "them" : "it");
}

enum ga_rc
gh_parse_repositories_page(struct gh_collect *collect, const struct gh_graphql_reply *reply,
			   struct gh_page *page, struct ga_err *err)
{
	const char *what = "OrgRepos";
	struct connection repositories = {.items = NULL};
	json_t *organization;
	unsigned char *flags = NULL;
	size_t count = 0;
	char where[WHERE_MAX];
	enum ga_rc rc = data_object(reply, "organization", what, &organization, err);

	if (rc == GA_OK)
		rc = connection_member(organization, "repositories", "nodes", "organization",
				       &repositories, err);
	if (rc == GA_OK && repositories.items == NULL)
		repository_unnamed(collect, "RepositoryConnection.nodes",
				   "a page of repositories is missing");
	if (rc == GA_OK) {
		count = json_array_size(repositories.items);
		flags = ga_calloc(count ? count : 1, 1);
		rc = absorb_repository_errors(reply, flags, count, err);
	}
	for (size_t i = 0; rc == GA_OK && i < count; i++) {
		json_t *node;

		where_printf(where, "organization.repositories.nodes[%zu]", i);
		rc = item_object_or_null(repositories.items, i, "organization.repositories.nodes",
					 &node, err);
		if (rc == GA_OK && node == NULL)
			repository_unnamed(collect, "RepositoryConnection.nodes[]",
					   "a repository GitHub did not name is left out");
		else if (rc == GA_OK)
			rc = take_repository(collect, node, flags[i], where, err);
	}
	ga_free(flags);
	if (rc == GA_OK)
		set_page(page, &repositories);
	return rc;
}

/*
 * data.repository of a Repository query (gh_sync_targeted): one node as
 * OrgRepos has them, whose partial errors are FORBIDDEN on
 * repository.collaborators or repository.pyproject.  null (no such
 * repository, or not visible to the token) is an error: the caller falls
 * back to a full sync rather than guess.
 */
enum ga_rc
gh_parse_repository(struct gh_collect *collect, const struct gh_graphql_reply *reply,
		    struct ga_err *err)
{
	const char *what = "Repository";
	unsigned flags = 0;
	json_t *node;
	enum ga_rc rc;

	for (size_t i = 0; i < reply->error_count; i++) {
		const struct gh_graphql_error *error = &reply->errors[i];
		char description[GA_ERR_MESSAGE_MAX / 2];

		if (strcmp(error->type, "FORBIDDEN") == 0 &&
		    strcmp(error->path, "repository.collaborators") == 0)
			flags |= NODE_COLLABORATORS_FORBIDDEN;
		else if (strcmp(error->type, "FORBIDDEN") == 0 &&
			 strcmp(error->path, "repository.pyproject") == 0)
			flags |= NODE_PYPROJECT_FORBIDDEN;
		else
			return ga_err_set(err, GA_EUPSTREAM, "%s: GitHub answered with an error: %s",
					  what, gh_graphql_describe_error(error, description,
									  sizeof(description)));
	}
	rc = data_object(reply, "repository", what, &node, err);
	if (rc == GA_OK)
		rc = take_repository(collect, node, flags, "repository", err);
	return rc;
}

/* ---- follow-up pages ------------------------------------------------ */

/* data.organization.team, which must exist. */
static enum ga_rc
followup_team(const struct gh_graphql_reply *reply, const char *what, json_t **team,
	      struct ga_err *err)
{
	json_t *organization;
	enum ga_rc rc = refuse_errors(reply, what, err);

	if (rc == GA_OK)
		rc = data_object(reply, "organization", what, &organization, err);
	if (rc == GA_OK)
		rc = gh_json_object(organization, "team", true, team, "data.organization", err);
	if (rc == GA_OK && *team == NULL)
		rc = ga_err_set(err, GA_EUPSTREAM, "%s: the team disappeared during the sync", what);
	return rc;
}

enum ga_rc
gh_parse_team_members_page(struct gh_collect *collect, size_t team,
			   const struct gh_graphql_reply *reply, struct gh_page *page,
			   struct ga_err *err)
{
	json_t *node;
	struct connection members = {.items = NULL};
	enum ga_rc rc = followup_team(reply, "TeamMembers", &node, err);

	if (rc == GA_OK)
		rc = connection_member(node, "members", "edges", "organization.team", &members,
				       err);
	if (rc == GA_OK)
		rc = take_team_members(collect, team, &members, "organization.team.members.edges",
				       err);
	if (rc == GA_OK)
		set_page(page, &members);
	return rc;
}

enum ga_rc
gh_parse_team_repositories_page(struct gh_collect *collect, size_t team,
				const struct gh_graphql_reply *reply, struct gh_page *page,
				struct ga_err *err)
{
	json_t *node;
	struct connection repositories = {.items = NULL};
	enum ga_rc rc = followup_team(reply, "TeamRepositories", &node, err);

	if (rc == GA_OK)
		rc = connection_member(node, "repositories", "edges", "organization.team",
				       &repositories, err);
	if (rc == GA_OK)
		rc = take_team_repositories(collect, team, &repositories,
					    "organization.team.repositories.edges", err);
	if (rc == GA_OK)
		set_page(page, &repositories);
	return rc;
}

enum ga_rc
gh_parse_collaborators_page(struct gh_collect *collect, size_t repository,
			    const struct gh_graphql_reply *reply, struct gh_page *page,
			    struct ga_err *err)
{
	const char *what = "RepositoryCollaborators";
	json_t *node;
	json_t *collaborators;
	struct connection edges = {.items = NULL};
	bool forbidden = reply->error_count == 1 &&
			 strcmp(reply->errors[0].type, "FORBIDDEN") == 0 &&
			 strcmp(reply->errors[0].path, "repository.collaborators") == 0;
	enum ga_rc rc = forbidden ? GA_OK : refuse_errors(reply, what, err);

	gh_page_clear(page);
	if (rc == GA_OK)
		rc = data_object(reply, "repository", what, &node, err);
	if (rc == GA_OK)
		rc = gh_json_object(node, "collaborators", true, &collaborators, "repository", err);
	if (rc != GA_OK)
		return rc;
	if (collaborators == NULL) {
		collaborators_unknown(collect, repository,
				      forbidden ? "FORBIDDEN on a later page" : "GitHub returned none");
		return GA_OK;
	}
	rc = parse_connection(collaborators, "edges", "repository.collaborators", &edges, err);
	if (rc == GA_OK && edges.items == NULL) {
		collaborators_unknown(collect, repository, "GitHub answered null for a later page");
		collect->stats->nulls++;
		gh_page_clear(page);
		return GA_OK;
	}
	if (rc == GA_OK)
		rc = take_collaborators(collect, repository, &edges,
					"repository.collaborators.edges", err);
	if (rc == GA_OK)
		set_page(page, &edges);
	return rc;
}

/* ---- REST ----------------------------------------------------------- */

enum ga_rc
gh_parse_org_rest(const char *body, size_t len, bool *known, enum org_level *level,
		  struct ga_err *err)
{
	json_t *root;
	json_t *permission;
	enum ga_rc rc = gh_json_parse(body, len, &root, "GET /orgs", err);

	*known = false;
	*level = ORG_LEVEL_NONE;
	if (rc != GA_OK)
		return rc;
	permission = json_object_get(root, "default_repository_permission");
	if (!json_is_object(root))
		rc = ga_err_set(err, GA_EUPSTREAM, "GET /orgs: reply is not a JSON object");
	else if (permission != NULL && !json_is_null(permission) &&
		 (!json_is_string(permission) ||
		  !org_level_parse(json_string_value(permission), level) ||
		  *level == ORG_LEVEL_TRIAGE || *level == ORG_LEVEL_MAINTAIN))
		rc = ga_err_set(err, GA_EUPSTREAM,
				"GET /orgs: default_repository_permission is not none, read, "
				"write or admin");
	else
		*known = permission != NULL && !json_is_null(permission);
	if (!*known)
		*level = ORG_LEVEL_NONE;
	json_decref(root);
	return rc;
}

enum ga_rc
gh_parse_org_id(const char *body, size_t len, long long *id, struct ga_err *err)
{
	json_t *root;
	json_t *value;
	enum ga_rc rc = gh_json_parse(body, len, &root, "GET /orgs", err);

	*id = 0;
	if (rc != GA_OK)
		return rc;
	value = json_object_get(root, "id");
	if (json_is_integer(value) && json_integer_value(value) > 0)
		*id = json_integer_value(value);
	json_decref(root);
	return GA_OK;
}

enum ga_rc
gh_parse_user_rest(const char *body, size_t len, char **login, long long *id,
		   struct ga_err *err)
{
	json_t *root;
	const char *text;
	enum ga_rc rc = gh_json_parse(body, len, &root, "GET /user", err);

	*login = NULL;
	*id = 0;
	if (rc != GA_OK)
		return rc;
	if (!json_is_object(root))
		rc = ga_err_set(err, GA_EUPSTREAM, "GET /user: reply is not a JSON object");
	if (rc == GA_OK)
		rc = gh_json_string(root, "login", false, &text, "GET /user", err);
	if (rc == GA_OK)
		rc = gh_json_integer(root, "id", false, id, "GET /user", err);
	if (rc == GA_OK)
		*login = ga_strdup(text);
	json_decref(root);
	return rc;
}

/*
 * An organization membership reply: *root the parsed object (json_decref,
 * also on failure), *active when its state is "active" and its
 * organization is org (a membership of another organization is none of
 * this one's).
 */
static enum ga_rc
membership_state(const char *body, size_t len, const char *org, const char *what, json_t **root,
		 bool *active, struct ga_err *err)
{
	json_t *organization = NULL;
	const char *state = NULL;
	const char *login = NULL;
	enum ga_rc rc = gh_json_parse(body, len, root, what, err);

	*active = false;
	if (rc != GA_OK)
		return rc;
	if (!json_is_object(*root))
		rc = ga_err_set(err, GA_EUPSTREAM, "%s: reply is not a JSON object", what);
	if (rc == GA_OK)
		rc = gh_json_string(*root, "state", false, &state, what, err);
	if (rc == GA_OK)
		rc = gh_json_object(*root, "organization", false, &organization, what, err);
	if (rc == GA_OK)
		rc = gh_json_string(organization, "login", false, &login, what, err);
	if (rc == GA_OK)
		*active = strcmp(state, "active") == 0 && strcasecmp(login, org) == 0;
	return rc;
}

enum ga_rc
gh_parse_membership_rest(const char *body, size_t len, const char *org, bool *active,
			 struct ga_err *err)
{
	static const char what[] = "GET /user/memberships/orgs";
	json_t *root = NULL;
	enum ga_rc rc = membership_state(body, len, org, what, &root, active, err);

	json_decref(root);
	return rc;
}

/* The user object of an organization membership: its login must be the one asked about. */
static enum ga_rc
membership_user(const json_t *root, const char *login, long long *id, const char *what,
		struct ga_err *err)
{
	json_t *user = NULL;
	const char *user_login = NULL;
	enum ga_rc rc = gh_json_object(root, "user", false, &user, what, err);

	if (rc == GA_OK)
		rc = gh_json_string(user, "login", false, &user_login, what, err);
	if (rc == GA_OK)
		rc = gh_json_integer(user, "id", false, id, what, err);
	if (rc == GA_OK && strcasecmp(user_login, login) != 0)
		rc = ga_err_set(err, GA_EUPSTREAM, "%s: the membership of another user", what);
	return rc;
}

enum ga_rc
gh_parse_org_membership_rest(const char *body, size_t len, const char *org, const char *login,
			     bool *active, bool *is_owner, long long *id, struct ga_err *err)
{
	static const char what[] = "GET /orgs/{org}/memberships/{username}";
	json_t *root = NULL;
	const char *role = NULL;
	enum ga_rc rc = membership_state(body, len, org, what, &root, active, err);

	*is_owner = false;
	*id = 0;
	if (rc == GA_OK)
		rc = gh_json_string(root, "role", false, &role, what, err);
	if (rc == GA_OK)
		rc = membership_user(root, login, id, what, err);
	/* "admin" is an owner; anything else ("member", "billing_manager") is not. */
	if (rc == GA_OK)
		*is_owner = *active && strcmp(role, "admin") == 0;
	else
		*active = false;
	json_decref(root);
	return rc;
}

bool
gh_parse_sso_header(const char *value, char *url, size_t size)
{
	const char *at = value;
	size_t word;

	url[0] = '\0';
	at += strspn(at, " \t");
	word = strcspn(at, "; \t");
	if (word != strlen("required") || strncasecmp(at, "required", word) != 0)
		return false;
	/* Parameters: "; name=value", the URL up to the next ';'. */
	for (at += word; *at != '\0';) {
		size_t len;

		at += strspn(at, " \t;");
		len = strcspn(at, ";");
		while (len > 0 && (at[len - 1] == ' ' || at[len - 1] == '\t'))
			len--;
		if (len > 4 && strncasecmp(at, "url=", 4) == 0) {
			const char *text = at + 4;
			size_t text_len = len - 4;

			if (text_len >= size ||
			    (strncasecmp(text, "https://", 8) != 0 && strncasecmp(text, "http://", 7) != 0))
				return false;
			for (size_t i = 0; i < text_len; i++)
				if ((unsigned char)text[i] <= 0x20 || (unsigned char)text[i] >= 0x7f)
					return false;
			memcpy(url, text, text_len);
			url[text_len] = '\0';
			return true;
		}
		at += strcspn(at, ";");
	}
	return false;
}
