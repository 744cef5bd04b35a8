/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * token.h -- a valid access token for an account: cached in the keyring,
 * refreshed ahead of expiry (margin), rotated refresh token saved before
 * the access token is used, refresh serialised across processes with a
 * lock; client-credentials accounts use their client secret.
 *
 * Token record (stored as JSON under STORE_TOKEN):
 *   {"access_token":..., "expires_at":<unix>, "expires_in":<seconds>,
 *    "refresh_token":..., "refresh_issued":<unix>, "last_success":<unix>,
 *    "needs_login":bool, "scope":...}
 * expires_in is the access token's lifetime as issued (absent in records
 * written before it was kept): the refresh margin is capped at
 * 1/TOKEN_MARGIN_DIV of it, so a token that lives no longer than the
 * margin (Keycloak: 5 minutes) is not "expiring" from its birth.
 */
#ifndef TOKEN_H
#define TOKEN_H

#include <time.h>

#include "common.h"
#include "buf.h"
#include "conf.h"
#include "json.h"
#include "status.h"
#include "store.h"

struct token_record {
	char	*access_token;		/* secret */
	time_t	 expires_at;
	time_t	 lifetime;		/* "expires_in"; 0 unknown */
	char	*refresh_token;		/* secret */
	time_t	 refresh_issued;
	time_t	 last_success;
	int	 needs_login;
	char	*scope;
};

#define TOKEN_MARGIN_DIV	3	/* margin <= a third of the lifetime */

void	token_record_free(struct token_record *);	/* wipes */
int	token_record_parse(struct token_record *, const char *json, size_t len,
	    struct err *);
int	token_record_dump(const struct token_record *, struct buf *out,
	    struct err *);

/*
 * Seconds before expires_at at which r is refreshed: the account's
 * refresh_margin, at most lifetime / TOKEN_MARGIN_DIV when it is known.
 */
long	token_margin(const struct token_record *r, const struct account *);

/*
 * Puts a usable access token for acct into out (a BUF_SECRET buffer).
 * force: refresh even if the cached one looks valid (after a 535).
 * *was_cached says where the token came from: TOKEN_REFRESHED (0), else
 * unchanged from the keyring's record (TOKEN_FROM_RECORD) or from its
 * kernel copy (TOKEN_FROM_COPY); both are true as a flag.
 * Errors: ERR_TEMP (network, 5xx, temporarily_unavailable, keyring
 * unavailable; nothing deleted), ERR_AUTH (invalid_grant / no token:
 * "run 'oauthmail login ACCOUNT'"), ERR_CONFIG (invalid_client,
 * unauthorized_client, invalid_scope, with the fix).
 */
enum {
	TOKEN_REFRESHED = 0,
	TOKEN_FROM_RECORD = 1,
	TOKEN_FROM_COPY = 2
};
int	token_get(const struct account *acct, struct store *st, int force,
	    struct buf *out, int *was_cached, struct err *err);
/*
 * The client credentials grant of an account that signs in without a
 * secret: with an assertion signed by the private key of its
 * client_certificate (the systemd credential key.ACCOUNT, else the
 * keyring's; jwt.h), or read afresh from its client_assertion_file.
 * Returns 1 without a request when the account has neither (it uses a
 * client secret), else 0 or -1 as oauth_client_assertion; ERR_CONFIG
 * when no key is stored, with the command that stores one.
 */
int	token_assertion_grant(const struct account *acct, struct store *st,
	    struct json_token *resp, struct err *err);

/*
 * The access token for the account's HTTPS API transport (api.h): a
 * second access token with acct->api_scope from the same refresh token
 * (or the same client credentials), kept in its own record
 * (STORE_API_TOKEN, keyed by the identity as the account's own record is;
 * access token and expiry only) and refreshed under the same
 * lock; a refresh token rotated by that refresh is saved in the account's
 * own record first. A token that already carries the API scope (Google's
 * https://mail.google.com/ covers the Gmail API) is the SMTP token itself.
 * Errors as token_get.
 */
int	token_get_api(const struct account *acct, struct store *st, int force,
	    struct buf *out, struct err *err);
/* Drops the API token's record (logout, a new sign-in); best effort. */
void	token_forget_api(const struct account *acct, struct store *st);
/*
 * When the access token of the kernel copy (store.h) expires: 0 and
 * *expires_at, 1 when there is none a send would use.
 */
int	token_cache_expires(const struct account *acct, struct store *st,
	    time_t *expires_at);
/*
 * Makes the kernel copy of the access token (store.h) from the record
 * now in the keyring, under the refresh lock (skipped when another
 * process holds it: it is refreshing); after a sign-in, or a send that
 * found none. Best effort.
 */
void	token_cache_fill(const struct account *acct, struct store *st);
/* Records a successful AUTH (last_success) — best effort. */
void	token_mark_success(const struct account *acct, struct store *st);

#endif
