/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * json.c -- token endpoint replies, JWT claims, output documents and the
 * token record's member reader and writer, through jansson; see json.h.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "buf.h"
#include "json.h"
#include "log.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

/* Longest expires_in / interval we believe: ten years. */
#define JSON_MAX_SECONDS	(10LL * 366 * 24 * 3600)

/*
 * jansson's allocator, wrapped so that every freed block is wiped: a
 * token string parsed by jansson must not linger in freed memory.
 */
#define JSON_HDR	16

static void *
json_wipe_malloc(size_t n)
{
	unsigned char *p;

	if (n > SIZE_MAX - JSON_HDR)
		return NULL;
	if ((p = malloc(n + JSON_HDR)) == NULL)
		return NULL;
	memcpy(p, &n, sizeof(n));
	return p + JSON_HDR;
}

static void
json_wipe_free(void *v)
{
	unsigned char *p;
	size_t n;

	if (v == NULL)
		return;
	p = (unsigned char *)v - JSON_HDR;
	memcpy(&n, p, sizeof(n));
	freezero(p, n + JSON_HDR);
}

void
json_secure_alloc(void)
{
	static int done;

	if (done)
		return;
	json_set_alloc_funcs(json_wipe_malloc, json_wipe_free);
	done = 1;
}

/*
 * Installed before main() whenever this file is linked in, so that no
 * jansson value (e.g. one parsed in sasl.c) can be allocated with one
 * allocator and freed with the other.
 */
static void json_secure_alloc_early(void) __attribute__((__constructor__));

static void
json_secure_alloc_early(void)
{
	json_secure_alloc();
}

void
json_token_init(struct json_token *t)
{
	memset(t, 0, sizeof(*t));
	t->expires_in = -1;
	t->interval = -1;
}

void
json_token_free(struct json_token *t)
{
	xfree_secret(t->access_token);
	free(t->token_type);
	xfree_secret(t->refresh_token);
	xfree_secret(t->id_token);
	free(t->scope);
	free(t->error);
	free(t->error_description);
	xfree_secret(t->device_code);
	free(t->user_code);
	free(t->verification_uri);
	free(t->verification_uri_complete);
	free(t->message);
	json_token_init(t);
}

/* A string field: absent or null -> NULL; another type -> -1. */
static int
get_str(json_t *obj, const char *key, char **out, struct err *err)
{
	json_t *v;

	v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(err, ERR_PROTO,
		    "token endpoint reply: \"%s\" is not a string", key);
	if (*out != NULL)
		xfree_secret(*out);
	*out = xstrndup(json_string_value(v), json_string_length(v));
	if (strlen(*out) != json_string_length(v))
		return err_set(err, ERR_PROTO,
		    "token endpoint reply: \"%s\" contains a NUL", key);
	return 0;
}

/* A count of seconds: a number or a numeric string (Microsoft sends both). */
static int
get_seconds(json_t *obj, const char *key, long long *out, struct err *err)
{
	json_t *v;
	long long n;
	const char *errstr;

	v = json_object_get(obj, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (json_is_integer(v))
		n = json_integer_value(v);
	else if (json_is_real(v)) {
		double d = json_real_value(v);

		if (!(d >= 0 && d <= (double)JSON_MAX_SECONDS))
			return err_set(err, ERR_PROTO,
			    "token endpoint reply: \"%s\" out of range", key);
		n = (long long)d;
	} else if (json_is_string(v)) {
		if (util_parse_ll(json_string_value(v), 0, JSON_MAX_SECONDS,
		    &n, &errstr) == -1)
			return err_set(err, ERR_PROTO,
			    "token endpoint reply: \"%s\" is %s", key, errstr);
	} else
		return err_set(err, ERR_PROTO,
		    "token endpoint reply: \"%s\" is not a number", key);
	if (n < 0 || n > JSON_MAX_SECONDS)
		return err_set(err, ERR_PROTO,
		    "token endpoint reply: \"%s\" out of range", key);
	*out = n;
	return 0;
}

static int
get_codes(json_t *obj, struct json_token *t, struct err *err)
{
	json_t *v, *e;
	size_t i;

	v = json_object_get(obj, "error_codes");
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return err_set(err, ERR_PROTO,
		    "token endpoint reply: \"error_codes\" is not an array");
	json_array_foreach(v, i, e) {
		if (!json_is_integer(e))
			return err_set(err, ERR_PROTO, "token endpoint reply: "
			    "\"error_codes\" holds a non-integer");
		if (t->nerror_codes < JSON_MAX_ERROR_CODES)
			t->error_codes[t->nerror_codes++] =
			    json_integer_value(e);
	}
	return 0;
}

int
json_token_parse(struct json_token *t, const char *body, size_t len,
    struct err *err)
{
	json_t *root;
	json_error_t jerr;
	char where[128];
	int rc = -1;

	json_secure_alloc();
	json_token_init(t);
	if (len > LIM_HTTP_BODY)
		return err_set(err, ERR_PROTO, "token endpoint reply too large "
		    "(%zu bytes, limit %d)", len, LIM_HTTP_BODY);
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL) {
		util_sanitize(where, sizeof(where), jerr.text,
		    strnlen(jerr.text, sizeof(jerr.text)));
		return err_set(err, ERR_PROTO, "token endpoint reply is not "
		    "valid JSON (line %d: %s)", jerr.line, where);
	}
	if (!json_is_object(root)) {
		err_set(err, ERR_PROTO,
		    "token endpoint reply is not a JSON object");
		goto out;
	}
	if (get_str(root, "access_token", &t->access_token, err) == -1 ||
	    get_str(root, "token_type", &t->token_type, err) == -1 ||
	    get_seconds(root, "expires_in", &t->expires_in, err) == -1 ||
	    get_str(root, "refresh_token", &t->refresh_token, err) == -1 ||
	    get_str(root, "id_token", &t->id_token, err) == -1 ||
	    get_str(root, "scope", &t->scope, err) == -1 ||
	    get_str(root, "error", &t->error, err) == -1 ||
	    get_str(root, "error_description", &t->error_description,
	    err) == -1 ||
	    get_codes(root, t, err) == -1 ||
	    get_str(root, "device_code", &t->device_code, err) == -1 ||
	    get_str(root, "user_code", &t->user_code, err) == -1 ||
	    get_str(root, "verification_uri", &t->verification_uri,
	    err) == -1 ||
	    get_str(root, "verification_uri_complete",
	    &t->verification_uri_complete, err) == -1 ||
	    get_str(root, "message", &t->message, err) == -1 ||
	    get_seconds(root, "interval", &t->interval, err) == -1)
		goto out;
	if (t->verification_uri == NULL &&
	    get_str(root, "verification_url", &t->verification_uri, err) == -1)
		goto out;
	if (t->access_token != NULL && t->access_token[0] == '\0') {
		err_set(err, ERR_PROTO,
		    "token endpoint reply: empty access_token");
		goto out;
	}
	if (t->access_token != NULL && strlen(t->access_token) > LIM_TOKEN) {
		err_set(err, ERR_PROTO, "token endpoint reply: access_token "
		    "longer than %d bytes", LIM_TOKEN);
		goto out;
	}
	rc = 0;
 out:
	json_decref(root);
	if (rc == -1)
		json_token_free(t);
	return rc;
}

/* A string or an array of strings, joined with ' '. */
static char *
claim_str(json_t *obj, const char *key)
{
	json_t *v, *e;
	struct buf b;
	size_t i;

	v = json_object_get(obj, key);
	if (v == NULL)
		return NULL;
	if (json_is_string(v))
		return xstrdup(json_string_value(v));
	if (!json_is_array(v))
		return NULL;
	buf_init(&b, LIM_HTTP_BODY, 0);
	json_array_foreach(v, i, e) {
		if (!json_is_string(e))
			continue;
		if ((b.len > 0 && buf_addc(&b, ' ') == -1) ||
		    buf_adds(&b, json_string_value(e)) == -1)
			return NULL;
	}
	return buf_detach(&b, NULL);
}

void
json_jwt_free(struct json_jwt *j)
{
	free(j->aud);
	free(j->scp);
	free(j->roles);
	free(j->upn);
	free(j->tid);
	memset(j, 0, sizeof(*j));
	j->exp = -1;
}

int
json_jwt_claims(const char *token, struct json_jwt *j, struct err *err)
{
	const char *p, *q;
	struct buf b;
	json_t *root, *v;
	json_error_t jerr;

	json_secure_alloc();
	memset(j, 0, sizeof(*j));
	j->exp = -1;
	if ((p = strchr(token, '.')) == NULL ||
	    (q = strchr(p + 1, '.')) == NULL || q == p + 1)
		return err_set(err, ERR_DATA,
		    "the access token is not a JWT (opaque token)");
	p++;
	buf_init(&b, LIM_TOKEN, BUF_SECRET);
	if (util_b64url_decode(&b, p, (size_t)(q - p)) == -1) {
		buf_free(&b);
		return err_set(err, ERR_DATA,
		    "the access token's payload is not base64url");
	}
	root = json_loadb(buf_str(&b), b.len, JSON_REJECT_DUPLICATES, &jerr);
	buf_free(&b);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		return err_set(err, ERR_DATA,
		    "the access token's payload is not a JSON object");
	}
	j->aud = claim_str(root, "aud");
	j->scp = claim_str(root, "scp");
	if (j->scp == NULL)
		j->scp = claim_str(root, "scope");
	j->roles = claim_str(root, "roles");
	if ((j->upn = claim_str(root, "upn")) == NULL &&
	    (j->upn = claim_str(root, "preferred_username")) == NULL &&
	    (j->upn = claim_str(root, "unique_name")) == NULL)
		j->upn = claim_str(root, "email");
	j->tid = claim_str(root, "tid");
	v = json_object_get(root, "exp");
	if (json_is_integer(v))
		j->exp = json_integer_value(v);
	else if (json_is_real(v))
		j->exp = (long long)json_real_value(v);
	json_decref(root);
	return 0;
}

/* Appends " key=value" for a string or integer member key of obj. */
static void
describe_field(struct buf *b, json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	if (json_is_string(v))
		(void)buf_addf(b, "%s%s=%.200s", b->len ? " " : "", key,
		    json_string_value(v));
	else if (json_is_integer(v))
		(void)buf_addf(b, "%s%s=%lld", b->len ? " " : "", key,
		    (long long)json_integer_value(v));
}

int
json_describe(const char *text, size_t len, const char *const *keys,
    struct buf *out)
{
	json_t *root;
	json_error_t jerr;

	json_secure_alloc();
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		return -1;
	}
	for (; *keys != NULL; keys++)
		describe_field(out, root, *keys);
	json_decref(root);
	return 0;
}

size_t
json_redact(const char *text, size_t len, const char *const *keys,
    size_t nkeys, char *out, size_t outsize)
{
	json_t *root, *v;
	json_error_t jerr;
	char note[64];
	size_t i, n;

	json_secure_alloc();
	root = json_loadb(text, len, 0, &jerr);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		return 0;
	}
	for (i = 0; i < nkeys; i++) {
		if ((v = json_object_get(root, keys[i])) == NULL)
			continue;
		(void)snprintf(note, sizeof(note), "[redacted, %zu bytes]",
		    json_is_string(v) ? json_string_length(v) : (size_t)0);
		json_object_set_new(root, keys[i], json_string(note));
	}
	n = json_dumpb(root, out, outsize, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (n == 0 || n > outsize) {
		explicit_bzero(out, outsize);
		return 0;
	}
	return n;
}

int
json_string_member(const char *text, size_t len, const char *key, char *dst,
    size_t size)
{
	json_t *root;
	const char *v;
	int rc = -1;

	json_secure_alloc();
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	if (json_is_object(root) &&
	    (v = json_string_value(json_object_get(root, key))) != NULL &&
	    strlcpy(dst, v, size) < size)
		rc = 0;
	json_decref(root);
	return rc;
}

/* ---- reading an object member by member ---- */

static json_t *
jin_node(struct jin *j)
{
	return (json_t *)(void *)j;
}

struct jin *
jin_parse(const char *text, size_t len, int *line)
{
	json_t *root;
	json_error_t jerr;

	json_secure_alloc();
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		*line = jerr.line;
		return NULL;
	}
	return (struct jin *)(void *)root;
}

/* key's value: NULL when absent or null. */
static json_t *
jin_get(struct jin *j, const char *key)
{
	json_t *v = json_object_get(jin_node(j), key);

	return json_is_null(v) ? NULL : v;
}

int
jin_str(struct jin *j, const char *key, const char **v)
{
	json_t *n;

	if ((n = jin_get(j, key)) == NULL)
		return 0;
	if (!json_is_string(n))
		return -1;
	*v = json_string_value(n);
	return 1;
}

int
jin_int(struct jin *j, const char *key, long long *v)
{
	json_t *n;

	if ((n = jin_get(j, key)) == NULL)
		return 0;
	if (!json_is_integer(n))
		return -1;
	*v = json_integer_value(n);
	return 1;
}

int
jin_bool(struct jin *j, const char *key, int *v)
{
	json_t *n;

	if ((n = jin_get(j, key)) == NULL)
		return 0;
	if (!json_is_boolean(n))
		return -1;
	*v = json_is_true(n);
	return 1;
}

void
jin_free(struct jin *j)
{
	if (j != NULL)
		json_decref(jin_node(j));
}

const char *
json_library_version(void)
{
	return jansson_version_str();
}

/* ---- output documents ---- */

static json_t *
jnode(struct jout *j)
{
	return (json_t *)(void *)j;
}

static struct jout *
jwrap(json_t *v)
{
	if (v == NULL)
		fatalx("out of memory building JSON output");
	return (struct jout *)(void *)v;
}

struct jout *
jout_object(void)
{
	json_secure_alloc();
	return jwrap(json_object());
}

struct jout *
jout_array(void)
{
	json_secure_alloc();
	return jwrap(json_array());
}

void
jout_set(struct jout *obj, const char *key, struct jout *child)
{
	if (json_object_set_new(jnode(obj), key, jnode(child)) == -1)
		fatalx("out of memory building JSON output");
}

/* A string value; bytes >= 0x80 of invalid UTF-8 become '?'. */
static json_t *
jstring(const char *v)
{
	json_t *s;
	char *copy, *p;

	if (v == NULL)
		return json_null();
	if ((s = json_string(v)) != NULL)
		return s;
	copy = xstrdup(v);
	for (p = copy; *p != '\0'; p++)
		if ((unsigned char)*p >= 0x80)
			*p = '?';
	s = json_string(copy);
	free(copy);
	return s;
}

void
jout_set_str(struct jout *obj, const char *key, const char *v)
{
	jout_set(obj, key, jwrap(jstring(v)));
}

void
jout_set_int(struct jout *obj, const char *key, long long v)
{
	jout_set(obj, key, jwrap(json_integer((json_int_t)v)));
}

void
jout_set_null(struct jout *obj, const char *key)
{
	jout_set(obj, key, jwrap(json_null()));
}

void
jout_append(struct jout *arr, struct jout *child)
{
	if (json_array_append_new(jnode(arr), jnode(child)) == -1)
		fatalx("out of memory building JSON output");
}

int
jout_set_exact(struct jout *obj, const char *key, const char *v)
{
	json_t *s;

	if ((s = json_string(v)) == NULL)
		return -1;
	jout_set(obj, key, jwrap(s));
	return 0;
}

void
jout_set_bool(struct jout *obj, const char *key, int v)
{
	jout_set(obj, key, jwrap(json_boolean(v)));
}

int
jout_print(struct jout *j, FILE *out, struct err *err)
{
	if (json_dumpf(jnode(j), out, JSON_INDENT(2)) == -1 ||
	    fputc('\n', out) == EOF || fflush(out) == EOF)
		return err_set(err, ERR_IO, "writing JSON output: %s",
		    strerror(errno));
	return 0;
}

int
jout_dump(struct jout *j, size_t max, struct buf *out)
{
	const size_t flags = JSON_COMPACT | JSON_PRESERVE_ORDER;
	char *text;
	size_t n;
	int rc = -1;

	n = json_dumpb(jnode(j), NULL, 0, flags);
	if (n == 0 || n > max)
		return -1;
	text = xmalloc(n);
	if (json_dumpb(jnode(j), text, n, flags) == n) {
		buf_reset(out);
		rc = buf_add(out, text, n);
	}
	freezero(text, n);
	return rc;
}

void
jout_free(struct jout *j)
{
	if (j != NULL)
		json_decref(jnode(j));
}

static void
api_str(json_t *o, const char *key, char *dst, size_t size)
{
	json_t *v = json_object_get(o, key);
	const char *s;

	if (json_is_string(v)) {
		s = json_string_value(v);
		util_sanitize(dst, size, s, strlen(s));
	}
}

int
json_api_reply_parse(const char *body, size_t len,
    struct json_api_reply *out)
{
	json_t *root, *e, *errs;
	json_error_t jerr;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len > LIM_HTTP_BODY)
		return -1;
	root = json_loadb(body, len, 0, &jerr);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		return -1;
	}
	api_str(root, "id", out->id, sizeof(out->id));
	e = json_object_get(root, "error");
	if (json_is_object(e)) {
		api_str(e, "code", out->code, sizeof(out->code));
		if (out->code[0] == '\0')
			api_str(e, "status", out->code, sizeof(out->code));
		api_str(e, "message", out->message, sizeof(out->message));
		errs = json_object_get(e, "errors");
		if (json_is_array(errs) && json_is_object(json_array_get(errs,
		    0)))
			api_str(json_array_get(errs, 0), "reason", out->reason,
			    sizeof(out->reason));
	} else if (json_is_string(e))
		util_sanitize(out->code, sizeof(out->code),
		    json_string_value(e), strlen(json_string_value(e)));
	json_decref(root);
	return 0;
}
