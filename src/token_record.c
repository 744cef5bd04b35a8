/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * token_record.c -- the token record's stored form (token.h): one JSON
 * object, parsed defensively (every field checked for its type, no
 * duplicate keys, a bounded size) and written compactly, in jansson's
 * secret-wiping allocator (json_secure_alloc); see token_impl.h.
 */
#include "common.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "buf.h"
#include "json.h"
#include "status.h"
#include "token.h"
#include "token_impl.h"
#include "xmalloc.h"

void
token_record_free(struct token_record *r)
{
	xfree_secret(r->access_token);
	xfree_secret(r->refresh_token);
	free(r->scope);
	memset(r, 0, sizeof(*r));
}

static int
rec_str(json_t *root, const char *key, char **out, struct err *err)
{
	json_t *v = json_object_get(root, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_set(err, ERR_DATA, "token record: \"%s\" is not a "
		    "string", key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

static int
rec_time(json_t *root, const char *key, time_t *out, struct err *err)
{
	json_t *v = json_object_get(root, key);

	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return err_set(err, ERR_DATA, "token record: \"%s\" is not a "
		    "time", key);
	*out = (time_t)json_integer_value(v);
	return 0;
}

int
token_record_parse(struct token_record *r, const char *text, size_t len,
    struct err *err)
{
	json_t *root, *v;
	json_error_t jerr;
	int rc = -1;

	json_secure_alloc();
	memset(r, 0, sizeof(*r));
	if (len > TOKEN_RECORD_MAX)
		return err_set(err, ERR_DATA, "token record too large");
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		return err_set(err, ERR_DATA, "the stored token record is not "
		    "a JSON object (line %d)", jerr.line);
	}
	if (rec_str(root, "access_token", &r->access_token, err) == -1 ||
	    rec_time(root, "expires_at", &r->expires_at, err) == -1 ||
	    rec_time(root, "expires_in", &r->lifetime, err) == -1 ||
	    rec_str(root, "refresh_token", &r->refresh_token, err) == -1 ||
	    rec_time(root, "refresh_issued", &r->refresh_issued, err) == -1 ||
	    rec_time(root, "last_success", &r->last_success, err) == -1 ||
	    rec_str(root, "scope", &r->scope, err) == -1)
		goto out;
	v = json_object_get(root, "needs_login");
	if (v != NULL && !json_is_null(v)) {
		if (!json_is_boolean(v)) {
			err_set(err, ERR_DATA, "token record: \"needs_login\" "
			    "is not a boolean");
			goto out;
		}
		r->needs_login = json_is_true(v);
	}
	rc = 0;
 out:
	json_decref(root);
	if (rc == -1)
		token_record_free(r);
	return rc;
}

static int
set_str(json_t *root, const char *key, const char *val)
{
	if (val == NULL)
		return 0;
	return json_object_set_new(root, key, json_string(val));
}

int
token_record_dump(const struct token_record *r, struct buf *out,
    struct err *err)
{
	json_t *root;
	size_t n;
	char *text;
	int rc = -1;

	json_secure_alloc();
	if ((root = json_object()) == NULL)
		return err_set(err, ERR_OS, "out of memory");
	if (set_str(root, "access_token", r->access_token) == -1 ||
	    json_object_set_new(root, "expires_at",
	    json_integer((json_int_t)r->expires_at)) == -1 ||
	    (r->lifetime > 0 && json_object_set_new(root, "expires_in",
	    json_integer((json_int_t)r->lifetime)) == -1) ||
	    set_str(root, "refresh_token", r->refresh_token) == -1 ||
	    json_object_set_new(root, "refresh_issued",
	    json_integer((json_int_t)r->refresh_issued)) == -1 ||
	    json_object_set_new(root, "last_success",
	    json_integer((json_int_t)r->last_success)) == -1 ||
	    json_object_set_new(root, "needs_login",
	    json_boolean(r->needs_login)) == -1 ||
	    set_str(root, "scope", r->scope) == -1) {
		json_decref(root);
		return err_set(err, ERR_OS, "out of memory");
	}
	n = json_dumpb(root, NULL, 0, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (n == 0 || n > TOKEN_RECORD_MAX) {
		json_decref(root);
		return err_set(err, ERR_DATA, "token record too large");
	}
	text = xmalloc(n);
	if (json_dumpb(root, text, n, JSON_COMPACT | JSON_PRESERVE_ORDER) ==
	    n) {
		buf_reset(out);
		if (buf_add(out, text, n) == 0)
			rc = 0;
		else
			err_set(err, ERR_DATA, "token record too large");
	} else
		err_set(err, ERR_INTERNAL, "json_dumpb failed");
	freezero(text, n);
	json_decref(root);
	return rc;
}
