/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * login.h -- first sign-in (authorization code + PKCE with a loopback
 * redirect listener, RFC 8628 device authorization, client credentials)
 * and revocation at logout.
 *
 * Nothing here prints or logs a token, a code, a verifier or a secret.
 */
#ifndef LOGIN_H
#define LOGIN_H

#include "common.h"
#include "args.h"
#include "conf.h"
#include "status.h"
#include "store.h"

/*
 * Signs acct in with flow (LOGIN_DEFAULT picks: client_credentials when
 * that is the account's flow; flow device -> device; flow authcode ->
 * browser; unset -> browser when $DISPLAY or $WAYLAND_DISPLAY is set,
 * else device, except Google: browser with the URL printed), stores the
 * token record in the keyring and prints one line on stderr
 * ("signed in as ...; token stored in ..."). Progress and prompts go to
 * stderr. Ctrl-C stops a waiting flow cleanly; nothing is stored.
 * Errors: ERR_USAGE (--device for Google), ERR_CONFIG (not an OAuth
 * account, missing endpoint/client_id/client secret, provider refusals
 * that need a config fix), ERR_AUTH (declined, expired, wrong state,
 * interrupted, timed out), ERR_TEMP (network, keyring unavailable),
 * ERR_OS.
 */
int	login_run(const struct account *acct, enum inv_login flow,
	    struct err *err);

/*
 * Best-effort revocation of the stored refresh token (or access token)
 * at acct->revoke_endpoint, if the account has one. Never fails; the
 * caller deletes the keyring entries itself.
 */
void	login_revoke(const struct account *acct, struct store *st);

/*
 * The end of a successful sign-in (not in system mode, where the
 * delivery daemon owns the queue): delivers the account's held mail at
 * once (runq_send_held) and says on stderr how many messages went out.
 * Never fails: what cannot go stays held for the next queue run.
 */
void	login_send_held(const struct config *cf, const struct account *acct);

#endif
