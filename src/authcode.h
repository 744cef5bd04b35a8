/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * authcode.h -- sign-in by authorization code + PKCE (RFC 6749 §4.1,
 * RFC 7636 S256) with a loopback redirect URI (RFC 8252 §7.3,
 * loopback.h): the browser opens by itself, or the user opens the
 * printed address on any machine and, when pasting, pastes back the
 * address the browser was sent to (or just the code).
 *
 * Nothing here prints or logs a code, a verifier, a token or a secret.
 */
#ifndef AUTHCODE_H
#define AUTHCODE_H

#include <stddef.h>

#include "common.h"
#include "conf.h"
#include "json.h"
#include "status.h"

/* Stores the tokens of a successful exchange; 0 or -1 with err. */
typedef int (*authcode_store_fn)(void *arg, const struct json_token *tok,
    struct err *err);

/*
 * Runs the flow for acct (secret: the client secret or NULL): prints the
 * authorization address on stderr, opens the browser when there is a
 * display and paste is 0, and waits up to 5 minutes for the redirect on
 * the listener and, with paste, for a pasted line on stdin; whichever
 * brings this sign-in's code first is exchanged (once) and handed to
 * store before the browser's page is answered. A redirect or a pasted
 * address whose state or iss (RFC 9207) does not match is refused with
 * a message and the wait goes on. On a terminal a status line says how
 * long is left (browser only; nothing when pasting).
 * Errors: ERR_CONFIG (no auth_endpoint, provider refusals that need a
 * config fix), ERR_AUTH (declined, timed out, interrupted), the code
 * exchange's (oauth.h), store's.
 */
int	authcode_signin(const struct account *acct, int paste,
	    const char *secret, authcode_store_fn store, void *store_arg,
	    struct err *err);

/*
 * The scope asked for at sign-in: scope, and api_scope's words too when
 * the account's transport uses an HTTPS API, so one consent covers both
 * (the token the code buys is scope's, the first resource; the API token
 * comes later from the same refresh token). xmalloc'd, or NULL: scope.
 */
char	*authcode_consent_scope(const struct account *acct);

/* Whether $DISPLAY or $WAYLAND_DISPLAY is set. */
int	authcode_has_display(void);

/*
 * --- Exposed for the unit tests ----------------------------------------
 */

#define AUTHCODE_VERIFIER_LEN	43	/* 32 random octets, base64url */

/* PKCE S256: challenge = BASE64URL(SHA256(verifier)). out: >= 44 bytes. */
int	authcode_pkce_challenge(const char *verifier, char *out,
	    size_t outsize);

/*
 * Whether iss (RFC 9207; NULL: not sent) names the server of
 * auth_endpoint: its origin, alone or followed by a path.
 */
int	authcode_iss_ok(const char *auth_endpoint, const char *iss);

#endif
