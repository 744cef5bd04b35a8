/*
 * login.c -- first sign-in, revocation and `oauthmail check`; see login.h.
 *
 * Authorization code + PKCE (RFC 7636, S256) with a loopback redirect
 * listener (loopback.h) open only during the flow; device authorization
 * (device.h); client credentials.
 */
#include "common.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "advice.h"
#include "args.h"
#include "buf.h"
#include "conf.h"
#include "crypto.h"
#include "device.h"
#include "json.h"
#include "log.h"
#include "login.h"
#include "loopback.h"
#include "oauth.h"
#include "queue.h"
#include "runq.h"
#include "status.h"
#include "store.h"
#include "token.h"
#include "util.h"
#include "xmalloc.h"

#define LOGIN_WAIT_SECS		300	/* the listener's lifetime */
#define LOGIN_RECORD_MAX	(64 * 1024)
#define LOGIN_URL_MAX		(16 * 1024)

/*
 * --- Known failures and their fixes --------------------------------------
 * One catalogue (advice.c) for login, check, send, mailq and status.
 */

/* The fix for a known reply or token error in text, or NULL. */
static const char *
explain(const struct account *acct, const char *text, char *dst,
    size_t size)
{
	if (!advice_explain(text, acct->name, acct->user != NULL ? acct->user :
	    acct->from, dst, size))
		return NULL;
	return dst;
}

/*
 * --- PKCE, state, URLs ------------------------------------------------
 */

int
login_pkce_challenge(const char *verifier, char *out, size_t outsize)
{
	unsigned char md[CRYPTO_SHA256_LEN];
	struct buf b;
	int rc = -1;

	if (crypto_sha256(verifier, strlen(verifier), md) == -1)
		return -1;
	buf_init(&b, 128, 0);
	if (util_b64url_encode(&b, md, sizeof(md)) == 0 && b.len < outsize) {
		memcpy(out, buf_str(&b), b.len + 1);
		rc = 0;
	}
	buf_free(&b);
	return rc;
}

/* 32 random octets, base64url: 43 characters (RFC 7636 §4.1). */
static int
pkce_verifier(char out[LOGIN_VERIFIER_LEN + 1])
{
	unsigned char raw[32];
	struct buf b;
	int rc = -1;

	if (util_random_bytes(raw, sizeof(raw)) == -1)
		return -1;
	buf_init(&b, 64, BUF_SECRET);
	if (util_b64url_encode(&b, raw, sizeof(raw)) == 0 &&
	    b.len == LOGIN_VERIFIER_LEN) {
		memcpy(out, buf_str(&b), b.len + 1);
		rc = 0;
	}
	buf_free(&b);
	explicit_bzero(raw, sizeof(raw));
	return rc;
}

/* Appends s percent-encoded (RFC 3986 unreserved characters kept). */
static int
url_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' ||
		    *p == '~') {
			if (buf_addc(b, *p) == -1)
				return -1;
		} else if (buf_addc(b, '%') == -1 ||
		    buf_addc(b, hex[*p >> 4]) == -1 ||
		    buf_addc(b, hex[*p & 15]) == -1)
			return -1;
	}
	return 0;
}

static int
url_param(struct buf *b, const char *name, const char *value)
{
	if (value == NULL)
		return 0;
	if (buf_addc(b, strchr(buf_str(b), '?') != NULL ? '&' : '?') == -1 ||
	    buf_adds(b, name) == -1 || buf_addc(b, '=') == -1)
		return -1;
	return url_escape(b, value);
}

/* Whether the space-separated scope list contains word. */
static int
has_scope(const char *scope, const char *word)
{
	size_t n = strlen(word);
	const char *p = scope;

	while (p != NULL && (p = strstr(p, word)) != NULL) {
		if ((p == scope || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return 1;
		p += n;
	}
	return 0;
}

/*
 * The scope asked for at sign-in: scope, and api_scope's words too when
 * the account's transport uses an HTTPS API, so one consent covers both
 * (the token the code buys is scope's, the first resource; the API token
 * comes later from the same refresh token). xmalloc'd, or NULL: scope.
 */
static char *
consent_scope(const struct account *acct)
{
	struct buf b;
	const char *w;
	char *word;
	size_t n;

	if (acct->transport == TRANSPORT_SMTP || acct->api_scope == NULL ||
	    acct->flow == FLOW_CLIENT_CREDENTIALS)
		return NULL;
	if (acct->provider == PROVIDER_GOOGLE && acct->scope != NULL &&
	    has_scope(acct->scope, "https://mail.google.com/"))
		return NULL;	/* the Gmail API takes that token */
	buf_init(&b, LOGIN_URL_MAX, 0);
	(void)buf_adds(&b, acct->scope != NULL ? acct->scope : "");
	for (w = acct->api_scope; *w != '\0'; w += n) {
		w += strspn(w, " ");
		if ((n = strcspn(w, " ")) == 0)
			break;
		word = xstrndup(w, n);
		if (!has_scope(buf_str(&b), word))
			(void)buf_addf(&b, "%s%s", b.len > 0 ? " " : "", word);
		free(word);
	}
	return buf_detach(&b, NULL);
}

/* The authorization request (RFC 6749 §4.1.1 + RFC 7636 §4.3). */
static char *
authorize_url(const struct account *acct, const char *redirect_uri,
    const char *state, const char *challenge)
{
	char *consent = consent_scope(acct);
	const char *scope = consent != NULL ? consent : acct->scope;
	char *url = NULL;
	struct buf b;
	const char *hint = acct->user != NULL ? acct->user : acct->from;
	int google = acct->provider == PROVIDER_GOOGLE;
	int ms = acct->provider == PROVIDER_MICROSOFT ||
	    acct->provider == PROVIDER_OUTLOOK;

	buf_init(&b, LOGIN_URL_MAX, 0);
	if (buf_adds(&b, acct->auth_endpoint) == -1 ||
	    url_param(&b, "response_type", "code") == -1 ||
	    url_param(&b, "client_id", acct->client_id) == -1 ||
	    url_param(&b, "redirect_uri", redirect_uri) == -1 ||
	    url_param(&b, "scope", scope) == -1 ||
	    url_param(&b, "state", state) == -1 ||
	    url_param(&b, "code_challenge", challenge) == -1 ||
	    url_param(&b, "code_challenge_method", "S256") == -1 ||
	    url_param(&b, "login_hint", hint) == -1)
		goto out;
	/* Google issues a refresh token only with these two. */
	if (google && (url_param(&b, "access_type", "offline") == -1 ||
	    url_param(&b, "prompt", "consent") == -1))
		goto out;
	if (ms && url_param(&b, "prompt", "select_account") == -1)
		goto out;
	/*
	 * OpenID Connect Core §11: offline_access (a refresh token) is only
	 * granted with prompt=consent; providers such as oidc-provider drop
	 * the scope silently otherwise.
	 */
	if (!google && !ms && scope != NULL &&
	    has_scope(scope, "offline_access") &&
	    url_param(&b, "prompt", "consent") == -1)
		goto out;
	url = buf_detach(&b, NULL);
 out:
	buf_free(&b);
	free(consent);
	return url;
}

static int
has_display(void)
{
	const char *d = getenv("DISPLAY"), *w = getenv("WAYLAND_DISPLAY");

	return (d != NULL && *d != '\0') || (w != NULL && *w != '\0');
}

/*
 * Starts `xdg-open url` detached (its own session, so a Ctrl-C here does
 * not reach the browser; double fork, so no zombie). Never a shell.
 */
static void
open_browser(const char *url)
{
	char *const argv[] = { "xdg-open", (char *)url, NULL };
	sigset_t none;
	pid_t pid, pid2;
	int status, fd;

	if ((pid = fork()) == -1) {
		log_warn("fork");
		return;
	}
	if (pid == 0) {
		(void)sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		(void)setsid();
		if ((pid2 = fork()) != 0)
			_exit(pid2 == -1 ? 1 : 0);
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			(void)dup2(fd, STDIN_FILENO);
			(void)dup2(fd, STDOUT_FILENO);
			(void)dup2(fd, STDERR_FILENO);
			if (fd > STDERR_FILENO)
				(void)close(fd);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
		;
}

static void
browser_prompt(const struct account *acct, const char *url, int port,
    int display)
{
	fprintf(stderr, "%s: to sign in account %s, open this address in a "
	    "browser:\n\n    %s\n\n", OM_PROGNAME, acct->name, url);
	if (display)
		fprintf(stderr, "(a browser should open by itself)\n");
	else
		fprintf(stderr, "No display here. If your browser runs on "
		    "another machine, first run there:\n\n    ssh -L "
		    "%d:127.0.0.1:%d %s\n\nthen open the address in that "
		    "machine's browser.\n", port, port, util_hostname());
	fprintf(stderr, "Waiting up to %d minutes for the browser to come "
	    "back to http://127.0.0.1:%d/ ; Ctrl-C to stop.\n",
	    LOGIN_WAIT_SECS / 60, port);
	(void)fflush(stderr);
}

/* Turns an error redirect into err (its text is sanitised). */
static int
redirect_error(const struct account *acct, const struct loopback_redirect *r,
    struct err *err)
{
	char e[64], d[256], fixbuf[400];
	const char *fix;

	util_sanitize(e, sizeof(e), r->error, strlen(r->error));
	if (r->error_description != NULL)
		util_sanitize(d, sizeof(d), r->error_description,
		    strcspn(r->error_description, "\r\n"));
	else
		d[0] = '\0';
	if (strcmp(r->error, "access_denied") == 0)
		return err_set(err, ERR_AUTH, "sign-in was declined "
		    "(account %s%s%s)", acct->name, d[0] ? ": " : "", d);
	fix = explain(acct, d, fixbuf, sizeof(fixbuf));
	if (strcmp(r->error, "invalid_scope") == 0 ||
	    strcmp(r->error, "unauthorized_client") == 0 ||
	    strcmp(r->error, "invalid_request") == 0 ||
	    strcmp(r->error, "unsupported_response_type") == 0)
		return err_set(err, ERR_CONFIG, "the provider refused the "
		    "sign-in (%s%s%s)%s%s", e, d[0] ? ": " : "", d,
		    fix ? "; " : "", fix ? fix : "");
	return err_set(err, fix ? ERR_CONFIG : ERR_AUTH, "the provider "
	    "refused the sign-in (%s%s%s)%s%s", e, d[0] ? ": " : "", d,
	    fix ? "; " : "", fix ? fix : "");
}

static int	store_tokens(const struct account *, struct store *,
		    const struct json_token *, const char *, struct err *);

struct browser_ctx {
	const struct account	*acct;
	struct store		*st;
	const char		*secret;
	const char		*state;
	const char		*verifier;
	const char		*redirect_uri;
};

/*
 * Handles one connection. Returns 1 when the flow is over (rc in *rcp),
 * 0 to keep waiting.
 */
static int
serve_one(const struct browser_ctx *c, const struct loopback_sig *g, int cfd,
    int *rcp, struct err *err)
{
	char req[LOOPBACK_REQ_MAX];
	struct loopback_redirect r;
	struct json_token tok;
	size_t len;
	int rr, pr;

	rr = loopback_read(g, cfd, req, sizeof(req), &len);
	if (rr == LOOPBACK_READ_INTR) {
		*rcp = err_set(err, ERR_AUTH, "sign-in interrupted; nothing "
		    "was stored");
		return 1;
	}
	if (rr == LOOPBACK_READ_DROP)
		return 0;
	if (rr == LOOPBACK_READ_TOOBIG) {
		loopback_reply(cfd, "431 Request Header Fields Too Large",
		    "Request too large", "");
		explicit_bzero(req, sizeof(req));
		return 0;
	}
	pr = loopback_parse_request(req, len, &r);
	explicit_bzero(req, sizeof(req));
	if (pr == -1) {
		loopback_reply(cfd, "400 Bad Request", "Bad request", "");
		return 0;
	}
	if (pr == LOOPBACK_REQ_OTHER) {
		loopback_reply(cfd, "404 Not Found", "Not found",
		    "oauthmail is waiting for the sign-in redirect.");
		return 0;
	}
	/* RFC 6749 §10.12: a redirect for another request is refused. */
	if (r.state == NULL || strcmp(r.state, c->state) != 0) {
		loopback_reply(cfd, "400 Bad Request", "Sign-in refused",
		    "The state parameter does not match this sign-in. "
		    "Run oauthmail login again.");
		loopback_redirect_free(&r);
		*rcp = err_set(err, ERR_AUTH, "refused the browser's "
		    "redirect: its state does not match this sign-in (a "
		    "stale tab or a forged request); run 'oauthmail login "
		    "%s' again", c->acct->name);
		return 1;
	}
	if (r.error != NULL) {
		loopback_reply(cfd, "200 OK", "Sign-in failed",
		    "See the terminal for the reason. You can close this tab.");
		*rcp = redirect_error(c->acct, &r, err);
		loopback_redirect_free(&r);
		return 1;
	}
	*rcp = oauth_code_exchange(c->acct, r.code, c->verifier,
	    c->redirect_uri, c->secret, &tok, err);
	loopback_redirect_free(&r);
	if (*rcp == 0)
		*rcp = store_tokens(c->acct, c->st, &tok, NULL, err);
	json_token_free(&tok);
	if (*rcp == 0)
		loopback_reply(cfd, "200 OK", "Signed in",
		    "oauthmail has stored the token. You can close this tab.");
	else
		loopback_reply(cfd, "200 OK", "Sign-in failed",
		    "See the terminal for the reason. You can close this tab.");
	return 1;
}

static int
flow_browser(const struct account *acct, struct store *st, const char *secret,
    struct err *err)
{
	char verifier[LOGIN_VERIFIER_LEN + 1], challenge[64], state[33];
	char redirect_uri[64];
	struct browser_ctx c;
	struct loopback_sig sig;
	long long deadline;
	char *url = NULL;
	int lfd, cfd, port = 0, lb, rc = -1, display, w;

	if (acct->auth_endpoint == NULL)
		return err_set(err, ERR_CONFIG, "account %s has no "
		    "auth_endpoint for the browser sign-in; add "
		    "'auth_endpoint https://...' or use --device", acct->name);
	if (oauth_check_url(acct->auth_endpoint, &lb, err) == -1)
		return -1;
	if (pkce_verifier(verifier) == -1 ||
	    login_pkce_challenge(verifier, challenge,
	    sizeof(challenge)) == -1 ||
	    util_random_hex(state, 16) == -1)
		return err_set(err, ERR_OS, "no random numbers for PKCE");
	if ((lfd = loopback_listen(&port, err)) == -1)
		goto out;
	(void)snprintf(redirect_uri, sizeof(redirect_uri),
	    "http://127.0.0.1:%d/", port);
	if ((url = authorize_url(acct, redirect_uri, state, challenge)) ==
	    NULL) {
		rc = err_set(err, ERR_CONFIG, "the authorization URL is too "
		    "long (account %s)", acct->name);
		goto out;
	}
	display = has_display();
	browser_prompt(acct, url, port, display);
	if (display)
		open_browser(url);

	c.acct = acct;
	c.st = st;
	c.secret = secret;
	c.state = state;
	c.verifier = verifier;
	c.redirect_uri = redirect_uri;
	deadline = loopback_now_ms() + LOGIN_WAIT_SECS * 1000LL;
	loopback_sig_begin(&sig);
	for (;;) {
		w = loopback_wait_fd(&sig, lfd, deadline - loopback_now_ms());
		if (w == -1 && loopback_interrupted()) {
			rc = err_set(err, ERR_AUTH, "sign-in interrupted; "
			    "nothing was stored");
			break;
		}
		if (w == -1) {
			rc = err_set(err, ERR_OS, "waiting for the browser: "
			    "%s", strerror(errno));
			break;
		}
		if (w == 0) {
			rc = err_set(err, ERR_AUTH, "no answer from the "
			    "browser within %d minutes; run 'oauthmail login "
			    "%s' again", LOGIN_WAIT_SECS / 60, acct->name);
			break;
		}
		if ((cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		w = serve_one(&c, &sig, cfd, &rc, err);
		(void)shutdown(cfd, SHUT_WR);
		(void)close(cfd);
		if (w)
			break;
	}
	loopback_sig_end(&sig);
out:
	if (lfd != -1)
		(void)close(lfd);
	free(url);
	explicit_bzero(verifier, sizeof(verifier));
	return rc;
}

/*
 * --- Storing and announcing --------------------------------------------
 */

/* Who signed in, from the token's claims; falls back to the config. */
static void
announce(const struct account *acct, struct store *st,
    const struct json_token *tok, const char *who)
{
	struct json_jwt j;
	struct err e;
	char clean[256], fixbuf[400];
	const char *name = who, *fix;
	int have = 0;

	memset(&j, 0, sizeof(j));
	if (tok->access_token != NULL &&
	    json_jwt_claims(tok->access_token, &j, &e) == 0)
		have = 1;
	else if (tok->id_token != NULL &&
	    json_jwt_claims(tok->id_token, &j, &e) == 0)
		have = 1;
	if (name == NULL && have && j.upn != NULL)
		name = j.upn;
	if (name == NULL)
		name = acct->user != NULL ? acct->user :
		    acct->from != NULL ? acct->from : acct->name;
	util_sanitize(clean, sizeof(clean), name, strlen(name));
	fprintf(stderr, "%s: signed in as %s (account %s); token stored in "
	    "%s\n", OM_PROGNAME, clean, acct->name, store_backend_name(st));
	if (have && j.aud != NULL &&
	    (fix = explain(acct, j.aud, fixbuf, sizeof(fixbuf))) != NULL)
		fprintf(stderr, "%s: warning: %s\n", OM_PROGNAME, fix);
	if (have)
		json_jwt_free(&j);
	if (tok->refresh_token == NULL &&
	    acct->flow != FLOW_CLIENT_CREDENTIALS)
		fprintf(stderr, "%s: warning: the provider issued no refresh "
		    "token, so you will have to sign in again when this one "
		    "expires%s\n", OM_PROGNAME,
		    acct->provider == PROVIDER_MICROSOFT ||
		    acct->provider == PROVIDER_OUTLOOK ?
		    " (add offline_access to scope)" : "");
}

/* Writes the token record (token.h) for a fresh sign-in. */
static int
store_tokens(const struct account *acct, struct store *st,
    const struct json_token *tok, const char *who, struct err *err)
{
	struct token_record rec;
	struct buf b;
	time_t now = time(NULL);
	int rc;

	if (tok->access_token == NULL)
		return err_set(err, ERR_PROTO, "the token endpoint sent no "
		    "access token (account %s)", acct->name);
	memset(&rec, 0, sizeof(rec));
	rec.access_token = tok->access_token;
	rec.lifetime = tok->expires_in > 0 ? (time_t)tok->expires_in : 3600;
	rec.expires_at = now + rec.lifetime;
	rec.refresh_token = tok->refresh_token;
	rec.refresh_issued = now;
	rec.last_success = 0;
	rec.needs_login = 0;
	rec.scope = tok->scope != NULL ? tok->scope : acct->scope;
	buf_init(&b, LOGIN_RECORD_MAX, BUF_SECRET);
	if (token_record_dump(&rec, &b, err) == -1) {
		buf_free(&b);
		return -1;
	}
	rc = store_put(st, acct->name, STORE_TOKEN, b.data, b.len, err);
	buf_free(&b);
	if (rc == 0)
		announce(acct, st, tok, who);
	return rc;
}

static int
flow_client_credentials(const struct account *acct, struct store *st,
    const char *secret, struct err *err)
{
	struct json_token tok;
	char who[256];
	int rc;

	rc = token_assertion_grant(acct, st, &tok, err);
	if (rc == 1 && secret == NULL)
		return err_set(err, ERR_CONFIG, "account %s uses client "
		    "credentials but the keyring has no client secret: run "
		    "'oauthmail secret %s' first", acct->name, acct->name);
	if (rc == 1)
		rc = oauth_client_credentials(acct, secret, &tok, err);
	if (rc == 0) {
		(void)snprintf(who, sizeof(who), "application %s",
		    acct->client_id != NULL ? acct->client_id : "?");
		rc = store_tokens(acct, st, &tok, who, err);
	}
	json_token_free(&tok);
	return rc;
}

static int
flow_device(const struct account *acct, struct store *st, const char *secret,
    struct err *err)
{
	struct json_token tok;
	struct account consent = *acct;	/* asks for api_scope too */
	char *scope = consent_scope(acct);
	int rc;

	if (scope != NULL)
		consent.scope = scope;
	rc = device_signin(&consent, secret, &tok, err);
	free(scope);
	if (rc == 0) {
		rc = store_tokens(acct, st, &tok, NULL, err);
		json_token_free(&tok);
	}
	return rc;
}

/*
 * --- login_run -----------------------------------------------------------
 */

enum method { M_BROWSER, M_DEVICE, M_CLIENT };

static int
pick_method(const struct account *acct, enum inv_login flow, enum method *m,
    struct err *err)
{
	int google = acct->provider == PROVIDER_GOOGLE;

	if (acct->flow == FLOW_CLIENT_CREDENTIALS) {
		if (flow != LOGIN_DEFAULT)
			log_warnx("account %s uses client credentials; "
			    "--device/--browser ignored", acct->name);
		*m = M_CLIENT;
		return 0;
	}
	if (google && (flow == LOGIN_DEVICE ||
	    (flow == LOGIN_DEFAULT && acct->flow == FLOW_DEVICE)))
		return err_set(err, flow == LOGIN_DEVICE ? ERR_USAGE :
		    ERR_CONFIG, "Google does not allow the device flow for "
		    "Gmail scopes (https://mail.google.com/); use 'oauthmail "
		    "login %s --browser' (with no browser here, it prints "
		    "the address and an ssh -L hint)", acct->name);
	if (flow == LOGIN_DEVICE)
		*m = M_DEVICE;
	else if (flow == LOGIN_BROWSER)
		*m = M_BROWSER;
	else if (acct->flow == FLOW_DEVICE)
		*m = M_DEVICE;
	else if (acct->flow == FLOW_AUTHCODE)
		*m = M_BROWSER;
	else if (has_display() || google)
		*m = M_BROWSER;
	else if (acct->device_endpoint != NULL)
		*m = M_DEVICE;
	else
		*m = M_BROWSER;
	if (*m == M_DEVICE && acct->device_endpoint == NULL)
		return err_set(err, ERR_CONFIG, "account %s has no "
		    "device_endpoint; add 'device_endpoint https://...' or "
		    "use --browser", acct->name);
	return 0;
}

int
login_run(const struct account *acct, enum inv_login flow, struct err *err)
{
	struct store *st = NULL;
	struct buf sec;
	enum method m;
	int rc, have;

	if (!conf_is_oauth(acct))
		return err_set(err, ERR_CONFIG, "account %s does not use "
		    "OAuth, so there is nothing to sign in to; for a password "
		    "account run 'oauthmail password %s'", acct->name,
		    acct->name);
	if (acct->client_id == NULL)
		return err_set(err, ERR_CONFIG, "account %s has no client_id",
		    acct->name);
	if (pick_method(acct, flow, &m, err) == -1)
		return -1;
	if (store_open_account(acct, &st, err) == -1)
		return -1;
	/* Optional for public clients; Google desktop clients need it. */
	buf_init(&sec, LIM_TOKEN, BUF_SECRET);
	have = store_get(st, acct->name, STORE_CLIENT_SECRET, &sec, err);
	if (have == -1) {
		buf_free(&sec);
		store_close(st);
		return -1;
	}
	switch (m) {
	case M_CLIENT:
		rc = flow_client_credentials(acct, st,
		    have == 0 ? buf_str(&sec) : NULL, err);
		break;
	case M_DEVICE:
		rc = flow_device(acct, st, have == 0 ? buf_str(&sec) : NULL,
		    err);
		break;
	case M_BROWSER:
	default:
		rc = flow_browser(acct, st, have == 0 ? buf_str(&sec) : NULL,
		    err);
		break;
	}
	buf_free(&sec);
	store_close(st);
	return rc;
}

/*
 * --- login_revoke --------------------------------------------------------
 */

void
login_revoke(const struct account *acct, struct store *st)
{
	struct token_record rec;
	struct buf b;
	struct err e;
	int rc;

	if (acct->revoke_endpoint == NULL || *acct->revoke_endpoint == '\0')
		return;
	buf_init(&b, LOGIN_RECORD_MAX, BUF_SECRET);
	err_clear(&e);
	if (store_get(st, acct->name, STORE_TOKEN, &b, &e) != 0) {
		buf_free(&b);
		return;
	}
	memset(&rec, 0, sizeof(rec));
	if (token_record_parse(&rec, b.data, b.len, &e) == 0) {
		if (rec.refresh_token != NULL)
			rc = oauth_revoke(acct, rec.refresh_token,
			    "refresh_token", &e);
		else
			rc = oauth_revoke(acct, rec.access_token,
			    "access_token", &e);
		if (rc == -1)
			log_info("account %s: revocation failed (ignored): %s",
			    acct->name, e.msg);
		else if (rc == 0)
			log_info("account %s: token revoked", acct->name);
	}
	token_record_free(&rec);
	buf_free(&b);
}

/*
 * --- login_send_held -----------------------------------------------------
 */

void
login_send_held(const struct config *cf, const struct account *acct)
{
	const struct account *qa = cf->def != NULL ? cf->def : acct;
	struct queue q;
	struct err err;
	size_t nheld, nsent;

	if (cf->system_mode)
		return;
	err_clear(&err);
	/* the queue of sendmail -q: the default account's queue_dir */
	if (queue_open(&q, qa->queue_dir, &err) == -1) {
		log_warnx("held mail not sent: %s; run 'oauthmail flush'",
		    err.msg);
		return;
	}
	(void)runq_send_held(cf, &q, acct, &nheld, &nsent, &err);
	queue_close(&q);
	if (nheld == 0)
		return;
	if (nsent == nheld)
		fprintf(stderr, "%s: %zu held message%s of account %s sent\n",
		    OM_PROGNAME, nsent, nsent == 1 ? "" : "s", acct->name);
	else
		fprintf(stderr, "%s: %zu of %zu held messages of account %s "
		    "sent; the rest stay queued (%s); see 'mailq'\n",
		    OM_PROGNAME, nsent, nheld, acct->name, err.msg);
}
