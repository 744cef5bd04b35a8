/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * token_api.c -- the access token of the account's HTTPS API transport
 * (token_get_api, token.h): its own record (STORE_API_TOKEN, keyed by the
 * identity as the account's own record is), fetched with the API scope
 * from the account's refresh token or client credentials under the same
 * refresh lock as token.c's; see token_impl.h.
 */
#include "common.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "conf.h"
#include "json.h"
#include "log.h"
#include "status.h"
#include "store.h"
#include "token.h"
#include "token_impl.h"
#include "xmalloc.h"

/* The API token's record of earlier versions: the name "NAME#api". */
#define TOKEN_API_SUFFIX	"#api"

/*
 * The API token's record: STORE_API_TOKEN, keyed by the account's
 * identity as its own record is (store.h).
 */
static int
api_load(struct store *st, const struct account *acct,
    struct token_record *r, struct err *err)
{
	struct buf b;
	int rc;

	memset(r, 0, sizeof(*r));
	buf_init(&b, TOKEN_RECORD_MAX, BUF_SECRET);
	rc = store_get(st, acct->name, STORE_API_TOKEN, &b, err);
	if (rc == 0 && token_record_parse(r, buf_str(&b), b.len, err) == -1)
		rc = -1;
	buf_free(&b);
	return rc;
}

static int
api_save(struct store *st, const struct account *acct,
    const struct token_record *r, struct err *err)
{
	struct buf b;
	int rc;

	buf_init(&b, TOKEN_RECORD_MAX, BUF_SECRET);
	if (token_record_dump(r, &b, err) == -1) {
		buf_free(&b);
		return -1;
	}
	rc = store_put(st, acct->name, STORE_API_TOKEN, buf_str(&b), b.len,
	    err);
	buf_free(&b);
	return rc;
}

/* Whether every word of want is in the space-separated list have. */
static int
scope_covers(const char *have, const char *want)
{
	const char *w, *h;
	size_t n, m;

	if (have == NULL || want == NULL)
		return 0;
	for (w = want; *w != '\0'; w += n) {
		w += strspn(w, " ");
		if ((n = strcspn(w, " ")) == 0)
			break;
		if (n == 14 && strncmp(w, "offline_access", n) == 0)
			continue;
		for (h = have; *h != '\0'; h += m) {
			h += strspn(h, " ");
			m = strcspn(h, " ");
			if (m == n && strncmp(h, w, n) == 0)
				break;
		}
		if (*h == '\0')
			return 0;
	}
	return 1;
}

/* The SMTP token serves the API too (Google's full Gmail scope). */
static int
smtp_token_serves_api(const struct account *acct, struct store *st)
{
	struct token_record r;
	struct err e;
	int yes;

	if (acct->provider != PROVIDER_GOOGLE)
		return 0;
	if (scope_covers(acct->scope, acct->api_scope) ||
	    scope_covers(acct->scope, "https://mail.google.com/"))
		return 1;
	if (token_rec_load(st, acct->name, &r, &e) != 0)
		return 0;
	yes = scope_covers(r.scope, acct->api_scope) ||
	    scope_covers(r.scope, "https://mail.google.com/");
	token_record_free(&r);
	return yes;
}

/* A grant for the API scope; a rotated refresh token saved in cur. */
static int
grant_api(const struct account *acct, struct store *st,
    struct token_record *cur, int have, struct json_token *resp,
    struct err *err)
{
	struct account api = *acct;

	api.scope = acct->api_scope;
	if (token_grant(&api, st, cur, have, resp, err) == -1) {
		if (err->class == ERR_AUTH && have && !cur->needs_login &&
		    acct->flow != FLOW_CLIENT_CREDENTIALS) {
			struct err serr;

			cur->needs_login = 1;
			(void)token_rec_save(st, acct->name, cur, &serr);
		}
		return -1;
	}
	if (resp->access_token == NULL)
		return err_set(err, ERR_PROTO, "the token endpoint's reply "
		    "has no access_token (account %s)", acct->name);
	if (have && resp->refresh_token != NULL &&
	    resp->refresh_token[0] != '\0') {
		xfree_secret(cur->refresh_token);
		cur->refresh_token = resp->refresh_token;
		resp->refresh_token = NULL;
		cur->refresh_issued = time(NULL);
		if (token_rec_save_own(acct, st, cur, err) == -1) {
			err_prefix(err, "account %s: cannot save the new "
			    "refresh token", acct->name);
			err->class = ERR_TEMP;
			return -1;
		}
	}
	return 0;
}

int
token_get_api(const struct account *acct, struct store *st, int force,
    struct buf *out, struct err *err)
{
	struct token_record api, cur;
	struct json_token resp;
	int cached, have, fd = -1, rc = -1;
	time_t now;

	if (smtp_token_serves_api(acct, st))
		return token_get(acct, st, force, out, &cached, err);
	memset(&cur, 0, sizeof(cur));
	json_token_init(&resp);
	/*
	 * The API record is keyed by the identity, as the account's own
	 * record is (store.h): another client_id, endpoint, tenant or user
	 * never finds it. A user's is used only while the account's own
	 * record is there and needs no sign-in; an application's lives an
	 * hour.
	 */
	if (acct->flow == FLOW_CLIENT_CREDENTIALS)
		have = 0;
	else if ((have = token_rec_load(st, acct->name, &cur, err)) == -1)
		return -1;
	if (have == 0 && cur.needs_login)
		have = 1;
	token_record_free(&cur);
	if (have == 0 && (have = api_load(st, acct, &api, err)) == -1)
		memset(&api, 0, sizeof(api));	/* a bad one is replaced */
	if (have == 0 && !force && token_usable(&api, acct, time(NULL))) {
		rc = token_give(&api, out, err);
		token_record_free(&api);
		return rc;
	}
	if (have == 0)
		token_record_free(&api);
	if ((fd = token_lock(acct, 1, err)) == -1)
		return -1;
	if ((have = token_rec_load(st, acct->name, &cur, err)) == -1)
		goto out;
	have = have == 0;
	if (have && cur.needs_login && acct->flow != FLOW_CLIENT_CREDENTIALS) {
		err_set(err, ERR_AUTH, "sign-in needed for account %s: run "
		    "'oauthmail login %s'", acct->name, acct->name);
		goto out;
	}
	if (grant_api(acct, st, &cur, have, &resp, err) == -1)
		goto out;
	now = time(NULL);
	memset(&api, 0, sizeof(api));
	api.access_token = resp.access_token;
	resp.access_token = NULL;
	api.expires_at = now + (resp.expires_in >= 0 ? resp.expires_in :
	    TOKEN_DEFAULT_EXPIRES);
	api.scope = resp.scope != NULL ? xstrdup(resp.scope) :
	    xstrdup(acct->api_scope);
	if (api_save(st, acct, &api, err) == -1)
		log_warnx("account %s: cannot save the API access token: %s",
		    acct->name, err->msg);
	log_debug("account %s: API access token fetched (expires in %llds)",
	    acct->name, (long long)(api.expires_at - now));
	rc = token_give(&api, out, err);
	token_record_free(&api);
 out:
	token_unlock(fd);
	token_record_free(&cur);
	json_token_free(&resp);
	return rc;
}

void
token_forget_api(const struct account *acct, struct store *st)
{
	char name[300];
	struct err e;
	int n;

	n = snprintf(name, sizeof(name), "%s%s", acct->name,
	    TOKEN_API_SUFFIX);
	if (n < 0 || (size_t)n >= sizeof(name))
		return;
	err_clear(&e);
	if (store_delete(st, acct->name, STORE_API_TOKEN, &e) == -1 ||
	    store_delete(st, name, STORE_TOKEN, &e) == -1)
		log_debug("account %s: API token record not removed: %s",
		    acct->name, e.msg);
}
