/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * store_cache.c -- the kernel copy of an account's access token, in front
 * of the Secret Service (store.h): a "user" key "oauthmail:cache <ident>"
 * in the kernel keyring, which the kernel drops by itself at its ttl; see
 * store_impl.h.
 */
#include "common.h"

#include <string.h>

#include "buf.h"
#include "conf.h"
#include "log.h"
#include "status.h"
#include "store.h"
#include "store_impl.h"

#ifdef HAVE_LIBSECRET
#define SECRET_NAME	"secret-service"
#else
#define SECRET_NAME	NULL
#endif

#define STORE_CACHE_MAX_TTL	86400	/* the longest a copy lives */

/* Whether the account keeps the kernel copy of its access token. */
int
store_cache_wanted(const struct account *acct)
{
	return acct->token_cache && SECRET_NAME != NULL &&
	    (acct->keyring == KEYRING_SECRET_SERVICE ||
	    acct->keyring == KEYRING_AUTO);
}

int
store_cache_on(const struct store *st)
{
	/* Not when the kernel keyring failed, or holds the record itself. */
	return st != NULL && st->cache && st->kernel != -1 &&
	    st->where[STORE_TOKEN] != KERNEL_BACKEND;
}

/* The copy's key; 0, or -1 when there is no usable kernel keyring. */
static int
cache_key(struct store *st, struct store_key *k)
{
	struct err err;

	if (!st->cache)
		return -1;
	if (st->kernel == 0) {
		err_clear(&err);
		st->kernel = KERNEL_BACKEND->open(&err) == 0 ? 1 : -1;
		if (st->kernel == -1)
			log_debug("account %s: no kernel copy of the token: %s",
			    st->name, err.msg);
	}
	if (st->kernel != 1)
		return -1;
	memset(k, 0, sizeof(*k));
	k->account = st->name;
	k->kind = STORE_CACHE;
	k->ident = st->id_token;
	k->client_id = st->client_id;
	k->endpoint = st->endpoint;
	k->tenant = st->tenant;
	k->user = st->user;
	return 0;
}

int
store_cache_get(struct store *st, struct buf *out)
{
	struct store_key k;
	struct err err;
	int rc;

	if (cache_key(st, &k) == -1)
		return 1;
	err_clear(&err);
	rc = KERNEL_BACKEND->get(&k, out, &err);
	if (rc == -1)
		log_debug("account %s: kernel copy of the token not read: %s",
		    st->name, err.msg);
	if (rc != 0)
		buf_reset(out);
	return rc == 0 ? 0 : 1;
}

void
store_cache_put(struct store *st, const char *data, size_t len, long ttl)
{
	const struct store_backend *b;
	struct store_key k;
	struct err err;

	if (st->deferred || ttl <= 0 || cache_key(st, &k) == -1)
		return;
	b = st->where[STORE_TOKEN] ? st->where[STORE_TOKEN] : st->primary;
	if (b == KERNEL_BACKEND)
		return;
	k.ttl = ttl < STORE_CACHE_MAX_TTL ? ttl : STORE_CACHE_MAX_TTL;
	err_clear(&err);
	if (KERNEL_BACKEND->put(&k, data, len, &err) == -1)
		log_debug("account %s: no kernel copy of the token: %s",
		    st->name, err.msg);
}

int
store_cache_drop(struct store *st, struct err *err)
{
	struct store_key k;
	struct buf b;
	int there;

	if (cache_key(st, &k) == -1 || KERNEL_BACKEND->del(&k, err) == 0)
		return 0;
	/* Only a copy that is still readable is a failure. */
	buf_init(&b, LIM_TOKEN * 3, BUF_SECRET);
	there = store_cache_get(st, &b) == 0;
	buf_free(&b);
	if (!there) {
		log_debug("account %s: %s", st->name, err->msg);
		err_clear(err);
		return 0;
	}
	return err_prefix(err, "account %s: the kernel copy of its access "
	    "token cannot be removed", st->name);
}

/* Before the account's own token record is written or deleted. */
int
store_cache_drop_for(struct store *st, const char *account,
    enum store_kind kind, struct err *err)
{
	if (kind != STORE_TOKEN || st->name == NULL ||
	    strcmp(account, st->name) != 0)
		return 0;
	return store_cache_drop(st, err);
}

