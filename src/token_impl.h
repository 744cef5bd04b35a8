/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * token_impl.h -- what the token modules share, for them alone: token.c
 * (the account's own record: the refresh lock, the grants, token_get),
 * token_api.c (the HTTPS API's access token, token_get_api) and
 * token_record.c (the record's JSON form). token.h has the contract and
 * the record's form.
 */
#ifndef TOKEN_IMPL_H
#define TOKEN_IMPL_H

#include <time.h>

#include "common.h"
#include "buf.h"
#include "conf.h"
#include "json.h"
#include "status.h"
#include "store.h"
#include "token.h"

#define TOKEN_DEFAULT_EXPIRES	3600	/* no expires_in from the server */
#define TOKEN_RECORD_MAX	(LIM_TOKEN * 3)

/*
 * The account's own record (STORE_TOKEN): 0 and *r, 1 if there is none,
 * -1 on error (ERR_AUTH for a record that cannot be read: sign in again).
 */
int	token_rec_load(struct store *, const char *account,
	    struct token_record *r, struct err *);
int	token_rec_save(struct store *, const char *account,
	    const struct token_record *r, struct err *);
/* token_rec_save of the account's own record, and its kernel copy. */
int	token_rec_save_own(const struct account *, struct store *,
	    const struct token_record *r, struct err *);
/*
 * The account's refresh lock (flock): the fd, or -1 (ERR_TEMP); wait: up
 * to a minute, else fail at once when another process holds it.
 */
int	token_lock(const struct account *, int wait, struct err *);
void	token_unlock(int fd);		/* -1: nothing */
/* Whether r's access token is there and valid beyond the margin at now. */
int	token_usable(const struct token_record *r, const struct account *,
	    time_t now);
/* r's access token into out. */
int	token_give(const struct token_record *r, struct buf *out,
	    struct err *);
/*
 * The grant of the account's flow: client credentials (an assertion or
 * the client secret), else the refresh of cur's refresh token (have: cur
 * was read). 0 and resp, or -1.
 */
int	token_grant(const struct account *, struct store *,
	    const struct token_record *cur, int have, struct json_token *resp,
	    struct err *);

#endif
