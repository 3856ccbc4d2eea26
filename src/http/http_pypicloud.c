/* http_pypicloud.c - the pypicloud remote access protocol (docs/pypicloud.md). */
#include "http/http.h"

#include <string.h>

#include "http/http_json.h"
#include "http/http_query.h"
#include "org/org_policy.h"
#include "util/ga_buf.h"
#include "util/ga_xalloc.h"

/*
 * What pypicloud computes from our answers for user U and package P is the
 * union of U's entry in /user_permissions and the entries of U's
 * principals in /group_permissions.  The entries are chosen so that this
 * union is exactly the decision of docs/access-model.md section 4:
 *
 *   users   owners (admin level; read only when archived), then direct
 *           collaborators who are members (not owners again);
 *   groups  the members group (BASE_GROUP) with the base permission, then
 *           every team with a grant on the repository; a member gets the
 *           principal group:<g> for BASE_GROUP and for each of its teams
 *           and their ancestors (/groups), which carries a parent team's
 *           grant to child teams' members.
 *
 * The base permission is a group that lists every current member, not
 * pypicloud's "authenticated": pypicloud gives that principal to anyone
 * with a web session, and sessions never ask /verify again, so a member
 * who left would keep the base permission through an old session.  A
 * leaver is in no group at all.
 *
 * Names.  pypicloud turns each name of /groups?username= into the
 * principal "group:<name>", and each key of /group_permissions into a
 * principal with its group_to_principal.  So:
 *   - a team is named, in every answer (/groups, /group_members,
 *     /group_package_permissions, /user_data), by its key (slug or display
 *     name), except that a key starting with "ghaccess:" becomes
 *     "ghaccess:team:<key>": no team is ever named BASE_GROUP;
 *   - in /group_permissions a name that group_to_principal would read as a
 *     special principal (everyone, authenticated, system.*, group:*) is
 *     written "group:<name>", which is the principal of exactly that
 *     team's members.
 *
 * A known package always has an entry: when both lists would be empty,
 * BASE_GROUP: [] stops pypicloud's default_read.  The per-package answers
 * and the per-user / per-group inverses are all produced by the
 * enumerators below, so they agree by construction.
 *
 * Memory.  The owners head every /user_permissions answer, and in a large
 * organization they are most of it (2% of 30,000 members: 600 entries,
 * 27 kB, in each of 26,000 packages' answers: 700 MB).  So the view keeps
 * the owners' part once, in its two forms (read and write, or read only
 * when archived), and each answer is that part followed by the package's
 * own few collaborators, both copied into the answer per request (one
 * memcpy).  /group_permissions lists a few teams and is rendered per
 * request.  Nothing is kept per package.
 *
 * A reserved name (docs/access-model.md §2) is answered as a package that
 * only owners may use: the owners in /user_permissions and the guard
 * BASE_GROUP: [] in /group_permissions, never two empty objects.
 */

struct pypicloud_entry {
	const char *key;	/* login, or group key as written in /group_permissions */
	const char *name;	/* login, or group name as /groups gives it */
	bool read;
	bool write;
};

typedef void (*entry_fn)(void *context, const struct pypicloud_entry *entry);

/* The owners' entries that open every /user_permissions answer: "{" and
 * the entries, without the closing brace. */
struct owners_head {
	char *text;
	size_t len;
};

/* Derived once per snapshot (service_derivation). */
struct pypicloud_data {
	size_t team_count;
	char **team_names;		/* each team's name in /groups and the other answers */
	char **team_keys;		/* each team's key as written in /group_permissions */
	size_t package_count;
	size_t owner_count;
	struct owners_head owners_write;	/* owners with read and write */
	struct owners_head owners_read;		/* the same, read only (archived) */
	char *all_groups_body;
	struct MHD_Response *all_groups;
	char *reserved_users_body;	/* /user_permissions of a reserved name */
	struct MHD_Response *reserved_users;
};

/* The group of every current member, holding the base permission.  Its
 * prefix is reserved: a team key that starts with it is renamed. */
#define RESERVED_PREFIX "ghaccess:"
#define BASE_GROUP RESERVED_PREFIX "members"
#define RENAMED_TEAM_PREFIX RESERVED_PREFIX "team:"
/* A /group_permissions answer that grants nothing and is not empty. */
static const char guard_groups[] = "{\"" BASE_GROUP "\":[]}";

/* ---- names ----------------------------------------------------------- */

/* Keys pypicloud maps to something other than group:<key> (its
 * group_to_principal), and which must therefore be prefixed. */
static bool
is_special_principal(const char *key)
{
	return strcmp(key, "everyone") == 0 || strcmp(key, "authenticated") == 0 ||
	       strncmp(key, "group:", 6) == 0 || strncmp(key, "system.", 7) == 0;
}

static bool
has_prefix(const char *text, const char *prefix)
{
	return strncmp(text, prefix, strlen(prefix)) == 0;
}

/* A team's name in pypicloud's answers (new string). */
static char *
team_name(const char *key)
{
	return has_prefix(key, RESERVED_PREFIX) ? ga_asprintf(RENAMED_TEAM_PREFIX "%s", key)
						 : ga_strdup(key);
}

/* A name as written in /group_permissions (new string). */
static char *
written_key(const char *name)
{
	return is_special_principal(name) ? ga_asprintf("group:%s", name) : ga_strdup(name);
}

/* The team a name of our answers stands for, or -1 (BASE_GROUP too). */
static long
find_team(const struct org_snapshot *snapshot, const char *name)
{
	if (has_prefix(name, RENAMED_TEAM_PREFIX)) {
		name += strlen(RENAMED_TEAM_PREFIX);
		return has_prefix(name, RESERVED_PREFIX) ? org_snapshot_find_group(snapshot, name)
							 : -1;
	}
	return has_prefix(name, RESERVED_PREFIX) ? -1 : org_snapshot_find_group(snapshot, name);
}

/* ---- the entries of a package -------------------------------------- */

static size_t
for_each_owner_entry(const struct org_snapshot *snapshot, bool archived, entry_fn fn,
		     void *context)
{
	size_t owner_count = 0;
	const long *owners = org_snapshot_owners(snapshot, &owner_count);
	struct pypicloud_entry entry;

	for (size_t i = 0; i < owner_count; i++) {
		entry.key = entry.name = org_snapshot_member_login(snapshot, owners[i]);
		entry.read = true;
		entry.write = !archived;
		fn(context, &entry);
	}
	return owner_count;
}

/* Direct collaborators who are members, owners left out (they come first). */
static size_t
for_each_collaborator_entry(const struct org_snapshot *snapshot, long package, entry_fn fn,
			    void *context)
{
	bool archived = org_snapshot_package_archived(snapshot, package);
	size_t grant_count = 0, count = 0;
	const struct org_package_grant *grants =
		org_snapshot_package_member_grants(snapshot, package, &grant_count);
	struct pypicloud_entry entry;

	for (size_t i = 0; i < grant_count; i++) {
		long member = grants[i].index;

		/* One key per user: a repeated key would let the last win. */
		if (org_snapshot_member_is_owner(snapshot, member) ||
		    (i > 0 && grants[i - 1].index == member))
			continue;
		org_level_permissions(grants[i].level, &entry.read, &entry.write);
		if (!entry.read)
			continue;
		entry.key = entry.name = org_snapshot_member_login(snapshot, member);
		entry.write = entry.write && !archived;
		fn(context, &entry);
		count++;
	}
	return count;
}

static size_t
for_each_user_entry(const struct org_snapshot *snapshot, long package, entry_fn fn,
		    void *context)
{
	return for_each_owner_entry(snapshot, org_snapshot_package_archived(snapshot, package),
				    fn, context) +
	       for_each_collaborator_entry(snapshot, package, fn, context);
}

static void
count_entry(void *context, const struct pypicloud_entry *entry)
{
	(void)entry;
	(*(size_t *)context)++;
}

static void
for_each_group_entry(const struct org_snapshot *snapshot, const struct pypicloud_data *data,
		     long package, entry_fn fn, void *context)
{
	bool archived = org_snapshot_package_archived(snapshot, package);
	size_t grant_count = 0, count = 0, users = 0;
	const struct org_package_grant *grants =
		org_snapshot_package_team_grants(snapshot, package, &grant_count);
	struct pypicloud_entry entry;

	org_level_permissions(org_snapshot_base_permission(snapshot), &entry.read, &entry.write);
	if (entry.read) {
		entry.key = entry.name = BASE_GROUP;
		entry.write = entry.write && !archived;
		fn(context, &entry);
		count++;
	}
	for (size_t i = 0; i < grant_count; i++) {
		long team = grants[i].index;

		if ((i > 0 && grants[i - 1].index == team) || team < 0 ||
		    (size_t)team >= data->team_count)
			continue;
		org_level_permissions(grants[i].level, &entry.read, &entry.write);
		if (!entry.read)
			continue;
		entry.key = data->team_keys[team];
		entry.name = data->team_names[team];
		entry.write = entry.write && !archived;
		fn(context, &entry);
		count++;
	}
	if (count == 0 && data->owner_count == 0 &&
	    for_each_collaborator_entry(snapshot, package, count_entry, &users) == 0) {
		/* Two empty objects would make pypicloud apply default_read. */
		entry.key = entry.name = BASE_GROUP;
		entry.read = entry.write = false;
		fn(context, &entry);
	}
}

/* ---- per-snapshot answers ------------------------------------------ */

struct object_writer {
	struct ga_buf *buf;
	bool first;
};

static void
write_entry(void *context, const struct pypicloud_entry *entry)
{
	struct object_writer *writer = context;

	if (!writer->first)
		ga_buf_append_char(writer->buf, ',');
	writer->first = false;
	http_json_string(writer->buf, entry->key);
	ga_buf_append_char(writer->buf, ':');
	http_json_permissions(writer->buf, entry->read, entry->write);
}

/* "{" and the owners' entries, for owners_head. */
static struct owners_head
owners_head(const struct org_snapshot *snapshot, bool archived)
{
	struct ga_buf buf;
	struct object_writer writer = { &buf, true };
	struct owners_head head;

	ga_buf_init(&buf, 0);
	ga_buf_append_char(&buf, '{');
	for_each_owner_entry(snapshot, archived, write_entry, &writer);
	head.len = buf.len;
	head.text = ga_buf_steal(&buf);
	return head;
}

static char *
all_groups_array(const struct pypicloud_data *data)
{
	struct ga_buf buf;

	ga_buf_init(&buf, 0);
	ga_buf_append_str(&buf, "[\"" BASE_GROUP "\"");
	for (size_t team = 0; team < data->team_count; team++) {
		ga_buf_append_char(&buf, ',');
		http_json_string(&buf, data->team_names[team]);
	}
	ga_buf_append_char(&buf, ']');
	return ga_buf_steal(&buf);
}

/* The owners with read and write: /user_permissions of every reserved name. */
static char *
reserved_users_object(const struct org_snapshot *snapshot)
{
	struct ga_buf buf;
	struct object_writer writer = { &buf, true };
	size_t count = 0;
	const long *owners = org_snapshot_owners(snapshot, &count);
	struct pypicloud_entry entry = { .read = true, .write = true };

	ga_buf_init(&buf, 0);
	ga_buf_append_char(&buf, '{');
	for (size_t i = 0; i < count; i++) {
		entry.key = org_snapshot_member_login(snapshot, owners[i]);
		write_entry(&writer, &entry);
	}
	ga_buf_append_char(&buf, '}');
	return ga_buf_steal(&buf);
}

static void
pypicloud_data_destroy(void *opaque)
{
	struct pypicloud_data *data = opaque;

	for (size_t i = 0; i < data->team_count; i++) {
		ga_free(data->team_names[i]);
		ga_free(data->team_keys[i]);
	}
	ga_free(data->owners_write.text);
	ga_free(data->owners_read.text);
	if (data->all_groups != NULL)
		MHD_destroy_response(data->all_groups);
	ga_free(data->all_groups_body);
	ga_free(data->team_names);
	if (data->reserved_users != NULL)
		MHD_destroy_response(data->reserved_users);
	ga_free(data->reserved_users_body);
	ga_free(data->team_keys);
	ga_free(data);
}

static void *
pypicloud_data_build(const struct org_snapshot *snapshot, const struct config *config)
{
	struct pypicloud_data *data = ga_calloc(1, sizeof(*data));

	(void)config;
	data->team_count = org_snapshot_team_count(snapshot);
	data->team_names = ga_calloc(data->team_count, sizeof(*data->team_names));
	data->team_keys = ga_calloc(data->team_count, sizeof(*data->team_keys));
	for (size_t team = 0; team < data->team_count; team++) {
		data->team_names[team] = team_name(org_snapshot_group_key(snapshot, (long)team));
		data->team_keys[team] = written_key(data->team_names[team]);
	}
	data->package_count = org_snapshot_package_count(snapshot);
	org_snapshot_owners(snapshot, &data->owner_count);
	data->owners_write = owners_head(snapshot, false);
	data->owners_read = owners_head(snapshot, true);
	data->all_groups_body = all_groups_array(data);
	data->all_groups = http_json_response_create(data->all_groups_body,
						     strlen(data->all_groups_body), true);
	data->reserved_users_body = reserved_users_object(snapshot);
	data->reserved_users = http_json_response_create(data->reserved_users_body,
							 strlen(data->reserved_users_body), true);
	return data;
}

static const struct service_derivation pypicloud_derivation = {
	.name = "pypicloud",
	.build = pypicloud_data_build,
	.destroy = pypicloud_data_destroy,
};

/* ---- request helpers ----------------------------------------------- */

/* The one parameter name of a request, decoded. */
static void
get_param(struct http_request *request, const char *name, struct http_param *param)
{
	const char *const names[] = { name };

	http_query_get(request->query, request->query_len, names, param, 1);
}

static const struct org_snapshot *
request_snapshot(struct http_request *request, const struct pypicloud_data **data)
{
	const struct service_view *view = http_request_view(request);

	if (view == NULL)
		return NULL;
	if (data != NULL) {
		*data = service_view_derived(view, &pypicloud_derivation);
		if (*data == NULL)
			return NULL;
	}
	return service_view_snapshot(view);
}

static void
respond_buffer(struct http_request *request, struct ga_buf *buf)
{
	size_t len = buf->len;

	http_respond(request, MHD_HTTP_OK, NULL, ga_buf_steal(buf), len, HTTP_BODY_TAKE);
}

static void
append_login_array(struct ga_buf *buf, const struct org_snapshot *snapshot, const long *members,
		   size_t count)
{
	ga_buf_append_char(buf, '[');
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			ga_buf_append_char(buf, ',');
		http_json_string(buf, org_snapshot_member_login(snapshot, members[i]));
	}
	ga_buf_append_char(buf, ']');
}

/* A member's groups: BASE_GROUP, then its teams and their ancestors. */
static void
append_group_array(struct ga_buf *buf, const struct org_snapshot *snapshot,
		   const struct pypicloud_data *data, long member)
{
	size_t count = 0;
	const long *teams = org_snapshot_member_groups(snapshot, member, &count);

	ga_buf_append_str(buf, "[\"" BASE_GROUP "\"");
	for (size_t i = 0; i < count; i++) {
		if (teams[i] < 0 || (size_t)teams[i] >= data->team_count)
			continue;
		ga_buf_append_char(buf, ',');
		http_json_string(buf, data->team_names[teams[i]]);
	}
	ga_buf_append_char(buf, ']');
}

/* ---- the endpoints ------------------------------------------------- */

static void
handle_verify(struct http_request *request)
{
	static const char *const names[] = { "username", "password" };
	struct http_param params[2];
	struct service_login_result result;
	const struct service_view *view;
	enum service_login login = SERVICE_LOGIN_MALFORMED;

	http_query_get(request->query, request->query_len, names, params, 2);
	if (params[0].state == HTTP_PARAM_VALID && params[1].state == HTTP_PARAM_VALID) {
		view = http_request_view(request);
		/* A token GitHub must check: the connection waits suspended and
		 * this handler runs again with the answer.  Too many checks at
		 * once (BUSY) is a "no", as the protocol has no "try again". */
		login = http_request_login(request, view ? service_view_snapshot(view) : NULL,
					   params[0].value, params[1].value, &result);
	}
	explicit_bzero(params[1].value, sizeof(params[1].value));
	if (login == SERVICE_LOGIN_PENDING)
		return;
	http_request_note_decision(request, login == SERVICE_LOGIN_OK);
	if (login == SERVICE_LOGIN_OK) {
		http_request_set_user(request, params[0].value);
		http_respond_constant(request, HTTP_JSON_TRUE);
	} else {
		http_respond_constant(request, HTTP_JSON_FALSE);
	}
}

static void
handle_admin(struct http_request *request)
{
	struct http_param param;
	const struct org_snapshot *snapshot;
	long member;

	get_param(request, "username", &param);
	snapshot = param.state == HTTP_PARAM_VALID ? request_snapshot(request, NULL) : NULL;
	member = snapshot ? org_snapshot_find_member(snapshot, param.value) : -1;
	http_respond_constant(request, member >= 0 && org_snapshot_member_is_owner(snapshot, member)
				       ? HTTP_JSON_TRUE : HTTP_JSON_FALSE);
}

static void
handle_groups(struct http_request *request)
{
	struct http_param param;
	const struct pypicloud_data *data = NULL;
	const struct org_snapshot *snapshot;
	struct ga_buf buf;
	long member;

	get_param(request, "username", &param);
	if (param.state == HTTP_PARAM_INVALID ||
	    (snapshot = request_snapshot(request, &data)) == NULL) {
		http_respond_constant(request, HTTP_JSON_EMPTY_ARRAY);
		return;
	}
	if (param.state == HTTP_PARAM_ABSENT) {
		http_respond_shared(request, MHD_HTTP_OK, data->all_groups);
		return;
	}
	member = org_snapshot_find_member(snapshot, param.value);
	if (member < 0) {
		http_respond_constant(request, HTTP_JSON_EMPTY_ARRAY);
		return;
	}
	ga_buf_init(&buf, 0);
	append_group_array(&buf, snapshot, data, member);
	respond_buffer(request, &buf);
}

static void
append_all_logins(struct ga_buf *buf, const struct org_snapshot *snapshot)
{
	size_t count = org_snapshot_member_count(snapshot);

	ga_buf_append_char(buf, '[');
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			ga_buf_append_char(buf, ',');
		http_json_string(buf, org_snapshot_member_login(snapshot, (long)i));
	}
	ga_buf_append_char(buf, ']');
}

static void
handle_group_members(struct http_request *request)
{
	struct http_param param;
	const struct org_snapshot *snapshot;
	const long *members;
	size_t count = 0;
	struct ga_buf buf;
	long team;

	get_param(request, "group", &param);
	snapshot = param.state == HTTP_PARAM_VALID ? request_snapshot(request, NULL) : NULL;
	if (snapshot != NULL && strcmp(param.value, BASE_GROUP) == 0) {
		ga_buf_init(&buf, 0);
		append_all_logins(&buf, snapshot);
		respond_buffer(request, &buf);
		return;
	}
	team = snapshot ? find_team(snapshot, param.value) : -1;
	if (team < 0) {
		http_respond_constant(request, HTTP_JSON_EMPTY_ARRAY);
		return;
	}
	members = org_snapshot_group_members(snapshot, team, &count);
	ga_buf_init(&buf, 0);
	append_login_array(&buf, snapshot, members, count);
	respond_buffer(request, &buf);
}

/* /user_permissions of a package: the shared owners' part, then the
 * package's collaborators rendered now. */
static void
respond_users(struct http_request *request, const struct org_snapshot *snapshot,
	      const struct pypicloud_data *data, long package)
{
	const struct owners_head *head = org_snapshot_package_archived(snapshot, package)
					 ? &data->owners_read : &data->owners_write;
	struct ga_buf buf;
	struct object_writer writer = { &buf, data->owner_count == 0 };

	/* One contiguous body: libmicrohttpd sends a buffer with its headers
	 * in one go, while a two-piece (iovec) body costs a second send, more
	 * than this copy even for 600 owners (18 kB: 11 us of CPU per request
	 * copied, 15-19 us in two pieces, 12 us when each package had its
	 * whole answer prebuilt). */
	ga_buf_init(&buf, 0);
	ga_buf_append(&buf, head->text, head->len);
	for_each_collaborator_entry(snapshot, package, write_entry, &writer);
	ga_buf_append_char(&buf, '}');
	respond_buffer(request, &buf);
}

/* /group_permissions of a package, rendered now: a few teams. */
static void
respond_groups(struct http_request *request, const struct org_snapshot *snapshot,
	       const struct pypicloud_data *data, long package)
{
	struct ga_buf buf;
	struct object_writer writer = { &buf, true };

	ga_buf_init(&buf, 0);
	ga_buf_append_char(&buf, '{');
	for_each_group_entry(snapshot, data, package, write_entry, &writer);
	ga_buf_append_char(&buf, '}');
	respond_buffer(request, &buf);
}

/* /user_permissions and /group_permissions. */
static void
respond_package(struct http_request *request, bool users)
{
	struct http_param param;
	const struct pypicloud_data *data = NULL;
	const struct org_snapshot *snapshot;
	long package;

	get_param(request, "package", &param);
	if (param.state != HTTP_PARAM_VALID) {
		http_respond_constant(request, HTTP_JSON_EMPTY_OBJECT);
		return;
	}
	snapshot = request_snapshot(request, &data);
	if (snapshot == NULL) {
		/* Fail closed even if pypicloud's default_read were "everyone":
		 * with no usable snapshot, no package falls back to it. */
		if (users)
			http_respond_constant(request, HTTP_JSON_EMPTY_OBJECT);
		else
			http_respond(request, MHD_HTTP_OK, NULL, guard_groups,
				     sizeof(guard_groups) - 1, HTTP_BODY_STATIC);
		return;
	}
	package = org_snapshot_find_package(snapshot, param.value);
	if (package < 0 && org_snapshot_find_reserved(snapshot, param.value) >= 0) {
		/* Owners only, and never pypicloud's defaults. */
		if (users)
			http_respond_shared(request, MHD_HTTP_OK, data->reserved_users);
		else
			http_respond(request, MHD_HTTP_OK, NULL, guard_groups,
				     sizeof(guard_groups) - 1, HTTP_BODY_STATIC);
		return;
	}
	if (package < 0 || (size_t)package >= data->package_count) {
		http_respond_constant(request, HTTP_JSON_EMPTY_OBJECT);
		return;
	}
	if (users)
		respond_users(request, snapshot, data, package);
	else
		respond_groups(request, snapshot, data, package);
}

static void
handle_user_permissions(struct http_request *request)
{
	respond_package(request, true);
}

static void
handle_group_permissions(struct http_request *request)
{
	respond_package(request, false);
}

/* Collects the packages in which one name has an entry (the inverses):
 * a group is asked for by its name as /groups gives it, which for an
 * escaped team differs from its key in /group_permissions. */
struct inverse_writer {
	struct ga_buf *buf;
	const char *name;
	const char *package;
	size_t written;
};

static void
write_inverse_entry(void *context, const struct pypicloud_entry *entry)
{
	struct inverse_writer *writer = context;

	if (strcmp(entry->name, writer->name) != 0)
		return;
	if (writer->written++ > 0)
		ga_buf_append_char(writer->buf, ',');
	ga_buf_append_str(writer->buf, "{\"package\":");
	http_json_string(writer->buf, writer->package);
	ga_buf_append_str(writer->buf, ",\"permissions\":");
	http_json_permissions(writer->buf, entry->read, entry->write);
	ga_buf_append_char(writer->buf, '}');
}

/* The reserved names in the inverses, as their per-name answers have them:
 * owners with read and write, the guard group with nothing. */
static void
append_reserved_inverse(struct inverse_writer *writer, const struct org_snapshot *snapshot,
			bool users)
{
	struct pypicloud_entry entry = { .key = writer->name, .name = writer->name };

	if (users) {
		long member = org_snapshot_find_member(snapshot, writer->name);

		if (!org_snapshot_member_is_owner(snapshot, member))
			return;
		entry.read = entry.write = true;
	} else if (strcmp(writer->name, BASE_GROUP) != 0) {
		return;
	}
	for (size_t i = 0; i < org_snapshot_reserved_count(snapshot); i++) {
		writer->package = org_snapshot_reserved_key(snapshot, (long)i);
		write_inverse_entry(writer, &entry);
	}
}

static void
respond_inverse(struct http_request *request, const char *param_name, bool users)
{
	struct http_param param;
	const struct pypicloud_data *data = NULL;
	const struct org_snapshot *snapshot;
	struct ga_buf buf;
	struct inverse_writer writer = { &buf, NULL, NULL, 0 };

	get_param(request, param_name, &param);
	snapshot = param.state == HTTP_PARAM_VALID ? request_snapshot(request, &data) : NULL;
	if (snapshot == NULL) {
		http_respond_constant(request, HTTP_JSON_EMPTY_ARRAY);
		return;
	}
	writer.name = param.value;
	ga_buf_init(&buf, 0);
	ga_buf_append_char(&buf, '[');
	for (size_t i = 0; i < data->package_count; i++) {
		writer.package = org_snapshot_package_key(snapshot, (long)i);
		if (users)
			for_each_user_entry(snapshot, (long)i, write_inverse_entry, &writer);
		else
			for_each_group_entry(snapshot, data, (long)i, write_inverse_entry, &writer);
	}
	append_reserved_inverse(&writer, snapshot, users);
	ga_buf_append_char(&buf, ']');
	respond_buffer(request, &buf);
}

static void
handle_user_package_permissions(struct http_request *request)
{
	respond_inverse(request, "username", true);
}

static void
handle_group_package_permissions(struct http_request *request)
{
	respond_inverse(request, "group", false);
}

static void
append_user_data(struct ga_buf *buf, const struct org_snapshot *snapshot,
		 const struct pypicloud_data *data, long member)
{
	ga_buf_append_str(buf, "{\"username\":");
	http_json_string(buf, org_snapshot_member_login(snapshot, member));
	ga_buf_append_str(buf, org_snapshot_member_is_owner(snapshot, member)
			       ? ",\"admin\":true" : ",\"admin\":false");
	if (data != NULL) {
		ga_buf_append_str(buf, ",\"groups\":");
		append_group_array(buf, snapshot, data, member);
	}
	ga_buf_append_char(buf, '}');
}

static void
handle_user_data(struct http_request *request)
{
	struct http_param param;
	const struct pypicloud_data *data = NULL;
	const struct org_snapshot *snapshot;
	struct ga_buf buf;
	long member;

	get_param(request, "username", &param);
	snapshot = param.state != HTTP_PARAM_INVALID ? request_snapshot(request, &data) : NULL;
	if (snapshot == NULL) {
		http_respond_constant(request, param.state == HTTP_PARAM_ABSENT
					       ? HTTP_JSON_EMPTY_ARRAY : HTTP_JSON_NULL);
		return;
	}
	ga_buf_init(&buf, 0);
	if (param.state == HTTP_PARAM_ABSENT) {
		size_t count = org_snapshot_member_count(snapshot);

		ga_buf_append_char(&buf, '[');
		for (size_t i = 0; i < count; i++) {
			if (i > 0)
				ga_buf_append_char(&buf, ',');
			append_user_data(&buf, snapshot, NULL, (long)i);
		}
		ga_buf_append_char(&buf, ']');
		respond_buffer(request, &buf);
		return;
	}
	member = org_snapshot_find_member(snapshot, param.value);
	if (member < 0) {
		ga_buf_free(&buf);
		http_respond_constant(request, HTTP_JSON_NULL);
		return;
	}
	append_user_data(&buf, snapshot, data, member);
	respond_buffer(request, &buf);
}

/* pypicloud and load balancers only read. */
#define GET_OR_HEAD (HTTP_GET | HTTP_HEAD)

static const struct http_route pypicloud_routes[] = {
	{ .path = "/verify", .methods = GET_OR_HEAD, .handle = handle_verify },
	{ .path = "/groups", .methods = GET_OR_HEAD, .handle = handle_groups },
	{ .path = "/group_members", .methods = GET_OR_HEAD, .handle = handle_group_members },
	{ .path = "/admin", .methods = GET_OR_HEAD, .handle = handle_admin },
	{ .path = "/group_permissions", .methods = GET_OR_HEAD,
	  .handle = handle_group_permissions },
	{ .path = "/user_permissions", .methods = GET_OR_HEAD,
	  .handle = handle_user_permissions },
	{ .path = "/user_package_permissions", .methods = GET_OR_HEAD,
	  .handle = handle_user_package_permissions },
	{ .path = "/group_package_permissions", .methods = GET_OR_HEAD,
	  .handle = handle_group_package_permissions },
	{ .path = "/user_data", .methods = GET_OR_HEAD, .handle = handle_user_data },
	{ .path = NULL },
};

const struct http_frontend http_pypicloud_frontend = {
	.name = "pypicloud",
	.routes = pypicloud_routes,
	.backend_auth = true,
	.max_body = 0,
	.derivation = &pypicloud_derivation,
	.enabled = NULL,
};
