/*
 * service_change_codec.c - a struct service_change as JSON text, and back:
 * the form in which instances share changes (service_shared.c, through the
 * memcached change log).  The one place that knows the format; a new kind
 * of change adds its name and its fields here.
 *
 *   {"v":1,"at_ms":1733360000123,"kind":"remove_member","login":"bob"}
 *
 * Fields: "v" (1), "at_ms" (Unix ms, > 0), "kind" (a name of the table
 * below), and the kind's own fields, each a string: "login", "team",
 * "repository", "parent" (may be ""), "level" (org_level_name).  Decoding
 * refuses anything else: an unknown version or kind, a missing, extra or
 * empty field, a name too long for its buffer or holding a control
 * character, a duplicate key.  A refused change is never applied: whoever
 * reads one treats it as a change it missed (service_shared.c).
 *
 * A targeted result (what a targeted read found: one team's list, one
 * repository, one member) has its own form, written and checked by
 * service_targeted_json.c, told apart by its "version" key:
 *
 *   {"version":1,"kind":"team_members","name":"platform","at_ms":...,
 *    "data":"..."}
 */
#include "service/service_pipeline.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "util/ga_xalloc.h"

#define CODEC_VERSION 1

/* Which fields a kind carries. */
enum {
	F_LOGIN = 1 << 0,
	F_TEAM = 1 << 1,
	F_REPOSITORY = 1 << 2,
	F_PARENT = 1 << 3,	/* may be "" (no parent) */
	F_LEVEL = 1 << 4,
};

static const struct kind_format {
	enum service_webhook_removal_kind kind;
	const char *name;
	unsigned fields;
} KINDS[] = {
	{ SERVICE_WEBHOOK_REMOVE_MEMBER, "remove_member", F_LOGIN },
	{ SERVICE_WEBHOOK_REMOVE_TEAM_MEMBER, "remove_team_member", F_LOGIN | F_TEAM },
	{ SERVICE_WEBHOOK_REMOVE_TEAM, "remove_team", F_TEAM },
	{ SERVICE_WEBHOOK_REMOVE_TEAM_GRANT, "remove_team_grant", F_TEAM | F_REPOSITORY },
	{ SERVICE_WEBHOOK_REMOVE_COLLABORATOR, "remove_collaborator", F_LOGIN | F_REPOSITORY },
	{ SERVICE_WEBHOOK_REMOVE_REPOSITORY, "remove_repository", F_REPOSITORY },
	{ SERVICE_WEBHOOK_LOWER_TEAM_GRANT, "lower_team_grant",
	  F_TEAM | F_REPOSITORY | F_LEVEL },
	{ SERVICE_WEBHOOK_LOWER_COLLABORATOR, "lower_collaborator",
	  F_LOGIN | F_REPOSITORY | F_LEVEL },
	{ SERVICE_WEBHOOK_ARCHIVE, "archive", F_REPOSITORY },
	{ SERVICE_WEBHOOK_DETACH_TEAM, "detach_team", F_TEAM | F_PARENT },
};

#define KIND_COUNT (sizeof(KINDS) / sizeof(KINDS[0]))

static const struct kind_format *
format_of_kind(enum service_webhook_removal_kind kind)
{
	for (size_t i = 0; i < KIND_COUNT; i++)
		if (KINDS[i].kind == kind)
			return &KINDS[i];
	return NULL;
}

static const struct kind_format *
format_of_name(const char *name)
{
	for (size_t i = 0; i < KIND_COUNT; i++)
		if (strcmp(KINDS[i].name, name) == 0)
			return &KINDS[i];
	return NULL;
}

char *
service_change_encode(const struct service_change *change)
{
	const struct service_webhook_removal *removal = &change->removal;
	const struct kind_format *format = format_of_kind(removal->kind);
	json_t *root;
	char *text;
	char *copy;

	if (change->targeted.target.kind != SERVICE_TARGETED_NONE)
		return change->at_ms > 0 ? service_targeted_to_json(&change->targeted, change->at_ms)
					 : NULL;
	if (format == NULL || change->at_ms <= 0)
		return NULL;
	root = json_pack("{s:i, s:I, s:s}", "v", CODEC_VERSION, "at_ms",
			 (json_int_t)change->at_ms, "kind", format->name);
	if (root == NULL)
		return NULL;
	if (format->fields & F_LOGIN)
		json_object_set_new(root, "login", json_string(removal->login));
	if (format->fields & F_TEAM)
		json_object_set_new(root, "team", json_string(removal->team));
	if (format->fields & F_REPOSITORY)
		json_object_set_new(root, "repository", json_string(removal->repository));
	if (format->fields & F_PARENT)
		json_object_set_new(root, "parent", json_string(removal->parent));
	if (format->fields & F_LEVEL)
		json_object_set_new(root, "level", json_string(org_level_name(removal->level)));
	text = json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(root);
	if (text == NULL)
		return NULL;
	copy = ga_strdup(text);
	free(text);	/* style-ok: jansson's allocation */
	return copy;
}

/* A name field: a non-empty (unless may_be_empty) string without control
 * characters that fits in size bytes with its NUL. */
static enum ga_rc
copy_name(json_t *root, const char *key, bool may_be_empty, char *out, size_t size,
	  struct ga_err *err)
{
	json_t *value = json_object_get(root, key);
	const char *text;
	size_t len;

	if (!json_is_string(value))
		return ga_err_set(err, GA_EPARSE, "change: \"%s\" missing or not a string", key);
	text = json_string_value(value);
	len = json_string_length(value);
	if ((len == 0 && !may_be_empty) || len >= size || strlen(text) != len)
		return ga_err_set(err, GA_EPARSE, "change: \"%s\" empty or too long", key);
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			return ga_err_set(err, GA_EPARSE, "change: \"%s\" holds a control "
					  "character", key);
	memcpy(out, text, len + 1);
	return GA_OK;
}

static enum ga_rc
decode_fields(json_t *root, const struct kind_format *format, struct service_webhook_removal *out,
	      struct ga_err *err)
{
	json_t *level;
	enum ga_rc rc = GA_OK;

	if (format->fields & F_LOGIN)
		rc = copy_name(root, "login", false, out->login, sizeof(out->login), err);
	if (rc == GA_OK && (format->fields & F_TEAM))
		rc = copy_name(root, "team", false, out->team, sizeof(out->team), err);
	if (rc == GA_OK && (format->fields & F_REPOSITORY))
		rc = copy_name(root, "repository", false, out->repository,
			       sizeof(out->repository), err);
	if (rc == GA_OK && (format->fields & F_PARENT))
		rc = copy_name(root, "parent", true, out->parent, sizeof(out->parent), err);
	if (rc != GA_OK || !(format->fields & F_LEVEL))
		return rc;
	level = json_object_get(root, "level");
	if (!json_is_string(level) || !org_level_parse(json_string_value(level), &out->level) ||
	    strcmp(org_level_name(out->level), json_string_value(level)) != 0)
		return ga_err_set(err, GA_EPARSE, "change: \"level\" is not a level");
	return GA_OK;
}

/* 3 (v, at_ms, kind) plus one per field of the kind. */
static size_t
expected_keys(const struct kind_format *format)
{
	size_t count = 3;

	for (unsigned bits = format->fields; bits != 0; bits &= bits - 1)
		count++;
	return count;
}

enum ga_rc
service_change_decode(const char *text, size_t len, struct service_change *out,
		      struct ga_err *err)
{
	json_t *root;
	json_t *version;
	json_t *at_ms;
	json_t *kind;
	const struct kind_format *format = NULL;
	enum ga_rc rc;

	memset(out, 0, sizeof(*out));
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(root)) {
		json_decref(root);
		return ga_err_set(err, GA_EPARSE, "change: not a JSON object");
	}
	if (json_object_get(root, "version") != NULL) {
		/* A targeted result: its own reader checks it whole. */
		json_decref(root);
		rc = service_targeted_from_json(text, len, &out->targeted, &out->at_ms, err);
		if (rc != GA_OK)
			memset(out, 0, sizeof(*out));
		return rc;
	}
	version = json_object_get(root, "v");
	at_ms = json_object_get(root, "at_ms");
	kind = json_object_get(root, "kind");
	if (!json_is_integer(version) || json_integer_value(version) != CODEC_VERSION)
		rc = ga_err_set(err, GA_EPARSE, "change: unknown version");
	else if (!json_is_integer(at_ms) || json_integer_value(at_ms) <= 0)
		rc = ga_err_set(err, GA_EPARSE, "change: \"at_ms\" missing or not positive");
	else if (!json_is_string(kind) || (format = format_of_name(json_string_value(kind))) == NULL)
		rc = ga_err_set(err, GA_EPARSE, "change: unknown kind");
	else if (json_object_size(root) != expected_keys(format))
		rc = ga_err_set(err, GA_EPARSE, "change: fields other than its kind's");
	else
		rc = decode_fields(root, format, &out->removal, err);
	if (rc == GA_OK) {
		out->at_ms = (long long)json_integer_value(at_ms);
		out->removal.kind = format->kind;
	} else {
		memset(out, 0, sizeof(*out));
	}
	json_decref(root);
	return rc;
}
