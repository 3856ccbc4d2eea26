/*
 * service_webhook_classify.c - what a webhook delivery means for ghaccess;
 * see service_webhook.h.
 *
 * The payload shapes are GitHub's published ones ("Webhook events and
 * payloads", and the schemas of @octokit/webhooks): where a payload cannot
 * state what is needed, the removal is not applied early and the refresh
 * brings it; where it states a change that only lowers access, that is
 * what is applied.
 */
#include "service/service_webhook.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "org/org_names.h"

/* root.a.b... as a string, NULL when any step is missing or not that type. */
static const char *
string_at(const json_t *root, const char *first, const char *second, const char *third)
{
	const json_t *value = json_object_get(root, first);

	if (second != NULL)
		value = json_object_get(value, second);
	if (third != NULL)
		value = json_object_get(value, third);
	return json_string_value(value);
}

static bool
copy_login(char *out, size_t size, const char *login)
{
	out[0] = '\0';
	if (login == NULL || !org_is_valid_login(login, strlen(login)) || strlen(login) >= size)
		return false;
	snprintf(out, size, "%s", login);
	return true;
}

bool
service_webhook_name_is_valid(const char *name, size_t size)
{
	size_t len = name != NULL ? strlen(name) : 0;

	if (len == 0 || len >= size)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

/* Team slugs and repository names: GitHub's characters only, so that a name
 * from a payload can go into a log line and a comparison as it is. */
static bool
copy_name(char *out, size_t size, const char *name)
{
	out[0] = '\0';
	if (!service_webhook_name_is_valid(name, size))
		return false;
	snprintf(out, size, "%s", name);
	return true;
}

static void
copy_token(char *out, size_t size, const char *text)
{
	size_t i = 0;

	for (; text != NULL && text[i] != '\0' && i + 1 < size; i++) {
		char c = text[i];
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';

		out[i] = plain ? c : '?';
	}
	out[i] = '\0';
}

static void
set_removal(struct service_webhook_event *out, enum service_webhook_removal_kind kind,
	    bool complete)
{
	/* A removal whose names are missing or invalid is not applied; the
	 * refresh brings it. */
	out->removal.kind = complete ? kind : SERVICE_WEBHOOK_REMOVE_NONE;
}

/*
 * A targeted read of what the payload names replaces the full refresh
 * (service_targeted.c): it brings grants as well as removals, at a point
 * or two.  A name that is missing or not GitHub's characters (a login
 * for a member) keeps the full refresh.
 */
static void
set_target(struct service_webhook_event *out, enum service_targeted_kind kind, const char *name)
{
	bool valid = kind == SERVICE_TARGETED_MEMBER
			     ? copy_login(out->target.name, sizeof(out->target.name), name)
			     : copy_name(out->target.name, sizeof(out->target.name), name);

	out->target.kind = valid ? kind : SERVICE_TARGETED_NONE;
	if (valid)
		out->refresh = false;
}

static void
classify_organization(const json_t *root, struct service_webhook_event *out)
{
	const char *login = string_at(root, "membership", "user", "login");

	out->refresh = true;
	if (strcmp(out->action, "member_removed") == 0) {
		out->reason = "member removed from the organization";
		set_removal(out, SERVICE_WEBHOOK_REMOVE_MEMBER,
			    copy_login(out->removal.login, sizeof(out->removal.login), login));
		set_target(out, SERVICE_TARGETED_MEMBER, login);
	} else if (strcmp(out->action, "member_added") == 0) {
		/* The membership as GitHub has it now (the payload grants
		 * nothing): the login and the base permission within seconds.
		 * A member added back may have teams reinstated, which one read
		 * cannot see: the full sync comes too.  It does not cancel a
		 * pending removal of his teams: a sync that started after the
		 * removal does, and a replayed member_added must not. */
		out->reason = "member added to the organization";
		set_target(out, SERVICE_TARGETED_MEMBER, login);
		out->refresh = true;
	} else if (strcmp(out->action, "member_invited") == 0) {
		/* An invitation grants nothing until accepted (member_added). */
		out->refresh = false;
		out->reason = "invitation only";
	} else {
		out->reason = "organization changed";
	}
}

static void
classify_membership(const json_t *root, struct service_webhook_event *out)
{
	const char *scope = string_at(root, "scope", NULL, NULL);

	out->refresh = true;
	out->reason = "team membership changed";
	if (strcmp(out->action, "removed") == 0 && (scope == NULL || strcmp(scope, "team") == 0)) {
		bool complete = copy_login(out->removal.login, sizeof(out->removal.login),
					   string_at(root, "member", "login", NULL)) &&
				copy_name(out->removal.team, sizeof(out->removal.team),
					  string_at(root, "team", "slug", NULL));

		out->reason = "member removed from a team";
		set_removal(out, SERVICE_WEBHOOK_REMOVE_TEAM_MEMBER, complete);
	}
	/* Added or removed, the team's members as GitHub has them now. */
	if (scope == NULL || strcmp(scope, "team") == 0)
		set_target(out, SERVICE_TARGETED_TEAM_MEMBERS, string_at(root, "team", "slug", NULL));
}

/*
 * The highest role of a repository object's "permissions" flags (in team
 * events, the team's permission after the change); NONE when there are
 * none to read, which fails closed until the sync.
 */
static enum org_level
level_of_flags(const json_t *permissions)
{
	static const struct {
		const char *flag;
		enum org_level level;
	} flags[] = {
		{"admin", ORG_LEVEL_ADMIN}, {"maintain", ORG_LEVEL_MAINTAIN},
		{"push", ORG_LEVEL_WRITE}, {"triage", ORG_LEVEL_TRIAGE}, {"pull", ORG_LEVEL_READ},
	};

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (json_is_true(json_object_get(permissions, flags[i].flag)))
			return flags[i].level;
	return ORG_LEVEL_NONE;
}

/*
 * GitHub's team.edited schema has no parent change, but every team event
 * carries the team with its parent as it is now.  A team whose parent is
 * not the one the snapshot holds leaves that parent at once (the members
 * lose what it granted); a new parent's grants wait for the sync.  A
 * payload without team.parent, or with one that has no usable slug, says
 * nothing.
 */
static void
classify_team_parent(const json_t *root, struct service_webhook_event *out, bool complete)
{
	const json_t *parent = json_object_get(json_object_get(root, "team"), "parent");

	if (parent == NULL)
		return;
	if (!json_is_null(parent) &&
	    !copy_name(out->removal.parent, sizeof(out->removal.parent),
		       string_at(parent, "slug", NULL, NULL)))
		return;
	out->reason = "team edited: it keeps only the parent GitHub states";
	set_removal(out, SERVICE_WEBHOOK_DETACH_TEAM, complete);
}

static void
classify_team(const json_t *root, struct service_webhook_event *out)
{
	bool complete = copy_name(out->removal.team, sizeof(out->removal.team),
				  string_at(root, "team", "slug", NULL));

	out->refresh = true;
	out->reason = "team changed";
	if (strcmp(out->action, "deleted") == 0) {
		out->reason = "team deleted";
		set_removal(out, SERVICE_WEBHOOK_REMOVE_TEAM, complete);
	} else if (strcmp(out->action, "removed_from_repository") == 0) {
		complete = complete && copy_name(out->removal.repository,
						 sizeof(out->removal.repository),
						 string_at(root, "repository", "name", NULL));
		out->reason = "team removed from a repository";
		set_removal(out, SERVICE_WEBHOOK_REMOVE_TEAM_GRANT, complete);
	} else if (strcmp(out->action, "edited") == 0 &&
		   json_object_get(json_object_get(root, "changes"), "repository") != NULL) {
		/* changes.repository.permissions.from is the old permission;
		 * repository.permissions the team's permission now. */
		complete = complete && copy_name(out->removal.repository,
						 sizeof(out->removal.repository),
						 string_at(root, "repository", "name", NULL));
		out->removal.level = level_of_flags(
			json_object_get(json_object_get(root, "repository"), "permissions"));
		out->reason = "team's permission on a repository changed";
		set_removal(out, SERVICE_WEBHOOK_LOWER_TEAM_GRANT, complete);
	} else if (strcmp(out->action, "edited") == 0) {
		classify_team_parent(root, out, complete);
	}
	/* A grant added, removed or changed: the team's grants now.  (Created,
	 * deleted, a parent changed: the full refresh.) */
	if (strcmp(out->action, "added_to_repository") == 0 ||
	    strcmp(out->action, "removed_from_repository") == 0 ||
	    (strcmp(out->action, "edited") == 0 &&
	     json_object_get(json_object_get(root, "changes"), "repository") != NULL))
		set_target(out, SERVICE_TARGETED_TEAM_REPOSITORIES,
			   string_at(root, "team", "slug", NULL));
}

static void
classify_member(const json_t *root, struct service_webhook_event *out)
{
	const char *role;
	bool complete;

	out->refresh = true;
	out->reason = "repository collaborator changed";
	/* Added, removed or edited: the repository's collaborators now. */
	set_target(out, SERVICE_TARGETED_REPOSITORY, string_at(root, "repository", "name", NULL));
	if (strcmp(out->action, "removed") != 0 && strcmp(out->action, "edited") != 0)
		return;
	complete = copy_login(out->removal.login, sizeof(out->removal.login),
			      string_at(root, "member", "login", NULL)) &&
		   copy_name(out->removal.repository, sizeof(out->removal.repository),
			     string_at(root, "repository", "name", NULL));
	if (strcmp(out->action, "removed") == 0) {
		out->reason = "collaborator removed from a repository";
		set_removal(out, SERVICE_WEBHOOK_REMOVE_COLLABORATOR, complete);
		return;
	}
	/* edited: changes.old_permission.from is required, the new role
	 * (changes.permission.to) may be null.  Without a readable new role
	 * the direct grant is taken away until the sync says what it is. */
	role = string_at(root, "changes", "permission", "to");
	if (role == NULL || !org_level_parse(role, &out->removal.level))
		out->removal.level = ORG_LEVEL_NONE;
	out->reason = "collaborator's role on a repository changed";
	set_removal(out, SERVICE_WEBHOOK_LOWER_COLLABORATOR, complete);
}

/*
 * "transferred" is sent only to the new owner (GitHub's "Webhook events and
 * payloads": repository): a repository that came in, whose grants wait for
 * the sync like any other.  A transfer out sends the organization nothing;
 * the periodic sync no longer finds the repository.
 */
static void
classify_repository(const json_t *root, struct service_webhook_event *out)
{
	bool complete = copy_name(out->removal.repository, sizeof(out->removal.repository),
				  string_at(root, "repository", "name", NULL));

	out->refresh = true;
	out->reason = "repository changed";
	if (strcmp(out->action, "deleted") == 0) {
		out->reason = "repository deleted";
		set_removal(out, SERVICE_WEBHOOK_REMOVE_REPOSITORY, complete);
	} else if (strcmp(out->action, "archived") == 0) {
		out->reason = "repository archived";
		set_removal(out, SERVICE_WEBHOOK_ARCHIVE, complete);
	}
	/* Created, renamed, transferred in, privatized, publicized, edited,
	 * (un)archived: the repository as GitHub has it now.  A deletion
	 * waits for the full refresh (a read would find nothing). */
	if (strcmp(out->action, "deleted") != 0)
		set_target(out, SERVICE_TARGETED_REPOSITORY,
			   string_at(root, "repository", "name", NULL));
}

/* true when some listed commit adds, removes or modifies the root pyproject.toml. */
static bool
commits_touch_pyproject(const json_t *commits)
{
	static const char *const lists[] = {"added", "removed", "modified"};
	const json_t *commit;
	size_t i;

	json_array_foreach(commits, i, commit) {
		for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
			const json_t *path;
			size_t j;

			json_array_foreach(json_object_get(commit, lists[l]), j, path)
				if (json_is_string(path) &&
				    strcmp(json_string_value(path), "pyproject.toml") == 0)
					return true;
		}
	}
	return false;
}

/*
 * Pushes are by far the most frequent event: only one to the default
 * branch that may change the root pyproject.toml is worth a sync.  When the
 * payload cannot tell (no commits listed, a forced push, a branch created
 * or deleted, a list at GitHub's 2048-commit cap), it is.
 */
static void
classify_push(const json_t *root, struct service_webhook_event *out)
{
	const char *ref = string_at(root, "ref", NULL, NULL);
	const char *branch = string_at(root, "repository", "default_branch", NULL);
	const json_t *commits = json_object_get(root, "commits");
	size_t count = json_array_size(commits);

	out->refresh = false;
	if (ref == NULL || branch == NULL || strncmp(ref, "refs/heads/", 11) != 0 ||
	    strcmp(ref + 11, branch) != 0) {
		out->reason = "push to another branch than the default";
		return;
	}
	out->refresh = true;
	out->reason = "push to the default branch";
	if (count > 0 && count < 2048 && !json_is_true(json_object_get(root, "forced")) &&
	    !json_is_true(json_object_get(root, "created")) &&
	    !json_is_true(json_object_get(root, "deleted")) && !commits_touch_pyproject(commits)) {
		out->refresh = false;
		out->reason = "push does not touch pyproject.toml";
		return;
	}
	/* It may have changed pyproject.toml: read the repository again. */
	set_target(out, SERVICE_TARGETED_REPOSITORY, string_at(root, "repository", "name", NULL));
}

static void
classify_by_event(const json_t *root, struct service_webhook_event *out)
{
	const char *event = out->event;

	if (strcmp(event, "organization") == 0)
		classify_organization(root, out);
	else if (strcmp(event, "membership") == 0)
		classify_membership(root, out);
	else if (strcmp(event, "team") == 0)
		classify_team(root, out);
	else if (strcmp(event, "member") == 0)
		classify_member(root, out);
	else if (strcmp(event, "repository") == 0)
		classify_repository(root, out);
	else if (strcmp(event, "push") == 0)
		classify_push(root, out);
	else if (strcmp(event, "installation") == 0 ||
		 strcmp(event, "installation_repositories") == 0) {
		/* The App's access changed: what the server can see may have too. */
		out->refresh = true;
		out->reason = "GitHub App installation changed";
	} else if (strcmp(event, "ping") == 0) {
		out->reason = "ping";
	} else {
		out->reason = "event not used by ghaccess";
	}
}

static void
event_clear(struct service_webhook_event *out, const char *event)
{
	memset(out, 0, sizeof(*out));
	out->refresh = false;
	out->in_scope = true;
	out->reason = "event not used by ghaccess";
	out->removal.kind = SERVICE_WEBHOOK_REMOVE_NONE;
	out->removal.level = ORG_LEVEL_NONE;
	out->target.kind = SERVICE_TARGETED_NONE;
	copy_token(out->event, sizeof(out->event), event);
}

/* The organization a payload is about: organization.login, or for the
 * App's installation events (which have none) installation.account.login. */
static const char *
organization_of(const json_t *root, const char *event)
{
	const char *login = string_at(root, "organization", "login", NULL);

	if (login == NULL && strncmp(event, "installation", strlen("installation")) == 0)
		login = string_at(root, "installation", "account", "login");
	return login;
}

enum ga_rc
service_webhook_classify(const char *event, const char *body, size_t len,
			 const char *organization, struct service_webhook_event *out,
			 struct ga_err *err)
{
	json_error_t error;
	json_t *root;
	const char *payload_org;

	event_clear(out, event);
	if (event == NULL || *event == '\0') {
		out->reason = "no X-GitHub-Event";
		return GA_OK;
	}
	root = json_loadb(body != NULL ? body : "", len, 0, &error);
	if (!json_is_object(root)) {
		json_decref(root);
		out->reason = "body is not a JSON object";
		return ga_err_set(err, GA_EPARSE, "webhook %s: body is not a JSON object", out->event);
	}
	copy_token(out->action, sizeof(out->action), string_at(root, "action", NULL, NULL));
	/* An organization webhook's payloads always name the organization; one
	 * that does not, or names another, changes nothing here. */
	payload_org = organization_of(root, out->event);
	if (payload_org == NULL) {
		out->in_scope = false;
		out->reason = "event without an organization";
	} else if (organization == NULL || strcasecmp(payload_org, organization) != 0) {
		out->in_scope = false;
		out->reason = "event of another organization";
	} else {
		classify_by_event(root, out);
	}
	json_decref(root);
	return GA_OK;
}

const char *
service_webhook_removal_name(enum service_webhook_removal_kind kind)
{
	switch (kind) {
	case SERVICE_WEBHOOK_REMOVE_NONE:
		return "none";
	case SERVICE_WEBHOOK_REMOVE_MEMBER:
		return "member";
	case SERVICE_WEBHOOK_REMOVE_TEAM_MEMBER:
		return "team member";
	case SERVICE_WEBHOOK_REMOVE_TEAM:
		return "team";
	case SERVICE_WEBHOOK_REMOVE_TEAM_GRANT:
		return "team grant";
	case SERVICE_WEBHOOK_REMOVE_COLLABORATOR:
		return "collaborator";
	case SERVICE_WEBHOOK_REMOVE_REPOSITORY:
		return "repository";
	case SERVICE_WEBHOOK_LOWER_TEAM_GRANT:
		return "team grant lowered";
	case SERVICE_WEBHOOK_LOWER_COLLABORATOR:
		return "collaborator lowered";
	case SERVICE_WEBHOOK_ARCHIVE:
		return "repository archived";
	case SERVICE_WEBHOOK_DETACH_TEAM:
		return "team parent";
	}
	return "unknown";
}
