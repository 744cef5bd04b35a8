/*
 * login.h -- first sign-in (authorization code + PKCE with a loopback
 * redirect listener, RFC 8628 device authorization, client credentials),
 * revocation at logout, and `oauthmail check ACCOUNT`.
 *
 * Nothing here prints or logs a token, a code, a verifier or a secret.
 */
#ifndef LOGIN_H
#define LOGIN_H

#include <stdio.h>
#include <time.h>

#include "common.h"
#include "args.h"
#include "conf.h"
#include "json.h"
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
 * `oauthmail check ACCOUNT`: DNS, connect + TLS, EHLO capabilities,
 * token (JWT claims, never the token), AUTH, QUIT; sends no mail.
 * Progress lines go to out. On failure returns -1 with err saying what
 * failed and, when known, how to fix it (advice.h).
 */
int	login_check(const struct account *acct, FILE *out, struct err *err);

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

/*
 * --- Exposed for the unit tests ----------------------------------------
 */

#define LOGIN_VERIFIER_LEN	43	/* 32 random octets, base64url */
#define LOGIN_REQ_MAX		8192	/* one loopback request head */

/* PKCE S256: challenge = BASE64URL(SHA256(verifier)). out: >= 44 bytes. */
int	login_pkce_challenge(const char *verifier, char *out,
	    size_t outsize);

/* What a loopback request carried (decoded; NULL when absent). */
struct login_redirect {
	char	*code;			/* secret */
	char	*state;
	char	*error;
	char	*error_description;
};

#define LOGIN_REQ_REDIRECT	1	/* GET /?code=..|error=.. */
#define LOGIN_REQ_OTHER		2	/* anything else well-formed */
/*
 * Parses one HTTP request head req[0..len) (hostile input; len <=
 * LOGIN_REQ_MAX). Returns LOGIN_REQ_REDIRECT with r filled,
 * LOGIN_REQ_OTHER, or -1 when malformed (bad request line, bad percent
 * escape, NUL, a parameter given twice). r is always left freeable.
 */
int	login_parse_request(const char *req, size_t len,
	    struct login_redirect *r);
void	login_redirect_free(struct login_redirect *);

/*
 * The device-flow polling loop (RFC 8628 §3.4-3.5) against a small
 * interface so that it can be driven without a network:
 *   poll()  returns 0 (tokens in out), OAUTH_POLL_PENDING,
 *           OAUTH_POLL_SLOW_DOWN, or -1 with err set and out->error
 *           when the server named one;
 *   sleep() waits secs seconds, -1 if interrupted (Ctrl-C);
 *   now()   the current time.
 * Waits interval (clamped to 1..300 s) before each poll; slow_down adds
 * 5 s for this and every later poll; gives up when expires_in has
 * passed. Errors: ERR_AUTH "the code expired", "sign-in was declined",
 * "interrupted"; otherwise poll's error as it is.
 */
struct login_poller {
	int	(*poll)(void *arg, struct json_token *out, struct err *err);
	int	(*sleep)(void *arg, unsigned int secs);
	time_t	(*now)(void *arg);
	void	*arg;
	const char *account;		/* for the messages */
};

int	login_device_wait(const struct login_poller *p, long long interval,
	    long long expires_in, struct json_token *out, struct err *err);

#endif
