/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * token_record.c -- the token record's stored form (token.h): one JSON
 * object, parsed defensively (every field checked for its type, no
 * duplicate keys, a bounded size) and written compactly, through json.c's
 * member reader and writer (jansson's secret-wiping allocator); see
 * token_impl.h.
 */
#include "common.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

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
rec_str(struct jin *root, const char *key, char **out, struct err *err)
{
	const char *v;
	int rc;

	if ((rc = jin_str(root, key, &v)) == -1)
		return err_set(err, ERR_DATA, "token record: \"%s\" is not a "
		    "string", key);
	if (rc == 1)
		*out = xstrdup(v);
	return 0;
}

static int
rec_time(struct jin *root, const char *key, time_t *out, struct err *err)
{
	long long v;
	int rc;

	if ((rc = jin_int(root, key, &v)) == -1 || (rc == 1 && v < 0))
		return err_set(err, ERR_DATA, "token record: \"%s\" is not a "
		    "time", key);
	if (rc == 1)
		*out = (time_t)v;
	return 0;
}

int
token_record_parse(struct token_record *r, const char *text, size_t len,
    struct err *err)
{
	struct jin *root;
	int line, rc = -1;

	memset(r, 0, sizeof(*r));
	if (len > TOKEN_RECORD_MAX)
		return err_set(err, ERR_DATA, "token record too large");
	if ((root = jin_parse(text, len, &line)) == NULL)
		return err_set(err, ERR_DATA, "the stored token record is not "
		    "a JSON object (line %d)", line);
	if (rec_str(root, "access_token", &r->access_token, err) == -1 ||
	    rec_time(root, "expires_at", &r->expires_at, err) == -1 ||
	    rec_time(root, "expires_in", &r->lifetime, err) == -1 ||
	    rec_str(root, "refresh_token", &r->refresh_token, err) == -1 ||
	    rec_time(root, "refresh_issued", &r->refresh_issued, err) == -1 ||
	    rec_time(root, "last_success", &r->last_success, err) == -1 ||
	    rec_str(root, "scope", &r->scope, err) == -1)
		goto out;
	if (jin_bool(root, "needs_login", &r->needs_login) == -1) {
		err_set(err, ERR_DATA, "token record: \"needs_login\" "
		    "is not a boolean");
		goto out;
	}
	rc = 0;
 out:
	jin_free(root);
	if (rc == -1)
		token_record_free(r);
	return rc;
}

static int
set_str(struct jout *root, const char *key, const char *val)
{
	if (val == NULL)
		return 0;
	return jout_set_exact(root, key, val);
}

int
token_record_dump(const struct token_record *r, struct buf *out,
    struct err *err)
{
	struct jout *root;
	int rc;

	root = jout_object();
	rc = set_str(root, "access_token", r->access_token);
	jout_set_int(root, "expires_at", (long long)r->expires_at);
	if (r->lifetime > 0)
		jout_set_int(root, "expires_in", (long long)r->lifetime);
	rc |= set_str(root, "refresh_token", r->refresh_token);
	jout_set_int(root, "refresh_issued", (long long)r->refresh_issued);
	jout_set_int(root, "last_success", (long long)r->last_success);
	jout_set_bool(root, "needs_login", r->needs_login);
	rc |= set_str(root, "scope", r->scope);
	if (rc == -1) {
		jout_free(root);
		return err_set(err, ERR_OS, "out of memory");
	}
	rc = jout_dump(root, TOKEN_RECORD_MAX, out);
	jout_free(root);
	if (rc == -1)
		return err_set(err, ERR_DATA, "token record too large");
	return 0;
}
