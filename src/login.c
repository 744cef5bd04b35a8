/*
 * login.c -- first sign-in, revocation and `oauthmail check`; see login.h.
 *
 * Authorization code + PKCE (RFC 7636, S256) with a loopback redirect
 * listener on 127.0.0.1 and a port chosen at run time (RFC 8252 §7.3),
 * open only during the flow; device authorization (RFC 8628); client
 * credentials. The HTTP requests that reach the listener are hostile
 * input: one at a time, bounded, parsed strictly, never echoed.
 */
#include "common.h"

#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
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
#include "json.h"
#include "log.h"
#include "login.h"
#include "oauth.h"
#include "queue.h"
#include "runq.h"
#include "smtp.h"
#include "smtpreply.h"
#include "status.h"
#include "store.h"
#include "token.h"
#include "util.h"
#include "xmalloc.h"

#define LOGIN_WAIT_SECS		300	/* the listener's lifetime */
#define LOGIN_CONN_SECS		5	/* to read one request */
#define LOGIN_RECORD_MAX	(64 * 1024)
#define LOGIN_URL_MAX		(16 * 1024)
#define LOGIN_INTERVAL_MAX	300

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

/* The authorization request (RFC 6749 §4.1.1 + RFC 7636 §4.3). */
static char *
authorize_url(const struct account *acct, const char *redirect_uri,
    const char *state, const char *challenge)
{
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
	    url_param(&b, "scope", acct->scope) == -1 ||
	    url_param(&b, "state", state) == -1 ||
	    url_param(&b, "code_challenge", challenge) == -1 ||
	    url_param(&b, "code_challenge_method", "S256") == -1 ||
	    url_param(&b, "login_hint", hint) == -1)
		return NULL;
	/* Google issues a refresh token only with these two. */
	if (google && (url_param(&b, "access_type", "offline") == -1 ||
	    url_param(&b, "prompt", "consent") == -1))
		return NULL;
	if (ms && url_param(&b, "prompt", "select_account") == -1)
		return NULL;
	/*
	 * OpenID Connect Core §11: offline_access (a refresh token) is only
	 * granted with prompt=consent; providers such as oidc-provider drop
	 * the scope silently otherwise.
	 */
	if (!google && !ms && has_scope(acct->scope, "offline_access") &&
	    url_param(&b, "prompt", "consent") == -1)
		return NULL;
	return buf_detach(&b, NULL);
}

/*
 * --- Ctrl-C --------------------------------------------------------------
 *
 * While a flow waits, SIGINT is caught (no SA_RESTART) and blocked except
 * inside ppoll(), so a Ctrl-C during an HTTPS request takes effect when
 * the request is over, and one during a wait ends the wait at once.
 */
static volatile sig_atomic_t login_interrupted;

struct sigguard {
	struct sigaction	old;
	sigset_t		oldmask;
	sigset_t		waitmask;	/* oldmask without SIGINT */
	int			active;
};

static void
on_sigint(int sig)
{
	(void)sig;
	login_interrupted = 1;
}

static void
sig_begin(struct sigguard *g)
{
	struct sigaction sa;
	sigset_t block;

	login_interrupted = 0;
	memset(g, 0, sizeof(*g));
	(void)sigprocmask(SIG_SETMASK, NULL, &g->oldmask);
	g->waitmask = g->oldmask;
	if (sigaction(SIGINT, NULL, &g->old) == -1 ||
	    g->old.sa_handler == SIG_IGN)
		return;		/* e.g. nohup: keep ignoring it */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_sigint;
	(void)sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	(void)sigemptyset(&block);
	(void)sigaddset(&block, SIGINT);
	(void)sigprocmask(SIG_BLOCK, &block, NULL);
	if (sigaction(SIGINT, &sa, NULL) == -1) {
		(void)sigprocmask(SIG_SETMASK, &g->oldmask, NULL);
		return;
	}
	(void)sigdelset(&g->waitmask, SIGINT);
	g->active = 1;
}

static void
sig_end(struct sigguard *g)
{
	if (!g->active)
		return;
	/* A pending SIGINT is delivered here, to on_sigint. */
	(void)sigprocmask(SIG_SETMASK, &g->oldmask, NULL);
	(void)sigaction(SIGINT, &g->old, NULL);
	g->active = 0;
}

static long long
mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Waits until fd is readable (fd -1: only sleeps) or ms have passed.
 * Returns 1 readable, 0 time is up, -1 interrupted or failed (errno).
 */
static int
wait_fd(const struct sigguard *g, int fd, long long ms)
{
	struct pollfd pfd;
	struct timespec ts;
	long long end = mono_ms() + ms, left;
	int r;

	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		if (login_interrupted) {
			errno = EINTR;
			return -1;
		}
		left = end - mono_ms();
		if (left <= 0)
			return 0;
		ts.tv_sec = left / 1000;
		ts.tv_nsec = (left % 1000) * 1000000;
		r = ppoll(fd >= 0 ? &pfd : NULL, fd >= 0 ? 1 : 0, &ts,
		    &g->waitmask);
		if (r > 0)
			return 1;
		if (r == 0)
			continue;	/* recheck the clock */
		if (errno != EINTR)
			return -1;
	}
}

/*
 * --- The device flow ----------------------------------------------------
 */

int
login_device_wait(const struct login_poller *p, long long interval,
    long long expires_in, struct json_token *out, struct err *err)
{
	const char *acct = p->account != NULL ? p->account : "ACCOUNT";
	time_t deadline;
	int rc;

	json_token_init(out);
	if (interval < 1)
		interval = 5;
	if (interval > LOGIN_INTERVAL_MAX)
		interval = LOGIN_INTERVAL_MAX;
	if (expires_in <= 0)
		expires_in = 900;
	deadline = p->now(p->arg) + (time_t)expires_in;
	for (;;) {
		if (p->sleep(p->arg, (unsigned int)interval) == -1)
			return err_set(err, ERR_AUTH, "sign-in interrupted; "
			    "nothing was stored");
		if (p->now(p->arg) >= deadline)
			return err_set(err, ERR_AUTH, "the code expired; run "
			    "'oauthmail login %s' again", acct);
		json_token_free(out);
		rc = p->poll(p->arg, out, err);
		switch (rc) {
		case 0:
			return 0;
		case OAUTH_POLL_PENDING:
			continue;
		case OAUTH_POLL_SLOW_DOWN:
			/* RFC 8628 §3.5: this and all later requests. */
			if (interval < LOGIN_INTERVAL_MAX)
				interval += 5;
			continue;
		default:
			break;
		}
		if (out->error != NULL && strcmp(out->error,
		    "expired_token") == 0)
			rc = err_set(err, ERR_AUTH, "the code expired; run "
			    "'oauthmail login %s' again", acct);
		else if (out->error != NULL &&
		    (strcmp(out->error, "access_denied") == 0 ||
		    strcmp(out->error, "authorization_declined") == 0))
			rc = err_set(err, ERR_AUTH, "sign-in was declined "
			    "(account %s)", acct);
		json_token_free(out);
		return -1;
	}
}

struct device_ctx {
	const struct account	*acct;
	const char		*device_code;
	const char		*secret;
	const struct sigguard	*sig;
};

static int
device_poll(void *arg, struct json_token *out, struct err *err)
{
	struct device_ctx *c = arg;

	return oauth_device_poll(c->acct, c->device_code, c->secret, out,
	    err);
}

static int
device_sleep(void *arg, unsigned int secs)
{
	struct device_ctx *c = arg;

	return wait_fd(c->sig, -1, (long long)secs * 1000) == 0 ? 0 : -1;
}

static time_t
device_now(void *arg)
{
	(void)arg;
	return time(NULL);
}

/* Prints text from the server on stderr, sanitised. */
static void
say_untrusted(const char *prefix, const char *text)
{
	char clean[1024];

	util_sanitize(clean, sizeof(clean), text, strlen(text));
	fprintf(stderr, "%s%s\n", prefix, clean);
}

static int	store_tokens(const struct account *, struct store *,
		    const struct json_token *, const char *, struct err *);

static int
flow_device(const struct account *acct, struct store *st, const char *secret,
    struct err *err)
{
	struct json_token da, tok;
	struct device_ctx ctx;
	struct login_poller p;
	struct sigguard sig;
	int rc;

	if (oauth_device_authorize(acct, secret, &da, err) == -1) {
		json_token_free(&da);
		return -1;
	}
	fprintf(stderr, "%s: to sign in account %s:\n", OM_PROGNAME,
	    acct->name);
	if (da.message != NULL)
		say_untrusted("  ", da.message);
	else {
		say_untrusted("  open   ", da.verification_uri);
		say_untrusted("  enter  ", da.user_code);
	}
	if (da.verification_uri_complete != NULL)
		say_untrusted("  (or open ", da.verification_uri_complete);
	fprintf(stderr, "  waiting up to %lld minutes; Ctrl-C to stop\n",
	    (da.expires_in + 59) / 60);
	(void)fflush(stderr);

	sig_begin(&sig);
	ctx.acct = acct;
	ctx.device_code = da.device_code;
	ctx.secret = secret;
	ctx.sig = &sig;
	p.poll = device_poll;
	p.sleep = device_sleep;
	p.now = device_now;
	p.arg = &ctx;
	p.account = acct->name;
	rc = login_device_wait(&p, da.interval, da.expires_in, &tok, err);
	sig_end(&sig);
	json_token_free(&da);
	if (rc == 0 && login_interrupted)
		rc = err_set(err, ERR_AUTH, "sign-in interrupted; nothing "
		    "was stored");
	if (rc == 0)
		rc = store_tokens(acct, st, &tok, NULL, err);
	json_token_free(&tok);
	return rc;
}

/*
 * --- The loopback listener ----------------------------------------------
 */

/* application/x-www-form-urlencoded value; NULL on a bad escape or NUL. */
static char *
form_decode(const char *s, size_t len)
{
	char *out = xmalloc(len + 1);
	size_t i, o = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] == '+')
			out[o++] = ' ';
		else if (s[i] != '%')
			out[o++] = s[i];
		else {
			if (i + 2 >= len)
				goto bad;
			hi = util_hexval((unsigned char)s[i + 1]);
			lo = util_hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				goto bad;
			out[o++] = (char)(hi << 4 | lo);
			i += 2;
		}
	}
	out[o] = '\0';
	return out;
bad:
	explicit_bzero(out, len + 1);
	free(out);
	return NULL;
}

void
login_redirect_free(struct login_redirect *r)
{
	xfree_secret(r->code);
	free(r->state);
	free(r->error);
	free(r->error_description);
	memset(r, 0, sizeof(*r));
}

static int
is_tchar(int c)
{
	return isalnum(c) || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* Sets *slot to the decoded value; -1 if given twice or undecodable. */
static int
query_set(char **slot, const char *v, size_t vlen)
{
	if (*slot != NULL)
		return -1;
	*slot = form_decode(v, vlen);
	return *slot == NULL ? -1 : 0;
}

int
login_parse_request(const char *req, size_t len, struct login_redirect *r)
{
	const char *eol, *sp1, *sp2, *p, *q, *end, *amp, *eq;
	size_t linelen, i, nlen;
	char **slot;

	memset(r, 0, sizeof(*r));
	if (len > LOGIN_REQ_MAX || memchr(req, '\0', len) != NULL)
		return -1;
	if ((eol = memchr(req, '\n', len)) == NULL)
		return -1;
	linelen = (size_t)(eol - req);
	if (linelen > 0 && req[linelen - 1] == '\r')
		linelen--;
	/* request-line = method SP request-target SP HTTP-version */
	if ((sp1 = memchr(req, ' ', linelen)) == NULL || sp1 == req)
		return -1;
	for (p = req; p < sp1; p++)
		if (!is_tchar((unsigned char)*p))
			return -1;
	end = req + linelen;
	if ((sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1))) == NULL ||
	    sp2 == sp1 + 1)
		return -1;
	if ((size_t)(end - sp2 - 1) != 8 ||
	    memcmp(sp2 + 1, "HTTP/1.", 7) != 0 ||
	    !isdigit((unsigned char)sp2[8]))
		return -1;
	for (p = sp1 + 1; p < sp2; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f)
			return -1;
	if (sp1 - req != 3 || memcmp(req, "GET", 3) != 0)
		return LOGIN_REQ_OTHER;
	p = sp1 + 1;
	/* Only "/" carries the redirect (redirect_uri has path "/"). */
	if (p + 2 > sp2 || p[0] != '/' || p[1] != '?')
		return LOGIN_REQ_OTHER;
	for (q = p + 2; q < sp2; q = amp + 1) {
		if ((amp = memchr(q, '&', (size_t)(sp2 - q))) == NULL)
			amp = sp2;
		if ((eq = memchr(q, '=', (size_t)(amp - q))) == NULL)
			eq = amp;
		nlen = (size_t)(eq - q);
		slot = NULL;
		if (nlen == 4 && memcmp(q, "code", 4) == 0)
			slot = &r->code;
		else if (nlen == 5 && memcmp(q, "state", 5) == 0)
			slot = &r->state;
		else if (nlen == 5 && memcmp(q, "error", 5) == 0)
			slot = &r->error;
		else if (nlen == 17 && memcmp(q, "error_description", 17) == 0)
			slot = &r->error_description;
		if (slot != NULL && query_set(slot, eq < amp ? eq + 1 : amp,
		    eq < amp ? (size_t)(amp - eq - 1) : 0) == -1) {
			login_redirect_free(r);
			return -1;
		}
		if (amp == sp2)
			break;
	}
	if (r->code == NULL && r->error == NULL) {
		login_redirect_free(r);
		return LOGIN_REQ_OTHER;
	}
	/* A code that could never be a code: refuse before using it. */
	for (i = 0; r->code != NULL && r->code[i] != '\0'; i++)
		if ((unsigned char)r->code[i] < 0x20) {
			login_redirect_free(r);
			return -1;
		}
	return LOGIN_REQ_REDIRECT;
}

static const char page_head[] = "<!DOCTYPE html>\n<html><head>"
    "<meta charset=\"utf-8\"><title>oauthmail</title></head>"
    "<body style=\"font-family:sans-serif;margin:3em\">";

/* Answers one request with a small fixed page; errors are ignored. */
static void
http_reply(int fd, const char *status, const char *title, const char *text)
{
	char body[1024], head[512];
	int bl, hl;

	bl = snprintf(body, sizeof(body), "%s<h2>%s</h2><p>%s</p>"
	    "</body></html>\n", page_head, title, text);
	if (bl < 0 || (size_t)bl >= sizeof(body))
		return;
	hl = snprintf(head, sizeof(head), "HTTP/1.1 %s\r\n"
	    "Content-Type: text/html; charset=utf-8\r\n"
	    "Content-Length: %d\r\nCache-Control: no-store\r\n"
	    "Connection: close\r\n\r\n", status, bl);
	if (hl < 0 || (size_t)hl >= sizeof(head))
		return;
	(void)send(fd, head, (size_t)hl, MSG_NOSIGNAL);
	(void)send(fd, body, (size_t)bl, MSG_NOSIGNAL);
}

#define RR_INTR		-1
#define RR_DROP		0
#define RR_OK		1
#define RR_TOOBIG	2

/* Reads one request head, bounded in size and time. */
static int
read_request(const struct sigguard *g, int fd, char *req, size_t size,
    size_t *lenp)
{
	long long end = mono_ms() + LOGIN_CONN_SECS * 1000;
	size_t len = 0;
	ssize_t n;
	int r;

	*lenp = 0;
	for (;;) {
		r = wait_fd(g, fd, end - mono_ms());
		if (r == -1)
			return login_interrupted ? RR_INTR : RR_DROP;
		if (r == 0)
			return RR_DROP;
		n = recv(fd, req + len, size - len, 0);
		if (n == -1 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return RR_DROP;
		len += (size_t)n;
		*lenp = len;
		if (memmem(req, len, "\r\n\r\n", 4) != NULL ||
		    memmem(req, len, "\n\n", 2) != NULL)
			return RR_OK;
		if (len == size)
			return RR_TOOBIG;
	}
}

static int
listen_loopback(int *portp, struct err *err)
{
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int fd;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    0)) == -1)
		return err_set(err, ERR_OS, "socket: %s", strerror(errno));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = 0;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(fd, 8) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl) == -1) {
		(void)err_set(err, ERR_OS, "cannot listen on 127.0.0.1: %s",
		    strerror(errno));
		(void)close(fd);
		return -1;
	}
	*portp = ntohs(sin.sin_port);
	return fd;
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
redirect_error(const struct account *acct, const struct login_redirect *r,
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
serve_one(const struct browser_ctx *c, const struct sigguard *g, int cfd,
    int *rcp, struct err *err)
{
	char req[LOGIN_REQ_MAX];
	struct login_redirect r;
	struct json_token tok;
	size_t len;
	int rr, pr;

	rr = read_request(g, cfd, req, sizeof(req), &len);
	if (rr == RR_INTR) {
		*rcp = err_set(err, ERR_AUTH, "sign-in interrupted; nothing "
		    "was stored");
		return 1;
	}
	if (rr == RR_DROP)
		return 0;
	if (rr == RR_TOOBIG) {
		http_reply(cfd, "431 Request Header Fields Too Large",
		    "Request too large", "");
		explicit_bzero(req, sizeof(req));
		return 0;
	}
	pr = login_parse_request(req, len, &r);
	explicit_bzero(req, sizeof(req));
	if (pr == -1) {
		http_reply(cfd, "400 Bad Request", "Bad request", "");
		return 0;
	}
	if (pr == LOGIN_REQ_OTHER) {
		http_reply(cfd, "404 Not Found", "Not found",
		    "oauthmail is waiting for the sign-in redirect.");
		return 0;
	}
	/* RFC 6749 §10.12: a redirect for another request is refused. */
	if (r.state == NULL || strcmp(r.state, c->state) != 0) {
		http_reply(cfd, "400 Bad Request", "Sign-in refused",
		    "The state parameter does not match this sign-in. "
		    "Run oauthmail login again.");
		login_redirect_free(&r);
		*rcp = err_set(err, ERR_AUTH, "refused the browser's "
		    "redirect: its state does not match this sign-in (a "
		    "stale tab or a forged request); run 'oauthmail login "
		    "%s' again", c->acct->name);
		return 1;
	}
	if (r.error != NULL) {
		http_reply(cfd, "200 OK", "Sign-in failed",
		    "See the terminal for the reason. You can close this tab.");
		*rcp = redirect_error(c->acct, &r, err);
		login_redirect_free(&r);
		return 1;
	}
	*rcp = oauth_code_exchange(c->acct, r.code, c->verifier,
	    c->redirect_uri, c->secret, &tok, err);
	login_redirect_free(&r);
	if (*rcp == 0)
		*rcp = store_tokens(c->acct, c->st, &tok, NULL, err);
	json_token_free(&tok);
	if (*rcp == 0)
		http_reply(cfd, "200 OK", "Signed in",
		    "oauthmail has stored the token. You can close this tab.");
	else
		http_reply(cfd, "200 OK", "Sign-in failed",
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
	struct sigguard sig;
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
	if ((lfd = listen_loopback(&port, err)) == -1)
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
	deadline = mono_ms() + LOGIN_WAIT_SECS * 1000LL;
	sig_begin(&sig);
	for (;;) {
		w = wait_fd(&sig, lfd, deadline - mono_ms());
		if (w == -1 && login_interrupted) {
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
	sig_end(&sig);
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

	if (secret == NULL)
		return err_set(err, ERR_CONFIG, "account %s uses client "
		    "credentials but the keyring has no client secret: run "
		    "'oauthmail secret %s' first", acct->name, acct->name);
	rc = oauth_client_credentials(acct, secret, &tok, err);
	if (rc == 0) {
		(void)snprintf(who, sizeof(who), "application %s",
		    acct->client_id != NULL ? acct->client_id : "?");
		rc = store_tokens(acct, st, &tok, who, err);
	}
	json_token_free(&tok);
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
 * --- login_check ---------------------------------------------------------
 */

/* Rewrites err as "STEP: what; fix" and returns -1. */
static int
check_fail(const struct account *acct, struct err *err, const char *step)
{
	(void)err_prefix(err, "%s", step);
	/* Adds the fix unless oauth.c already gave it. */
	(void)advice_add_fix(err, acct->name, acct->user != NULL ?
	    acct->user : acct->from);
	if (err->class == ERR_NONE)
		err->class = ERR_INTERNAL;
	return -1;
}

static int
check_dns(const struct account *acct, FILE *out, struct err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16], host[NI_MAXHOST];
	int r, n = 0;

	(void)snprintf(port, sizeof(port), "%d", conf_port(acct));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(acct->host, port, &hints, &res)) != 0)
		return err_set(err, r == EAI_AGAIN ? ERR_TEMP : ERR_NOHOST,
		    "%s does not resolve (%s); check 'host' for account %s "
		    "and the resolver", acct->host, gai_strerror(r),
		    acct->name);
	fprintf(out, "dns: %s ->", acct->host);
	for (ai = res; ai != NULL && n < 8; ai = ai->ai_next) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host,
		    sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
			continue;
		fprintf(out, " %s", host);
		n++;
	}
	fprintf(out, "\n");
	freeaddrinfo(res);
	return 0;
}

/* Warn when the server certificate expires within this many days. */
#define CHECK_CERT_WARN_DAYS	14

static void
check_cert(struct smtp_session *s, FILE *out)
{
	char subject[512], issuer[512], v[512], when[64];
	time_t not_after, now = time(NULL);
	long long days;
	struct tm tm;

	if (smtp_tls_peer(s, subject, sizeof(subject), issuer,
	    sizeof(issuer), &not_after) == -1)
		return;
	util_sanitize(v, sizeof(v), subject, strlen(subject));
	fprintf(out, "certificate subject: %s\n", v);
	util_sanitize(v, sizeof(v), issuer, strlen(issuer));
	fprintf(out, "certificate issuer: %s\n", v);
	if (not_after <= 0 || gmtime_r(&not_after, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		return;
	days = ((long long)not_after - (long long)now) / 86400;
	fprintf(out, "certificate expires: %s (in %lld days)\n", when, days);
	if (not_after - now < CHECK_CERT_WARN_DAYS * 86400)
		fprintf(out, "warning: the server certificate expires in "
		    "%lld days (%s); tell the server's administrator\n", days,
		    when);
}

static void
check_caps(struct smtp_session *s, FILE *out)
{
	static const struct {
		unsigned	 bit;
		const char	*name;
	} names[] = {
		{ SMTP_CAP_STARTTLS, "STARTTLS" },
		{ SMTP_CAP_PIPELINING, "PIPELINING" },
		{ SMTP_CAP_SIZE, "SIZE" },
		{ SMTP_CAP_8BITMIME, "8BITMIME" },
		{ SMTP_CAP_SMTPUTF8, "SMTPUTF8" },
		{ SMTP_CAP_DSN, "DSN" },
		{ SMTP_CAP_ENHANCED, "ENHANCEDSTATUSCODES" },
	};
	unsigned caps = smtp_caps(s);
	const char *mechs = smtp_auth_offered(s);
	size_t i;

	fprintf(out, "capabilities:");
	for (i = 0; i < nitems(names); i++)
		if (caps & names[i].bit)
			fprintf(out, " %s", names[i].name);
	if (caps & SMTP_CAP_AUTH)
		fprintf(out, " AUTH(%s)", mechs != NULL ? mechs : "");
	fprintf(out, "\n");
}

static void
check_claims(const struct account *acct, const char *token, FILE *out)
{
	struct json_jwt j;
	struct err e;
	char v[512], when[64], fixbuf[400];
	const char *fix;
	struct tm tm;
	time_t t;

	memset(&j, 0, sizeof(j));
	if (json_jwt_claims(token, &j, &e) == -1) {
		fprintf(out, "token: opaque (not a JWT; normal for personal "
		    "Microsoft accounts and Google)\n");
		return;
	}
#define CLAIM(name, val) do {						\
	if ((val) != NULL) {						\
		util_sanitize(v, sizeof(v), (val), strlen(val));	\
		fprintf(out, "token %s: %s\n", (name), v);		\
	}								\
} while (0)
	CLAIM("aud", j.aud);
	CLAIM("scp", j.scp);
	CLAIM("roles", j.roles);
	CLAIM("user", j.upn);
	CLAIM("tid", j.tid);
#undef CLAIM
	if (j.exp > 0) {
		t = (time_t)j.exp;
		if (gmtime_r(&t, &tm) != NULL &&
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
		    &tm) > 0)
			fprintf(out, "token exp: %s\n", when);
	}
	if (j.aud != NULL &&
	    (fix = explain(acct, j.aud, fixbuf, sizeof(fixbuf))) != NULL)
		fprintf(out, "warning: %s\n", fix);
	json_jwt_free(&j);
}

/* Gets the secret to authenticate with: a token or a password. */
static int
check_secret(const struct account *acct, struct store *st, int force,
    struct buf *secret, FILE *out, struct err *err)
{
	int cached = 0, rc;

	buf_reset(secret);
	if (!conf_is_oauth(acct)) {
		rc = store_get(st, acct->name, STORE_PASSWORD, secret, err);
		if (rc == 1)
			return err_set(err, ERR_CONFIG, "the keyring has no "
			    "password for account %s: run 'oauthmail password "
			    "%s'", acct->name, acct->name);
		if (rc == 0)
			fprintf(out, "password: found in %s\n",
			    store_backend_name(st));
		return rc;
	}
	if (token_get(acct, st, force, secret, &cached, err) == -1)
		return -1;
	fprintf(out, "token: %s (%s)\n", cached ? "cached in the keyring" :
	    "freshly refreshed", store_backend_name(st));
	check_claims(acct, buf_str(secret), out);
	return 0;
}

int
login_check(const struct account *acct, FILE *out, struct err *err)
{
	struct smtp_session *s = NULL;
	struct store *st = NULL;
	struct buf secret;
	enum conf_auth mech;
	const char *user, *tlsv;
	int rc = -1;

	buf_init(&secret, LIM_TOKEN, BUF_SECRET);
	fprintf(out, "account %s: %s port %d (%s)\n", acct->name,
	    acct->host != NULL ? acct->host : "(no host)", conf_port(acct),
	    !acct->tls ? "no TLS" : acct->tls_starttls ? "STARTTLS" :
	    "implicit TLS");
	if (acct->host == NULL) {
		rc = err_set(err, ERR_CONFIG, "account %s has no host",
		    acct->name);
		goto out;
	}
	if (check_dns(acct, out, err) == -1) {
		rc = check_fail(acct, err, "dns");
		goto out;
	}
	if (smtp_connect(acct, &s, err) == -1) {
		rc = check_fail(acct, err, "connect");
		goto out;
	}
	tlsv = smtp_tls_version(s);
	fprintf(out, "connect: ok, %s\n", tlsv != NULL && *tlsv != '\0' ?
	    tlsv : "no TLS");
	check_cert(s, out);
	check_caps(s, out);
	if (acct->auth == AUTH_NONE) {
		fprintf(out, "auth: off for this account (not tried)\n");
		rc = 0;
		goto done;
	}
	if (store_open_account(acct, &st, err) == -1) {
		rc = check_fail(acct, err, "keyring");
		goto out;
	}
	if (check_secret(acct, st, 0, &secret, out, err) == -1) {
		rc = check_fail(acct, err, "token");
		goto out;
	}
	mech = smtp_pick_mech(s, acct);
	user = acct->user != NULL ? acct->user : acct->from;
	if (user == NULL) {
		rc = err_set(err, ERR_CONFIG, "account %s has neither user "
		    "nor from: add 'user <mailbox address>'", acct->name);
		goto out;
	}
	rc = smtp_auth(s, mech, user, secret.data, secret.len, err);
	/*
	 * A cached token may be stale: refresh once and retry once, on a
	 * new connection (Exchange Online closes it after 535 5.7.3);
	 * not when only an administrator can help (advice.h).
	 */
	if (rc == -1 && err->class == ERR_AUTH && conf_is_oauth(acct) &&
	    acct->flow != FLOW_CLIENT_CREDENTIALS &&
	    smtpreply_react(err->msg) != ADV_HOLD) {
		fprintf(out, "auth: refused (%s); refreshing the token and "
		    "trying once more on a new connection\n", err->msg);
		if (check_secret(acct, st, 1, &secret, out, err) == -1) {
			rc = check_fail(acct, err, "token");
			goto out;
		}
		smtp_close(s);
		if (smtp_connect(acct, &s, err) == -1) {
			rc = check_fail(acct, err, "connect");
			goto out;
		}
		mech = smtp_pick_mech(s, acct);
		rc = smtp_auth(s, mech, user, secret.data, secret.len, err);
	}
	if (rc == -1) {
		rc = check_fail(acct, err, "auth");
		goto out;
	}
	fprintf(out, "auth: %s as %s: authenticated\n", smtp_mech_name(mech),
	    user);
	if (conf_is_oauth(acct))
		token_mark_success(acct, st);
done:
	fprintf(out, "ok: account %s is ready to send (nothing was sent)\n",
	    acct->name);
out:
	smtp_close(s);
	if (st != NULL)
		store_close(st);
	buf_free(&secret);
	(void)fflush(out);
	return rc;
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
