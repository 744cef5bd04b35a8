/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * authcode.c -- authorization code + PKCE sign-in with the loopback
 * listener and the paste-back prompt; see authcode.h.
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
#include <strings.h>
#include <unistd.h>

#include "advice.h"
#include "authcode.h"
#include "buf.h"
#include "conf.h"
#include "crypto.h"
#include "json.h"
#include "log.h"
#include "loopback.h"
#include "http.h"
#include "oauth.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

#define AUTHCODE_WAIT_SECS	300	/* the listener's lifetime */
#define AUTHCODE_URL_MAX	(16 * 1024)

/*
 * --- PKCE, state, URLs ------------------------------------------------
 */

int
authcode_pkce_challenge(const char *verifier, char *out, size_t outsize)
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
pkce_verifier(char out[AUTHCODE_VERIFIER_LEN + 1])
{
	unsigned char raw[32];
	struct buf b;
	int rc = -1;

	if (util_random_bytes(raw, sizeof(raw)) == -1)
		return -1;
	buf_init(&b, 64, BUF_SECRET);
	if (util_b64url_encode(&b, raw, sizeof(raw)) == 0 &&
	    b.len == AUTHCODE_VERIFIER_LEN) {
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

char *
authcode_consent_scope(const struct account *acct)
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
	buf_init(&b, AUTHCODE_URL_MAX, 0);
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
	char *consent = authcode_consent_scope(acct);
	const char *scope = consent != NULL ? consent : acct->scope;
	char *url = NULL;
	struct buf b;
	const char *hint = acct->user != NULL ? acct->user : acct->from;
	int google = acct->provider == PROVIDER_GOOGLE;
	int ms = acct->provider == PROVIDER_MICROSOFT ||
	    acct->provider == PROVIDER_OUTLOOK;

	buf_init(&b, AUTHCODE_URL_MAX, 0);
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

int
authcode_has_display(void)
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
	fix = advice_account(acct, d, fixbuf, sizeof(fixbuf));
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

/*
 * RFC 9207 §2.4: an iss in the redirect must name the server the request
 * went to. Without its metadata that is the authorization endpoint's
 * origin (scheme://host[:port]), alone or followed by a path.
 */
int
authcode_iss_ok(const char *auth_endpoint, const char *iss)
{
	const char *p;
	size_t n;

	if (iss == NULL)
		return 1;
	if ((p = strstr(auth_endpoint, "://")) == NULL)
		return 0;
	n = (size_t)(p + 3 - auth_endpoint) + strcspn(p + 3, "/?#");
	return strlen(iss) >= n && strncasecmp(iss, auth_endpoint, n) == 0 &&
	    (iss[n] == '\0' || iss[n] == '/');
}

struct ac_ctx {
	const struct account	*acct;
	const char		*secret;
	const char		*state;
	const char		*verifier;
	const char		*redirect_uri;
	authcode_store_fn	 store;
	void			*store_arg;
	int			 paste;
	/* the line being pasted */
	char			 line[LOOPBACK_REQ_MAX + 1];
	size_t			 linelen;
	int			 overlong;
};

/*
 * Whether the redirect belongs to this sign-in (RFC 6749 §10.12, RFC
 * 9207); NULL if so, else what is wrong with it.
 */
static const char *
foreign(const struct ac_ctx *c, const struct loopback_redirect *r)
{
	if (r->state == NULL || strcmp(r->state, c->state) != 0)
		return "its state does not match this sign-in (a stale tab, "
		    "another sign-in or a forged request)";
	if (!authcode_iss_ok(c->acct->auth_endpoint, r->iss))
		return "its issuer (iss) is not the server this sign-in "
		    "went to";
	return NULL;
}

/* Exchanges the code (or reports the error) and stores the tokens. */
static int
finish(const struct ac_ctx *c, const struct loopback_redirect *r,
    struct err *err)
{
	struct json_token tok;
	int rc;

	if (r->error != NULL)
		return redirect_error(c->acct, r, err);
	rc = oauth_code_exchange(c->acct, r->code, c->verifier,
	    c->redirect_uri, c->secret, &tok, err);
	if (rc == 0)
		rc = c->store(c->store_arg, &tok, err);
	json_token_free(&tok);
	return rc;
}

static void
ignored(const char *from, const char *why)
{
	fprintf(stderr, "%s: ignored %s: %s; still waiting\n", OM_PROGNAME,
	    from, why);
	(void)fflush(stderr);
}

/*
 * Handles one connection. Returns 1 when the flow is over (rc in *rcp),
 * 0 to keep waiting.
 */
static int
serve_one(const struct ac_ctx *c, const struct loopback_sig *g, int cfd,
    int *rcp, struct err *err)
{
	char req[LOOPBACK_REQ_MAX];
	struct loopback_redirect r;
	const char *why;
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
	if ((why = foreign(c, &r)) != NULL) {
		loopback_reply(cfd, "400 Bad Request", "Sign-in refused",
		    "This address is not for the sign-in oauthmail is "
		    "waiting for (state or issuer do not match).");
		loopback_redirect_free(&r);
		ignored("a request to the listener", why);
		return 0;
	}
	*rcp = finish(c, &r, err);
	loopback_redirect_free(&r);
	if (*rcp == 0)
		loopback_reply(cfd, "200 OK", "Signed in",
		    "oauthmail has stored the token. You can close this tab.");
	else
		loopback_reply(cfd, "200 OK", "Sign-in failed",
		    "See the terminal for the reason. You can close this tab.");
	return 1;
}

static void
paste_prompt(void)
{
	fprintf(stderr, "Address or code: ");
	(void)fflush(stderr);
}

/* One pasted line. Returns 1 when the flow is over, 0 to keep waiting. */
static int
paste_one(const struct ac_ctx *c, const char *text, size_t len, int *rcp,
    struct err *err)
{
	struct loopback_redirect r;
	const char *why = NULL;
	int pr;

	pr = loopback_parse_paste(text, len, c->redirect_uri, &r);
	switch (pr) {
	case LOOPBACK_PASTE_EMPTY:
		break;
	case LOOPBACK_PASTE_ELSEWHERE:
		why = "that address does not go to this sign-in's "
		    "http://127.0.0.1 address; paste the address the browser "
		    "showed after you signed in";
		break;
	case LOOPBACK_PASTE_NOCODE:
		why = "that address carries no code; paste the address the "
		    "browser showed after you signed in";
		break;
	case LOOPBACK_PASTE_URL:
		if ((why = foreign(c, &r)) == NULL)
			break;
		fprintf(stderr, "%s: refused that address: %s; paste the "
		    "address from this sign-in\n", OM_PROGNAME, why);
		why = NULL;
		pr = LOOPBACK_PASTE_EMPTY;
		break;
	case LOOPBACK_PASTE_CODE:
		break;
	default:
		why = "that is neither the address nor a code; paste the "
		    "whole address from the browser's address bar";
		break;
	}
	if (why != NULL)
		fprintf(stderr, "%s: %s\n", OM_PROGNAME, why);
	if (why != NULL || pr == LOOPBACK_PASTE_EMPTY) {
		loopback_redirect_free(&r);
		paste_prompt();
		return 0;
	}
	*rcp = finish(c, &r, err);
	loopback_redirect_free(&r);
	return 1;
}

/*
 * Reads what is there on stdin and handles each whole line. Returns 1
 * when the flow is over, 0 to keep waiting, -1 at the end of stdin.
 */
static int
paste_read(struct ac_ctx *c, int *rcp, struct err *err)
{
	char *nl;
	ssize_t n;
	size_t used;
	int done = 0;

	n = read(STDIN_FILENO, c->line + c->linelen,
	    sizeof(c->line) - 1 - c->linelen);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0)
		return -1;
	c->linelen += (size_t)n;
	while (!done && (nl = memchr(c->line, '\n', c->linelen)) != NULL) {
		used = (size_t)(nl - c->line) + 1;
		if (c->overlong)
			fprintf(stderr, "%s: that line is too long (more than "
			    "%d bytes); paste the address again\n",
			    OM_PROGNAME, LOOPBACK_REQ_MAX);
		else
			done = paste_one(c, c->line, used - 1, rcp, err);
		c->overlong = 0;
		explicit_bzero(c->line, used);
		memmove(c->line, c->line + used, c->linelen - used);
		c->linelen -= used;
	}
	if (c->linelen == sizeof(c->line) - 1) {
		explicit_bzero(c->line, c->linelen);
		c->linelen = 0;
		c->overlong = 1;
	}
	return done;
}

static void
prompt(const struct ac_ctx *c, const char *url, int port, int display)
{
	fprintf(stderr, "%s: to sign in account %s, open this address in a "
	    "browser%s:\n\n    %s\n\n", OM_PROGNAME, c->acct->name,
	    c->paste ? " on any machine" : "", url);
	if (c->paste)
		fprintf(stderr, "After you sign in, the browser goes to "
		    "http://127.0.0.1:%d/?code=... which it may fail to "
		    "load. Copy that address from its address bar and paste "
		    "it here (or just the code).\n", port);
	else if (display)
		fprintf(stderr, "(a browser should open by itself)\n");
	else
		fprintf(stderr, "No display here. If your browser runs on "
		    "another machine, first run there:\n\n    ssh -L "
		    "%d:127.0.0.1:%d %s\n\nthen open the address in that "
		    "machine's browser (or use 'oauthmail login %s "
		    "--paste').\n", port, port, util_hostname(),
		    c->acct->name);
	fprintf(stderr, "Waiting up to %d minutes for the browser to come "
	    "back to http://127.0.0.1:%d/ ; Ctrl-C to stop.\n",
	    AUTHCODE_WAIT_SECS / 60, port);
	if (c->paste)
		paste_prompt();
	(void)fflush(stderr);
}

/*
 * Waits for the redirect on the listener lfd and, when pasting, for a
 * line on stdin; whichever brings this sign-in's code first wins.
 */
static int
wait_code(struct ac_ctx *c, int lfd, struct err *err)
{
	struct loopback_sig sig;
	struct loopback_status status;
	long long deadline, left;
	int w, cfd, rc = -1, in = c->paste ? STDIN_FILENO : -1, done = 0;

	deadline = loopback_now_ms() + AUTHCODE_WAIT_SECS * 1000LL;
	loopback_status_init(&status, !c->paste);
	loopback_sig_begin(&sig);
	while (!done) {
		left = deadline - loopback_now_ms();
		loopback_status_show(&status, "waiting for the browser", left);
		w = loopback_wait2(&sig, lfd, in, loopback_status_next(&status,
		    left));
		if (w == -1) {
			rc = loopback_interrupted() ? err_set(err, ERR_AUTH,
			    "sign-in interrupted; nothing was stored") :
			    err_set(err, ERR_OS, "waiting for the browser: "
			    "%s", strerror(errno));
			break;
		}
		if (w == 0 && loopback_now_ms() >= deadline) {
			rc = err_set(err, ERR_AUTH, "no answer from the "
			    "browser within %d minutes; run 'oauthmail login "
			    "%s' again", AUTHCODE_WAIT_SECS / 60,
			    c->acct->name);
			break;
		}
		if (w == 0)
			continue;	/* time to update the status line */
		loopback_status_clear(&status);
		if ((w & 2) && (done = paste_read(c, &rc, err)) == -1) {
			in = -1;	/* stdin is over: the listener only */
			done = 0;
		}
		if (done || !(w & 1) ||
		    (cfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		done = serve_one(c, &sig, cfd, &rc, err);
		(void)shutdown(cfd, SHUT_WR);
		(void)close(cfd);
		if (done && c->paste)
			fputc('\n', stderr);	/* ends the prompt's line */
	}
	loopback_status_clear(&status);
	loopback_sig_end(&sig);
	return rc;
}

int
authcode_signin(const struct account *acct, int paste, const char *secret,
    authcode_store_fn store, void *store_arg, struct err *err)
{
	char verifier[AUTHCODE_VERIFIER_LEN + 1], challenge[64], state[33];
	char redirect_uri[64];
	struct ac_ctx *c;
	char *url = NULL;
	int lfd, port = 0, lb, rc = -1, display;

	if (acct->auth_endpoint == NULL)
		return err_set(err, ERR_CONFIG, "account %s has no "
		    "auth_endpoint for the browser sign-in; add "
		    "'auth_endpoint https://...' or use --device", acct->name);
	if (http_check_url(acct->auth_endpoint, &lb, err) == -1)
		return -1;
	if (pkce_verifier(verifier) == -1 ||
	    authcode_pkce_challenge(verifier, challenge,
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
	c = xcalloc(1, sizeof(*c));
	c->acct = acct;
	c->secret = secret;
	c->state = state;
	c->verifier = verifier;
	c->redirect_uri = redirect_uri;
	c->store = store;
	c->store_arg = store_arg;
	c->paste = paste;
	display = !paste && authcode_has_display();
	prompt(c, url, port, display);
	if (display)
		open_browser(url);
	rc = wait_code(c, lfd, err);
	explicit_bzero(c, sizeof(*c));
	free(c);
out:
	if (lfd != -1)
		(void)close(lfd);
	free(url);
	explicit_bzero(verifier, sizeof(verifier));
	return rc;
}
