/* service_webhook.c - webhook signature, replay set, event meaning, revocations, pacing; see service_webhook.h. */
#include "service/service_webhook.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "org/org_names.h"
#include "util/ga_log.h"
#include "util/ga_map.h"
#include "util/ga_secret.h"
#include "util/ga_xalloc.h"

/* ---- signature --------------------------------------------------------- */

/* 64 hex digits -> 32 bytes; false for anything else.  The header is the
 * sender's own data, so decoding it needs no constant time; the
 * comparison with our digest does. */
static bool
decode_digest(const char *hex, uint8_t out[GA_HMAC_SIZE])
{
	if (strlen(hex) != 2 * GA_HMAC_SIZE)
		return false;
	for (size_t i = 0; i < GA_HMAC_SIZE; i++) {
		int high = ga_hex_value(hex[2 * i]);
		int low = ga_hex_value(hex[2 * i + 1]);

		if (high < 0 || low < 0)
			return false;
		out[i] = (uint8_t)(high << 4 | low);
	}
	return true;
}

enum service_webhook_signature
service_webhook_verify_signature(const char *secret, size_t secret_len, const void *body,
				 size_t len, const char *header)
{
	static const char prefix[] = "sha256=";
	uint8_t presented[GA_HMAC_SIZE];
	uint8_t expected[GA_HMAC_SIZE];
	bool equal;

	if (header == NULL || *header == '\0')
		return SERVICE_WEBHOOK_SIGNATURE_MISSING;
	if (strncmp(header, prefix, sizeof(prefix) - 1) != 0 ||
	    !decode_digest(header + sizeof(prefix) - 1, presented))
		return SERVICE_WEBHOOK_SIGNATURE_MALFORMED;
	ga_hmac_sha256(secret, secret_len, body != NULL ? body : "", len, expected);
	equal = ga_secret_equal(presented, sizeof(presented), expected, sizeof(expected));
	return equal ? SERVICE_WEBHOOK_SIGNATURE_OK : SERVICE_WEBHOOK_SIGNATURE_MISMATCH;
}

const char *
service_webhook_signature_reason(enum service_webhook_signature result)
{
	switch (result) {
	case SERVICE_WEBHOOK_SIGNATURE_OK:
		return "ok";
	case SERVICE_WEBHOOK_SIGNATURE_MISSING:
		return "missing signature";
	case SERVICE_WEBHOOK_SIGNATURE_MALFORMED:
		return "malformed signature";
	case SERVICE_WEBHOOK_SIGNATURE_MISMATCH:
		return "signature mismatch";
	}
	return "unknown";
}

/* ---- replay ------------------------------------------------------------ */

/*
 * A ring of the ids in arrival order (the oldest is the one to forget)
 * and an open-addressing table from id to ring position, with linear
 * probing and backward-shift deletion so that forgetting leaves no
 * tombstones and every operation stays O(1).
 */
struct replay_entry {
	char id[SERVICE_WEBHOOK_DELIVERY_MAX + 1];
	uint64_t hash;
	long long recorded_at;
};

struct service_webhook_replay {
	pthread_mutex_t lock;
	struct replay_entry *ring;
	size_t capacity;
	size_t oldest;			/* ring position of the oldest id */
	size_t count;
	long long max_age;
	uint32_t *table;		/* ring position + 1; 0 is empty */
	size_t table_mask;
};

struct service_webhook_replay *
service_webhook_replay_create(size_t capacity, long long max_age)
{
	struct service_webhook_replay *replay = ga_calloc(1, sizeof(*replay));
	size_t table_size = 16;

	if (capacity == 0)
		capacity = 1;
	while (table_size < capacity * 2)
		table_size *= 2;
	pthread_mutex_init(&replay->lock, NULL);
	replay->ring = ga_calloc(capacity, sizeof(*replay->ring));
	replay->capacity = capacity;
	replay->max_age = max_age;
	replay->table = ga_calloc(table_size, sizeof(*replay->table));
	replay->table_mask = table_size - 1;
	return replay;
}

void
service_webhook_replay_destroy(struct service_webhook_replay *replay)
{
	if (replay == NULL)
		return;
	pthread_mutex_destroy(&replay->lock);
	ga_free(replay->ring);
	ga_free(replay->table);
	ga_free(replay);
}

static bool
delivery_is_valid(const char *delivery)
{
	size_t len;

	if (delivery == NULL)
		return false;
	len = strlen(delivery);
	if (len == 0 || len > SERVICE_WEBHOOK_DELIVERY_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)delivery[i] <= ' ' || (unsigned char)delivery[i] >= 0x7f)
			return false;
	return true;
}

/* The table slot holding ring position, or of id when position is SIZE_MAX. */
static size_t
replay_find_slot(const struct service_webhook_replay *replay, uint64_t hash, const char *id)
{
	for (size_t slot = hash & replay->table_mask;; slot = (slot + 1) & replay->table_mask) {
		uint32_t held = replay->table[slot];

		if (held == 0)
			return SIZE_MAX;
		if (replay->ring[held - 1].hash == hash && strcmp(replay->ring[held - 1].id, id) == 0)
			return slot;
	}
}

/* Empty slot, then pull later entries of the probe run back into the gap. */
static void
replay_table_delete(struct service_webhook_replay *replay, size_t slot)
{
	size_t gap = slot;
	size_t next = slot;

	for (;;) {
		size_t home;

		next = (next + 1) & replay->table_mask;
		if (replay->table[next] == 0)
			break;
		home = replay->ring[replay->table[next] - 1].hash & replay->table_mask;
		/* The entry at next may move into the gap unless its home lies
		 * cyclically in (gap, next]. */
		if (gap <= next ? (home <= gap || home > next) : (home <= gap && home > next)) {
			replay->table[gap] = replay->table[next];
			gap = next;
		}
	}
	replay->table[gap] = 0;
}

static void
replay_forget_oldest(struct service_webhook_replay *replay)
{
	struct replay_entry *entry = &replay->ring[replay->oldest];
	size_t slot = replay_find_slot(replay, entry->hash, entry->id);

	if (slot != SIZE_MAX)
		replay_table_delete(replay, slot);
	entry->id[0] = '\0';
	replay->oldest = (replay->oldest + 1) % replay->capacity;
	replay->count--;
}

static void
replay_insert(struct service_webhook_replay *replay, const char *delivery, uint64_t hash,
	      long long now)
{
	size_t position = (replay->oldest + replay->count) % replay->capacity;
	struct replay_entry *entry = &replay->ring[position];
	size_t slot = hash & replay->table_mask;

	snprintf(entry->id, sizeof(entry->id), "%s", delivery);
	entry->hash = hash;
	entry->recorded_at = now;
	while (replay->table[slot] != 0)
		slot = (slot + 1) & replay->table_mask;
	replay->table[slot] = (uint32_t)position + 1;
	replay->count++;
}

enum service_webhook_delivery
service_webhook_replay_check(struct service_webhook_replay *replay, const char *delivery,
			     long long now)
{
	enum service_webhook_delivery result = SERVICE_WEBHOOK_DELIVERY_NEW;
	uint64_t hash;

	if (!delivery_is_valid(delivery))
		return SERVICE_WEBHOOK_DELIVERY_INVALID;
	hash = ga_map_hash(delivery, strlen(delivery));
	pthread_mutex_lock(&replay->lock);
	while (replay->count > 0 &&
	       replay->ring[replay->oldest].recorded_at <= now - replay->max_age)
		replay_forget_oldest(replay);
	if (replay_find_slot(replay, hash, delivery) != SIZE_MAX) {
		result = SERVICE_WEBHOOK_DELIVERY_DUPLICATE;
	} else {
		if (replay->count == replay->capacity)
			replay_forget_oldest(replay);
		replay_insert(replay, delivery, hash, now);
	}
	pthread_mutex_unlock(&replay->lock);
	return result;
}

size_t
service_webhook_replay_count(struct service_webhook_replay *replay)
{
	size_t count;

	pthread_mutex_lock(&replay->lock);
	count = replay->count;
	pthread_mutex_unlock(&replay->lock);
	return count;
}

/* ---- classification ----------------------------------------------------- */

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

/* Team slugs and repository names: GitHub's characters only, so that a name
 * from a payload can go into a log line and a comparison as it is. */
static bool
copy_name(char *out, size_t size, const char *name)
{
	size_t len = name != NULL ? strlen(name) : 0;

	out[0] = '\0';
	if (len == 0 || len >= size)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
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

static void
classify_organization(const json_t *root, struct service_webhook_event *out)
{
	const char *login = string_at(root, "membership", "user", "login");

	out->refresh = true;
	if (strcmp(out->action, "member_removed") == 0) {
		out->reason = "member removed from the organization";
		set_removal(out, SERVICE_WEBHOOK_REMOVE_MEMBER,
			    copy_login(out->removal.login, sizeof(out->removal.login), login));
	} else if (strcmp(out->action, "member_added") == 0) {
		out->reason = "member added to the organization";
		copy_login(out->added_login, sizeof(out->added_login), login);
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
	}
}

static void
classify_member(const json_t *root, struct service_webhook_event *out)
{
	out->refresh = true;
	out->reason = "repository collaborator changed";
	if (strcmp(out->action, "removed") == 0) {
		bool complete = copy_login(out->removal.login, sizeof(out->removal.login),
					   string_at(root, "member", "login", NULL)) &&
				copy_name(out->removal.repository, sizeof(out->removal.repository),
					  string_at(root, "repository", "name", NULL));

		out->reason = "collaborator removed from a repository";
		set_removal(out, SERVICE_WEBHOOK_REMOVE_COLLABORATOR, complete);
	}
}

static void
classify_repository(const json_t *root, const char *organization,
		    struct service_webhook_event *out)
{
	bool complete = copy_name(out->removal.repository, sizeof(out->removal.repository),
				  string_at(root, "repository", "name", NULL));
	const char *owner = string_at(root, "repository", "owner", "login");

	out->refresh = true;
	out->reason = "repository changed";
	if (strcmp(out->action, "deleted") == 0) {
		out->reason = "repository deleted";
		set_removal(out, SERVICE_WEBHOOK_REMOVE_REPOSITORY, complete);
	} else if (strcmp(out->action, "transferred") == 0 && owner != NULL &&
		   strcasecmp(owner, organization) != 0) {
		out->reason = "repository transferred out of the organization";
		set_removal(out, SERVICE_WEBHOOK_REMOVE_REPOSITORY, complete);
	}
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
	if (count == 0 || count >= 2048 || json_is_true(json_object_get(root, "forced")) ||
	    json_is_true(json_object_get(root, "created")) ||
	    json_is_true(json_object_get(root, "deleted")))
		return;
	if (!commits_touch_pyproject(commits)) {
		out->refresh = false;
		out->reason = "push does not touch pyproject.toml";
	}
}

static void
classify_by_event(const json_t *root, const char *organization,
		  struct service_webhook_event *out)
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
		classify_repository(root, organization, out);
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
	out->reason = "event not used by ghaccess";
	out->removal.kind = SERVICE_WEBHOOK_REMOVE_NONE;
	copy_token(out->event, sizeof(out->event), event);
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
	payload_org = string_at(root, "organization", "login", NULL);
	if (payload_org != NULL && organization != NULL &&
	    strcasecmp(payload_org, organization) != 0)
		out->reason = "event of another organization";
	else
		classify_by_event(root, organization != NULL ? organization : "", out);
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
	}
	return "unknown";
}

/* ---- revocations ---------------------------------------------------------- */

struct revocation {
	struct service_webhook_removal removal;
	long long recorded_at;
};

struct service_webhook_revocations {
	pthread_mutex_t lock;
	struct revocation *entries;	/* oldest first */
	size_t count;
	size_t cap;
};

struct service_webhook_revocations *
service_webhook_revocations_create(void)
{
	struct service_webhook_revocations *revocations = ga_calloc(1, sizeof(*revocations));

	pthread_mutex_init(&revocations->lock, NULL);
	return revocations;
}

void
service_webhook_revocations_destroy(struct service_webhook_revocations *revocations)
{
	if (revocations == NULL)
		return;
	pthread_mutex_destroy(&revocations->lock);
	ga_free(revocations->entries);
	ga_free(revocations);
}

static void
drop_entry(struct service_webhook_revocations *revocations, size_t index)
{
	memmove(&revocations->entries[index], &revocations->entries[index + 1],
		(revocations->count - index - 1) * sizeof(*revocations->entries));
	revocations->count--;
}

void
service_webhook_revocations_add(struct service_webhook_revocations *revocations,
				const struct service_webhook_removal *removal, long long now)
{
	if (removal->kind == SERVICE_WEBHOOK_REMOVE_NONE)
		return;
	pthread_mutex_lock(&revocations->lock);
	if (revocations->count == SERVICE_WEBHOOK_REVOCATIONS_MAX) {
		drop_entry(revocations, 0);
		ga_log(GA_LOG_WARN, "too many webhook removals waiting for a sync; the oldest "
		       "is dropped", (char *)NULL);
	}
	if (revocations->count == revocations->cap) {
		revocations->cap = revocations->cap ? revocations->cap * 2 : 16;
		revocations->entries = ga_reallocarray(revocations->entries, revocations->cap,
						       sizeof(*revocations->entries));
	}
	revocations->entries[revocations->count].removal = *removal;
	revocations->entries[revocations->count].recorded_at = now;
	revocations->count++;
	pthread_mutex_unlock(&revocations->lock);
}

void
service_webhook_revocations_forget_member(struct service_webhook_revocations *revocations,
					  const char *login)
{
	pthread_mutex_lock(&revocations->lock);
	for (size_t i = revocations->count; i > 0; i--) {
		const struct service_webhook_removal *removal = &revocations->entries[i - 1].removal;

		if (removal->kind == SERVICE_WEBHOOK_REMOVE_MEMBER &&
		    strcasecmp(removal->login, login) == 0)
			drop_entry(revocations, i - 1);
	}
	pthread_mutex_unlock(&revocations->lock);
}

size_t
service_webhook_revocations_expire(struct service_webhook_revocations *revocations,
				   long long synced_at)
{
	size_t kept = 0;

	pthread_mutex_lock(&revocations->lock);
	for (size_t i = 0; i < revocations->count; i++)
		if (revocations->entries[i].recorded_at >= synced_at)
			revocations->entries[kept++] = revocations->entries[i];
	revocations->count = kept;
	pthread_mutex_unlock(&revocations->lock);
	return kept;
}

size_t
service_webhook_revocations_count(struct service_webhook_revocations *revocations)
{
	size_t count;

	pthread_mutex_lock(&revocations->lock);
	count = revocations->count;
	pthread_mutex_unlock(&revocations->lock);
	return count;
}

/* The removals that apply to data read at synced_at (copied out of the lock). */
struct applicable {
	struct service_webhook_removal *removals;
	size_t count;
};

static void
collect_applicable(struct service_webhook_revocations *revocations, long long synced_at,
		   struct applicable *out)
{
	out->removals = NULL;
	out->count = 0;
	pthread_mutex_lock(&revocations->lock);
	for (size_t i = 0; i < revocations->count; i++) {
		if (revocations->entries[i].recorded_at < synced_at)
			continue;
		if (out->removals == NULL)
			out->removals = ga_reallocarray(NULL, revocations->count,
							sizeof(*out->removals));
		out->removals[out->count++] = revocations->entries[i].removal;
	}
	pthread_mutex_unlock(&revocations->lock);
}

static bool
same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcasecmp(a, b) == 0;
}

static bool
member_removed(const struct applicable *applicable, const char *login)
{
	for (size_t i = 0; i < applicable->count; i++)
		if (applicable->removals[i].kind == SERVICE_WEBHOOK_REMOVE_MEMBER &&
		    same(applicable->removals[i].login, login))
			return true;
	return false;
}

static bool
matches(const struct applicable *applicable, enum service_webhook_removal_kind kind,
	const char *login, const char *team, const char *repository)
{
	for (size_t i = 0; i < applicable->count; i++) {
		const struct service_webhook_removal *removal = &applicable->removals[i];

		if (removal->kind != kind)
			continue;
		if ((login == NULL || same(removal->login, login)) &&
		    (team == NULL || same(removal->team, team)) &&
		    (repository == NULL || same(removal->repository, repository)))
			return true;
	}
	return false;
}

static void
copy_teams(const struct applicable *applicable, const struct org_input *input,
	   struct org_input *copy)
{
	for (size_t t = 0; t < input->team_count; t++) {
		const struct org_input_team *from = &input->teams[t];
		struct org_input_team *to;

		if (matches(applicable, SERVICE_WEBHOOK_REMOVE_TEAM, NULL, from->slug, NULL))
			continue;
		to = org_input_add_team(copy, from->id, from->slug, from->name, from->parent_slug);
		for (size_t m = 0; m < from->member_count; m++) {
			const char *login = from->member_logins[m];

			if (!member_removed(applicable, login) &&
			    !matches(applicable, SERVICE_WEBHOOK_REMOVE_TEAM_MEMBER, login,
				     from->slug, NULL))
				org_input_team_add_member(to, login);
		}
		for (size_t r = 0; r < from->repository_count; r++) {
			const struct org_input_grant *grant = &from->repositories[r];

			if (!matches(applicable, SERVICE_WEBHOOK_REMOVE_REPOSITORY, NULL, NULL,
				     grant->name) &&
			    !matches(applicable, SERVICE_WEBHOOK_REMOVE_TEAM_GRANT, NULL, from->slug,
				     grant->name))
				org_input_team_add_repository(to, grant->name, grant->level);
		}
	}
}

static void
copy_repositories(const struct applicable *applicable, const struct org_input *input,
		  struct org_input *copy)
{
	for (size_t r = 0; r < input->repository_count; r++) {
		const struct org_input_repository *from = &input->repositories[r];
		struct org_input_repository *to;

		if (matches(applicable, SERVICE_WEBHOOK_REMOVE_REPOSITORY, NULL, NULL, from->name))
			continue;
		to = org_input_add_repository(copy, from->id, from->name, from->archived,
					      from->disabled);
		if (from->pyproject_state == ORG_PYPROJECT_TEXT && from->pyproject_text != NULL)
			org_input_repository_set_pyproject(to, from->pyproject_text,
							   from->pyproject_length);
		else
			to->pyproject_state = from->pyproject_state;
		to->collaborators_known = from->collaborators_known;
		for (size_t c = 0; c < from->collaborator_count; c++) {
			const struct org_input_grant *grant = &from->collaborators[c];

			if (!member_removed(applicable, grant->name) &&
			    !matches(applicable, SERVICE_WEBHOOK_REMOVE_COLLABORATOR, grant->name,
				     NULL, from->name))
				org_input_repository_add_collaborator(to, grant->name, grant->level);
		}
	}
}

struct org_input *
service_webhook_revocations_apply(struct service_webhook_revocations *revocations,
				  const struct org_input *input)
{
	struct applicable applicable;
	struct org_input *copy;

	collect_applicable(revocations, input->synced_at, &applicable);
	if (applicable.count == 0)
		return NULL;
	copy = org_input_new();
	copy->organization = ga_strdup(input->organization != NULL ? input->organization : "");
	copy->organization_id = input->organization_id;
	copy->base_permission_known = input->base_permission_known;
	copy->base_permission = input->base_permission;
	copy->synced_at = input->synced_at;
	for (size_t m = 0; m < input->member_count; m++) {
		const struct org_input_member *member = &input->members[m];

		if (!member_removed(&applicable, member->login))
			org_input_add_member(copy, member->login, member->id, member->is_owner);
	}
	copy_teams(&applicable, input, copy);
	copy_repositories(&applicable, input, copy);
	ga_free(applicable.removals);
	return copy;
}

/* ---- pacing ------------------------------------------------------------- */

void
service_webhook_pacing_init(struct service_webhook_pacing *pacing, long long debounce_ms)
{
	pacing->debounce_ms = debounce_ms > 0 ? debounce_ms : 0;
	pacing->pending_since_ms = -1;
	pacing->last_delivery_ms = -1;
	pacing->last_start_ms = -1;
	pacing->points_remaining = -1;
	pacing->points_per_sync = -1;
}

void
service_webhook_pacing_note(struct service_webhook_pacing *pacing, long long now_ms)
{
	if (pacing->pending_since_ms < 0)
		pacing->pending_since_ms = now_ms;
	pacing->last_delivery_ms = now_ms;
}

void
service_webhook_pacing_budget(struct service_webhook_pacing *pacing, long long cost,
			      long long remaining)
{
	if (cost >= 0)
		pacing->points_per_sync = cost;
	if (remaining >= 0)
		pacing->points_remaining = remaining;
}

static bool
budget_too_low(const struct service_webhook_pacing *pacing)
{
	long long cost = pacing->points_per_sync > 0 ? pacing->points_per_sync : 0;

	if (pacing->points_remaining < 0)
		return false;
	return pacing->points_remaining - cost < SERVICE_WEBHOOK_POINTS_RESERVE;
}

long long
service_webhook_pacing_due(struct service_webhook_pacing *pacing, long long now_ms,
			   bool *budget_low)
{
	long long start;
	long long latest;

	if (budget_low != NULL)
		*budget_low = false;
	if (pacing->pending_since_ms < 0)
		return -1;
	if (budget_too_low(pacing)) {
		pacing->pending_since_ms = -1;
		if (budget_low != NULL)
			*budget_low = true;
		return -1;
	}
	start = pacing->last_delivery_ms + pacing->debounce_ms;
	latest = pacing->pending_since_ms +
		 (4 * pacing->debounce_ms > 2000 ? 4 * pacing->debounce_ms : 2000);
	if (start > latest)
		start = latest;
	if (pacing->last_start_ms >= 0 && start < pacing->last_start_ms + SERVICE_WEBHOOK_MIN_INTERVAL_MS)
		start = pacing->last_start_ms + SERVICE_WEBHOOK_MIN_INTERVAL_MS;
	return start > now_ms ? start - now_ms : 0;
}

void
service_webhook_pacing_started(struct service_webhook_pacing *pacing, long long now_ms)
{
	pacing->pending_since_ms = -1;
	pacing->last_start_ms = now_ms;
}
