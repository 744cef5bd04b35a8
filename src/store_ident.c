/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * store_ident.c -- the key of each keyring record (store.h): the name of
 * its kind, and an OAuth account's token record, API token, client
 * secret and key by the identity they belong to, everything else by
 * name; the identity a name last stored under (STORE_IDENTITY); and the
 * move of a record of an earlier version, keyed by name, to its
 * identity's key. See store_impl.h.
 */
#include "common.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "seal.h"
#include "status.h"
#include "store.h"
#include "store_impl.h"
#include "xmalloc.h"

#define KERNEL_IDENT_MAX	4096	/* an identity text */

const char *
store_kind_name(enum store_kind k)
{
	switch (k) {
	case STORE_TOKEN:
		return "token";
	case STORE_CLIENT_SECRET:
		return "client_secret";
	case STORE_PASSWORD:
		return "password";
	case STORE_CLIENT_KEY:
		return "client_key";
	case STORE_API_TOKEN:
		return "api_token";
	case STORE_IDENTITY:
		return "identity";
	case STORE_CACHE:
		return "cache";
	}
	return "unknown";
}

static char *
nz(const char *s)
{
	return xstrdup(s != NULL ? s : "");
}

/* The identities of an OAuth account's token and client secret. */
void
store_ident_setup(struct store *st, const struct account *acct)
{
	char *base;

	st->name = xstrdup(acct->name);
	st->app_only = acct->flow == FLOW_CLIENT_CREDENTIALS;
	if (!conf_is_oauth(acct) || acct->client_id == NULL ||
	    acct->token_endpoint == NULL)
		return;
	st->client_id = nz(acct->client_id);
	st->endpoint = nz(acct->token_endpoint);
	st->tenant = nz(acct->tenant);
	st->user = nz(acct->user);
	base = xasprintf("client_id=%s token_endpoint=%s%s%s", st->client_id,
	    st->endpoint, *st->tenant != '\0' ? " tenant=" : "", st->tenant);
	st->id_secret = base;
	st->id_token = xasprintf("%s%s%s", base, *st->user != '\0' ?
	    " user=" : "", st->user);
}

/* A token record: keyed by the whole identity, user included. */
static int
is_token(enum store_kind kind)
{
	return kind == STORE_TOKEN || kind == STORE_API_TOKEN;
}

/* The key of a record: by identity for the opened account's OAuth kinds. */
void
store_key_for(const struct store *st, const char *account, enum store_kind kind,
    struct store_key *k)
{
	memset(k, 0, sizeof(*k));
	k->account = account;
	k->kind = kind;
	k->client_id = k->endpoint = k->tenant = k->user = "";
	if (st->id_token == NULL || strcmp(account, st->name) != 0 ||
	    (kind != STORE_TOKEN && kind != STORE_CLIENT_SECRET &&
	    kind != STORE_CLIENT_KEY && kind != STORE_API_TOKEN))
		return;
	k->ident = is_token(kind) ? st->id_token : st->id_secret;
	k->client_id = st->client_id;
	k->endpoint = st->endpoint;
	k->tenant = st->tenant;
	if (is_token(kind))
		k->user = st->user;
}

/* The key by name (earlier versions; passwords; STORE_IDENTITY). */
void
store_name_key(const char *account, enum store_kind kind, struct store_key *k)
{
	memset(k, 0, sizeof(*k));
	k->account = account;
	k->kind = kind;
	k->client_id = k->endpoint = k->tenant = k->user = "";
}

/*
 * The key of k's record in earlier versions, keyed by name: the API
 * token's was the token record of "NAME#api" (its name in buf).
 */
void
store_legacy_key(const struct store_key *k, char *buf, size_t size,
    struct store_key *old)
{
	if (k->kind != STORE_API_TOKEN) {
		store_name_key(k->account, k->kind, old);
		return;
	}
	(void)snprintf(buf, size, "%s#api", k->account);
	store_name_key(buf, STORE_TOKEN, old);
}

/* The value of field f in an identity text ("" if absent) into dst. */
static void
ident_field(const char *id, const char *f, char *dst, size_t size)
{
	size_t n = strlen(f), i;
	const char *p = id;

	*dst = '\0';
	while (p != NULL && *p != '\0') {
		if (strncmp(p, f, n) == 0 && p[n] == '=') {
			p += n + 1;
			for (i = 0; p[i] != '\0' && p[i] != ' ' && i + 1 < size;
			    i++)
				dst[i] = p[i];
			dst[i] = '\0';
			return;
		}
		if ((p = strchr(p, ' ')) != NULL)
			p++;
	}
}

/*
 * Which part of the identity the name's last sign-in had differs from
 * the account's now: "client_id", "user", "tenant", "token_endpoint", or
 * NULL when it is the same or unknown.
 */
static const char *
ident_changed(struct store *st, const char *account)
{
	static const char *fields[] = {
		"client_id", "user", "tenant", "token_endpoint"
	};
	struct store_key k;
	struct buf b;
	struct err err;
	const char *why = NULL;
	char was[1024], now[1024];
	size_t i;

	store_name_key(account, STORE_IDENTITY, &k);
	buf_init(&b, KERNEL_IDENT_MAX, 0);
	err_clear(&err);
	if (st->backend->get(&k, &b, &err) == 0 &&
	    strcmp(buf_str(&b), st->id_token) != 0) {
		why = "identity";
		for (i = 0; i < nitems(fields); i++) {
			ident_field(buf_str(&b), fields[i], was, sizeof(was));
			ident_field(st->id_token, fields[i], now, sizeof(now));
			if (strcmp(was, now) != 0) {
				why = fields[i];
				break;
			}
		}
	} else if (err.class != ERR_NONE)
		log_debug("account %s: %s", account, err.msg);
	buf_free(&b);
	return why;
}

/*
 * Records which identity the name now stores under (for ident_changed);
 * returns 1 if that changed. Best effort.
 */
int
store_ident_remember(struct store *st, const char *account)
{
	struct store_key k;
	struct buf b;
	struct err err;
	int same;

	store_name_key(account, STORE_IDENTITY, &k);
	buf_init(&b, KERNEL_IDENT_MAX, 0);
	err_clear(&err);
	same = st->backend->get(&k, &b, &err) == 0 &&
	    strcmp(buf_str(&b), st->id_token) == 0;
	buf_free(&b);
	if (same)
		return 0;
	if (st->backend->put(&k, st->id_token, strlen(st->id_token),
	    &err) == -1)
		log_debug("account %s: %s", account, err.msg);
	return 1;
}

/*
 * Nothing under the identity's key k: a record of an earlier version
 * (keyed by name) moves there unless the name was last used with another
 * identity. 0 and out, 1 none, -1 error (ERR_AUTH: the identity changed).
 */
int
store_ident_migrate(struct store *st, const struct store_key *k,
    struct buf *out, struct err *err)
{
	struct store_key old;
	struct err derr;
	const char *why;
	char oldname[512];
	int rc;

	store_legacy_key(k, oldname, sizeof(oldname), &old);
	if ((rc = st->backend->get(&old, out, err)) == -1)
		return -1;
	why = ident_changed(st, k->account);
	if (why == NULL) {
		/*
		 * Another process may have moved it (and even refreshed it)
		 * since the caller looked: the identity's key wins.
		 */
		err_clear(&derr);
		if (rc == 1)
			return st->backend->get(k, out, err);
		if (st->backend->get(k, out, &derr) == 0)
			return 0;
		if ((rc = st->backend->get(&old, out, err)) != 0)
			return rc == -1 ? -1 : st->backend->get(k, out, err);
		if (st->backend->put(k, out->data, out->len, &derr) == -1) {
			log_warnx("account %s: the %s stays under the "
			    "account's name: %s", k->account,
			    store_kind_name(k->kind), derr.msg);
			return 0;
		}
		if (k->kind != STORE_API_TOKEN)
			(void)store_ident_remember(st, k->account);
		else if (st->sealed)
			(void)seal_remove(st->qfd, old.account, &derr);
		if (st->backend->del(&old, &derr) == -1)
			log_debug("account %s: %s", k->account, derr.msg);
		log_info("account %s: %s moved to the key of its identity (%s)",
		    k->account, store_kind_name(k->kind), k->ident);
		return 0;
	}
	buf_reset(out);
	if (rc == 0 && k->kind == STORE_API_TOKEN) {
		/* Another identity's access token: never used. */
		err_clear(&derr);
		if (st->backend->del(&old, &derr) == -1)
			log_debug("account %s: %s", k->account, derr.msg);
		log_info("account %s: the API token of its earlier %s "
		    "removed, not used", k->account, why);
		return 1;
	}
	/* An application fetches its new token itself. */
	if (why != NULL && k->kind == STORE_TOKEN && !st->app_only)
		return err_set(err, ERR_AUTH, "sign in again: the %s of "
		    "account %s changed since its sign-in, so its token is "
		    "not used: run 'oauthmail login %s'", why, k->account,
		    k->account);
	return 1;
}
