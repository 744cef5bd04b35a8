/*
 * oauth.c -- the token endpoint over libcurl; see oauth.h. The only file
 * that includes curl.
 *
 * libcurl is not linked but loaded with dlopen() at first use (dynload.h):
 * mapping it and its ~30 dependencies (gnutls, krb5, ldap, ssh2, ...) at
 * every start cost ~3 ms and ~7 MB, although only a token refresh or a
 * sign-in needs HTTPS. The table's types come from <curl/curl.h>, so the
 * compiler still checks every call (but not curl's typecheck-gcc.h checks
 * of curl_easy_setopt's variadic argument).
 */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>

#include <curl/curl.h>
#include <jansson.h>

#include "advice.h"
#include "buf.h"
#include "conf.h"
#include "dynload.h"
#include "json.h"
#include "log.h"
#include "oauth.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

#define OAUTH_CONNECT_TIMEOUT	10L
#define OAUTH_TIMEOUT		30L
#define OAUTH_DESC_MAX		200	/* error_description shown to users */
#define OAUTH_FORM_MAX		(LIM_TOKEN * 4)

#ifndef OM_LIBCURL_SONAME
#define OM_LIBCURL_SONAME	"libcurl.so.4"	/* Debian: libcurl4 */
#endif

/* Every curl_easy_setopt is checked (curl src/tool_setopt.h). */
#define SETOPT(h, opt, val) do {					\
	CURLcode setopt_rc_ = cu.easy_setopt((h), (opt), (val));	\
	if (setopt_rc_ != CURLE_OK) {					\
		err_set(err, ERR_INTERNAL, "curl_easy_setopt(%s): %s",	\
		    #opt, cu.easy_strerror(setopt_rc_));		\
		goto out;						\
	}								\
} while (0)

/*
 * --- libcurl, loaded at first use ---------------------------------------
 * Field f holds curl_f; the field names leave out "curl_" so that curl's
 * function-like macros (curl_easy_setopt, curl_easy_getinfo) never apply.
 */
static struct curl_api {
	__typeof__(&curl_global_init)	 global_init;
	__typeof__(&curl_global_cleanup) global_cleanup;
	__typeof__(&curl_easy_init)	 easy_init;
	__typeof__(&curl_easy_setopt)	 easy_setopt;
	__typeof__(&curl_easy_perform)	 easy_perform;
	__typeof__(&curl_easy_getinfo)	 easy_getinfo;
	__typeof__(&curl_easy_cleanup)	 easy_cleanup;
	__typeof__(&curl_easy_strerror)	 easy_strerror;
	__typeof__(&curl_easy_escape)	 easy_escape;
	__typeof__(&curl_free)		 free;
	__typeof__(&curl_slist_append)	 slist_append;
	__typeof__(&curl_slist_free_all) slist_free_all;
	__typeof__(&curl_url)		 url;
	__typeof__(&curl_url_cleanup)	 url_cleanup;
	__typeof__(&curl_url_set)	 url_set;
	__typeof__(&curl_url_get)	 url_get;
} cu;

#define CU_SYM(f)	DYNLOAD_SYM(curl_api, "curl_", f)
static const struct dynload_sym curl_syms[] = {
	CU_SYM(global_init), CU_SYM(global_cleanup), CU_SYM(easy_init),
	CU_SYM(easy_setopt), CU_SYM(easy_perform), CU_SYM(easy_getinfo),
	CU_SYM(easy_cleanup), CU_SYM(easy_strerror), CU_SYM(easy_escape),
	CU_SYM(free), CU_SYM(slist_append), CU_SYM(slist_free_all),
	CU_SYM(url), CU_SYM(url_cleanup), CU_SYM(url_set), CU_SYM(url_get),
};
static const char *const curl_sonames[] = { OM_LIBCURL_SONAME, NULL };

/*
 * libcurl, loaded once; a failure is remembered. Never unloaded (libcurl
 * and OpenSSL do not support it well). ERR_TEMP: queued mail waits until
 * the library is installed.
 */
static struct dynload curl_lib = {
	.name = "libcurl",
	.package = "libcurl4",
	.sonames = curl_sonames,
	.syms = curl_syms,
	.nsyms = nitems(curl_syms),
	.table = &cu,
	.tablesize = sizeof(cu),
	.old_cure = " (libcurl 7.62 or later is needed)",
};

static int curl_ready;		/* curl_global_init done */

static int
oauth_init(struct err *err)
{
	CURLcode rc;

	if (curl_ready)
		return 0;
	if (dynload_open(&curl_lib, err) == -1)
		return -1;
	if ((rc = cu.global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK)
		return err_set(err, ERR_OS, "curl_global_init: %s",
		    cu.easy_strerror(rc));
	curl_ready = 1;
	return 0;
}

void
oauth_cleanup(void)
{
	if (curl_ready)
		cu.global_cleanup();
	curl_ready = 0;
}

/*
 * --- Classification -----------------------------------------------------
 */

/* Standard error codes that need a configuration change. */
static const struct {
	const char	*error;
	const char	*fix;
} config_errors[] = {
	{ "invalid_client", "check client_id, or store a client secret with "
	    "'oauthmail secret @ACCT@'" },
	{ "unauthorized_client", "the app registration may not use this "
	    "grant: check 'flow' and the registration (account @ACCT@)" },
	{ "invalid_scope", "fix 'scope' for account @ACCT@" },
	{ "unsupported_grant_type", "the token endpoint does not support "
	    "this flow: check 'flow' and token_endpoint (account @ACCT@)" },
	{ "invalid_request", "check token_endpoint, client_id and scope for "
	    "account @ACCT@" },
};

/* Copies tmpl into dst with each "@ACCT@" replaced by account. */
static void
fill(char *dst, size_t size, const char *tmpl, const char *account)
{
	const char *p;
	struct buf b;

	buf_init(&b, size - 1, 0);
	while ((p = strstr(tmpl, "@ACCT@")) != NULL) {
		if (buf_add(&b, tmpl, (size_t)(p - tmpl)) == -1 ||
		    buf_adds(&b, account) == -1)
			break;
		tmpl = p + 6;
	}
	if (p == NULL)
		(void)buf_adds(&b, tmpl);
	(void)strlcpy(dst, buf_str(&b), size);
	buf_free(&b);
}

/*
 * error_description: first line only, sanitised and shortened at a word
 * boundary to at most max bytes (advice_shorten).
 */
static void
short_desc(char *dst, size_t size, const char *desc, size_t max)
{
	if (desc == NULL) {
		dst[0] = '\0';
		return;
	}
	advice_shorten(dst, size, desc, max);
}

/*
 * The catalogue's row for a token endpoint error: the AADSTS codes of
 * error_codes first, then the description, then the error code itself.
 */
static const struct advice *
known_error(const struct json_token *r)
{
	const struct advice *a;
	char pat[32];
	size_t i;

	for (i = 0; i < r->nerror_codes; i++) {
		(void)snprintf(pat, sizeof(pat), "AADSTS%lld",
		    r->error_codes[i]);
		if ((a = advice_find(pat)) != NULL)
			return a;
	}
	if (r->error_description != NULL &&
	    (a = advice_find(r->error_description)) != NULL)
		return a;
	return advice_find(r->error);
}

int
oauth_classify(const char *account, long status, const struct json_token *r,
    struct err *err)
{
	char desc[OAUTH_DESC_MAX + 8], fix[sizeof(err->msg)], code[64];
	const struct advice *a;
	const char *e;
	size_t i, room;

	if (account == NULL)
		account = "ACCOUNT";
	if (r == NULL || r->error == NULL) {
		if (status >= 200 && status < 300) {
			if (r != NULL)
				return 0;
			return err_set(err, ERR_PROTO, "the token endpoint "
			    "sent an unreadable reply (HTTP %ld)", status);
		}
		if (status == 0)
			return err_set(err, ERR_TEMP,
			    "no reply from the token endpoint");
		if (status >= 500 || status == 408 || status == 425 ||
		    status == 429)
			return err_set(err, ERR_TEMP, "the token endpoint is "
			    "unavailable (HTTP %ld); will retry", status);
		if (status >= 300 && status < 400)
			return err_set(err, ERR_CONFIG, "the token endpoint "
			    "redirects (HTTP %ld): set token_endpoint to the "
			    "final https URL (account %s)", status, account);
		return err_set(err, ERR_CONFIG, "the token endpoint answered "
		    "HTTP %ld without an OAuth error: check token_endpoint "
		    "(account %s)", status, account);
	}

	short_desc(desc, sizeof(desc), r->error_description, OAUTH_DESC_MAX);
	util_sanitize(code, sizeof(code), r->error, strlen(r->error));
	e = r->error;

	/* Transient whatever the body says. */
	if (status >= 500 || status == 429 || status == 408 ||
	    strcmp(e, "temporarily_unavailable") == 0 ||
	    strcmp(e, "server_error") == 0)
		return err_set(err, ERR_TEMP, "the token endpoint is "
		    "unavailable (HTTP %ld, %s%s%s); will retry", status, code,
		    desc[0] ? ": " : "", desc);

	if ((a = known_error(r)) != NULL) {
		/* The whole fix, then as much of the description as fits. */
		advice_fill(a, account, NULL, fix, sizeof(fix));
		room = sizeof(err->msg) - 1;
		room = strlen(fix) + strlen(code) + 6 < room ?
		    room - strlen(fix) - strlen(code) - 6 : 0;
		short_desc(desc, sizeof(desc), r->error_description,
		    room < OAUTH_DESC_MAX ? room : OAUTH_DESC_MAX);
		return err_set(err, a->class, "%s (%s%s%s)", fix, code,
		    desc[0] ? ": " : "", desc);
	}

	if (strcmp(e, "invalid_grant") == 0)
		return err_set(err, ERR_AUTH, "sign-in needed: run "
		    "'oauthmail login %s' (invalid_grant%s%s)", account,
		    desc[0] ? ": " : "", desc);
	for (i = 0; i < nitems(config_errors); i++) {
		if (strcmp(e, config_errors[i].error) != 0)
			continue;
		fill(fix, sizeof(fix), config_errors[i].fix, account);
		return err_set(err, ERR_CONFIG, "the token endpoint refused "
		    "the request (%s%s%s): %s", code, desc[0] ? ": " : "",
		    desc, fix);
	}
	if (strcmp(e, "access_denied") == 0 ||
	    strcmp(e, "authorization_declined") == 0)
		return err_set(err, ERR_AUTH, "sign-in was declined: run "
		    "'oauthmail login %s' again (%s)", account, code);
	if (strcmp(e, "expired_token") == 0 ||
	    strcmp(e, "bad_verification_code") == 0)
		return err_set(err, ERR_AUTH, "the sign-in code expired or is "
		    "wrong: run 'oauthmail login %s' again (%s)", account,
		    code);
	if (strcmp(e, "interaction_required") == 0 ||
	    strcmp(e, "consent_required") == 0 ||
	    strcmp(e, "login_required") == 0)
		return err_set(err, ERR_AUTH, "sign-in needed: run "
		    "'oauthmail login %s' (%s%s%s)", account, code,
		    desc[0] ? ": " : "", desc);
	/* Unknown error: do not give up on the mail, do not delete. */
	return err_set(err, ERR_TEMP, "the token endpoint refused the request "
	    "(HTTP %ld, %s%s%s)", status, code, desc[0] ? ": " : "", desc);
}

/*
 * --- URL policy ---------------------------------------------------------
 */

int
oauth_check_url(const char *url, int *loopback, struct err *err)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	char shown[128];
	int rc = -1;

	*loopback = 0;
	if (url == NULL || *url == '\0')
		return err_set(err, ERR_CONFIG, "no endpoint URL configured");
	util_sanitize(shown, sizeof(shown), url, strlen(url));
	if (dynload_open(&curl_lib, err) == -1)
		return -1;
	if ((u = cu.url()) == NULL)
		return err_set(err, ERR_OS, "curl_url: out of memory");
	if (cu.url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    cu.url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    cu.url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
		err_set(err, ERR_CONFIG, "invalid endpoint URL: %s", shown);
		goto out;
	}
	if (strcasecmp(scheme, "https") == 0)
		rc = 0;
	else if (strcasecmp(scheme, "http") == 0 &&
	    (strcmp(host, "127.0.0.1") == 0 || strcmp(host, "[::1]") == 0 ||
	    strcasecmp(host, "localhost") == 0)) {
		*loopback = 1;
		rc = 0;
	} else
		err_set(err, ERR_CONFIG, "endpoint URL must use https "
		    "(http only to 127.0.0.1, [::1] or localhost): %s", shown);
 out:
	cu.free(scheme);
	cu.free(host);
	cu.url_cleanup(u);
	return rc;
}

/*
 * --- Redacting debug output ---------------------------------------------
 */

static const char *secret_form_keys[] = {
	"refresh_token", "client_secret", "code", "code_verifier",
	"password", "device_code", "token", "assertion", "client_assertion"
};
static const char *secret_json_keys[] = {
	"access_token", "refresh_token", "id_token", "device_code"
};

struct oauth_debug {
	size_t	 form_len;	/* the whole request body, sent in one piece */
};

static void
debug_line(const char *tag, const char *p, size_t n)
{
	char line[512];

	while (n > 0 && (p[n - 1] == '\n' || p[n - 1] == '\r'))
		n--;
	util_sanitize(line, sizeof(line), p, n);
	log_debug("http %s %s", tag, line);
}

/* Header lines; values of credential headers are replaced. */
static void
debug_headers(const char *tag, const char *p, size_t n)
{
	static const char *hidden[] = {
		"authorization:", "proxy-authorization:", "cookie:",
		"set-cookie:"
	};
	size_t len, i, hl;

	while (n > 0) {
		len = 0;
		while (len < n && p[len] != '\n')
			len++;
		for (i = 0; i < nitems(hidden); i++) {
			hl = strlen(hidden[i]);
			if (len >= hl && strncasecmp(p, hidden[i], hl) == 0)
				break;
		}
		if (i < nitems(hidden))
			log_debug("http %s %.*s [redacted]", tag,
			    (int)hl - 1, p);
		else if (len > 0 && !(len == 1 && p[0] == '\r'))
			debug_line(tag, p, len);
		if (len < n)
			len++;
		p += len;
		n -= len;
	}
}

/* A form body: key=value&...; values of secret keys are replaced. */
static void
debug_form(const char *p, size_t n)
{
	struct buf b;
	size_t i, klen, vlen;
	const char *k, *amp;
	int secret;

	buf_init(&b, OAUTH_FORM_MAX, 0);
	while (n > 0) {
		amp = memchr(p, '&', n);
		vlen = amp ? (size_t)(amp - p) : n;
		k = p;
		klen = 0;
		while (klen < vlen && k[klen] != '=')
			klen++;
		secret = 0;
		for (i = 0; i < nitems(secret_form_keys); i++)
			if (strlen(secret_form_keys[i]) == klen &&
			    memcmp(k, secret_form_keys[i], klen) == 0)
				secret = 1;
		if (b.len > 0 && buf_addc(&b, '&') == -1)
			return;
		if (secret) {
			if (buf_add(&b, k, klen) == -1 ||
			    buf_addf(&b, "=[redacted, %zu bytes]",
			    vlen > klen ? vlen - klen - 1 : 0) == -1)
				return;
		} else if (buf_add(&b, k, vlen) == -1)
			return;
		if (amp == NULL)
			break;
		n -= vlen + 1;
		p += vlen + 1;
	}
	debug_line(">", buf_str(&b), b.len);
	buf_free(&b);
}

/* A JSON body: shown only if it parses, secret values replaced. */
static void
debug_json(const char *p, size_t n)
{
	json_t *root, *v;
	json_error_t jerr;
	char text[2048], note[64];
	size_t i, len;

	json_secure_alloc();
	root = json_loadb(p, n, 0, &jerr);
	if (root == NULL || !json_is_object(root)) {
		json_decref(root);
		log_debug("http < [%zu bytes of body, not shown]", n);
		return;
	}
	for (i = 0; i < nitems(secret_json_keys); i++) {
		v = json_object_get(root, secret_json_keys[i]);
		if (v == NULL)
			continue;
		(void)snprintf(note, sizeof(note), "[redacted, %zu bytes]",
		    json_is_string(v) ? json_string_length(v) : (size_t)0);
		json_object_set_new(root, secret_json_keys[i],
		    json_string(note));
	}
	len = json_dumpb(root, text, sizeof(text), JSON_COMPACT |
	    JSON_PRESERVE_ORDER);
	if (len > 0 && len <= sizeof(text))
		debug_line("<", text, len);
	else
		log_debug("http < [%zu bytes of body, not shown]", n);
	explicit_bzero(text, sizeof(text));
	json_decref(root);
}

static int
debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct oauth_debug *d = arg;

	(void)h;
	switch (type) {
	case CURLINFO_TEXT:
		debug_line("*", data, size);
		break;
	case CURLINFO_HEADER_OUT:
		debug_headers(">", data, size);
		break;
	case CURLINFO_HEADER_IN:
		debug_headers("<", data, size);
		break;
	case CURLINFO_DATA_OUT:
		if (size == d->form_len)
			debug_form(data, size);
		else
			log_debug("http > [%zu bytes of body, not shown]",
			    size);
		break;
	case CURLINFO_DATA_IN:
		debug_json(data, size);
		break;
	default:	/* TLS data: never */
		break;
	}
	return 0;
}

/*
 * --- Requests -----------------------------------------------------------
 */

struct sink {
	struct buf	*body;
	int		 toobig;
};

static size_t
write_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct sink *s = arg;

	if (s->toobig)
		return 0;
	if (buf_add(s->body, p, sz * n) == -1) {
		s->toobig = 1;
		return 0;
	}
	return sz * n;
}

/* Appends name=escaped(value) to the form. */
static int
form_add(CURL *h, struct buf *form, const char *name, const char *value,
    struct err *err)
{
	char *esc;
	int rc;

	if (value == NULL)
		return 0;
	if ((esc = cu.easy_escape(h, value, 0)) == NULL)
		return err_set(err, ERR_OS, "curl_easy_escape failed");
	rc = buf_addf(form, "%s%s=%s", form->len ? "&" : "", name, esc);
	explicit_bzero(esc, strlen(esc));
	cu.free(esc);
	if (rc == -1)
		return err_set(err, ERR_CONFIG, "OAuth request too large");
	return 0;
}

struct field {
	const char	*name;
	const char	*value;		/* NULL: left out */
};

static long long
mono_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* libcurl's progress callback: the note on a slow endpoint (log.h). */
static int
slow_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	long long *start = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (*start > 0 && mono_ms() - *start >= LOG_SLOW_MS) {
		log_slow_note();
		*start = 0;
	}
	return 0;
}

/* Names url's host for log_slow_host and asks libcurl to call slow_cb. */
static int
slow_begin(CURL *h, const char *url, long long *start, struct err *err)
{
	char host[256];
	const char *p = strstr(url, "://");
	size_t n;

	*start = 0;
	p = p != NULL ? p + 3 : url;
	n = strcspn(p, "/?#");
	if (memchr(p, '@', n) != NULL)
		return 0;		/* oauth_check_url refuses these */
	(void)snprintf(host, sizeof(host), "%.*s", (int)n, p);
	log_slow_host(host);
	if (log_slow_ms() < 0)
		return 0;
	*start = mono_ms();
	SETOPT(h, CURLOPT_XFERINFOFUNCTION, slow_cb);
	SETOPT(h, CURLOPT_XFERINFODATA, start);
	SETOPT(h, CURLOPT_NOPROGRESS, 0L);
	return 0;
 out:
	log_slow_host(NULL);
	return -1;
}

/*
 * POSTs the fields to url; parses the reply into out and classifies it.
 * Returns 0 on a successful reply, else -1.
 */
static int
oauth_post(const struct account *acct, const char *url,
    const struct field *fields, size_t nfields, struct json_token *out,
    struct err *err)
{
	CURL *h = NULL;
	struct curl_slist *hdrs = NULL, *nh;
	struct buf form, body;
	struct sink sink;
	struct oauth_debug dbg;
	char errbuf[CURL_ERROR_SIZE], shown[CURL_ERROR_SIZE + 8];
	long status = 0;
	long long slow_start = 0;
	int loopback, rc = -1, parsed;
	size_t i;
	CURLcode cc;
	struct err perr;

	json_token_init(out);
	buf_init(&form, OAUTH_FORM_MAX, BUF_SECRET);
	buf_init(&body, LIM_HTTP_BODY, BUF_SECRET);
	if (oauth_check_url(url, &loopback, err) == -1)
		return err_prefix(err, "account %s", acct->name);
	if (oauth_init(err) == -1)
		return -1;
	if ((h = cu.easy_init()) == NULL)
		return err_set(err, ERR_OS, "curl_easy_init failed");
	for (i = 0; i < nfields; i++)
		if (form_add(h, &form, fields[i].name, fields[i].value,
		    err) == -1)
			goto out;

	errbuf[0] = '\0';
	sink.body = &body;
	sink.toobig = 0;
	dbg.form_len = form.len;
	SETOPT(h, CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(h, CURLOPT_URL, url);
	SETOPT(h, CURLOPT_PROTOCOLS_STR, loopback ? "http" : "https");
	SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	/* The account's "timeout" also bounds the token endpoint. */
	SETOPT(h, CURLOPT_CONNECTTIMEOUT, acct->timeout > 0 &&
	    acct->timeout < OAUTH_CONNECT_TIMEOUT ? (long)acct->timeout :
	    OAUTH_CONNECT_TIMEOUT);
	SETOPT(h, CURLOPT_TIMEOUT, acct->timeout > 0 &&
	    acct->timeout < OAUTH_TIMEOUT ? (long)acct->timeout :
	    OAUTH_TIMEOUT);
	SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)LIM_HTTP_BODY);
	if (loopback)
		SETOPT(h, CURLOPT_PROXY, "");	/* never send loopback away */
	else {
		SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
		SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
		SETOPT(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
		if (acct->tls_trust_file != NULL)
			SETOPT(h, CURLOPT_CAINFO, acct->tls_trust_file);
	}
	SETOPT(h, CURLOPT_USERAGENT, OM_PROGNAME "/" PACKAGE_VERSION);
	SETOPT(h, CURLOPT_POST, 1L);
	SETOPT(h, CURLOPT_POSTFIELDS, buf_str(&form));
	SETOPT(h, CURLOPT_POSTFIELDSIZE, (long)form.len);
	if ((nh = cu.slist_append(hdrs, "Accept: application/json")) ==
	    NULL) {
		err_set(err, ERR_OS, "curl_slist_append failed");
		goto out;
	}
	hdrs = nh;
	if ((nh = cu.slist_append(hdrs, "Content-Type: "
	    "application/x-www-form-urlencoded")) == NULL) {
		err_set(err, ERR_OS, "curl_slist_append failed");
		goto out;
	}
	hdrs = nh;
	SETOPT(h, CURLOPT_HTTPHEADER, hdrs);
	SETOPT(h, CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(h, CURLOPT_WRITEDATA, &sink);
	if (log_verbosity() >= 2) {
		SETOPT(h, CURLOPT_DEBUGFUNCTION, debug_cb);
		SETOPT(h, CURLOPT_DEBUGDATA, &dbg);
		SETOPT(h, CURLOPT_VERBOSE, 1L);
	}

	if (slow_begin(h, url, &slow_start, err) == -1)
		goto out;
	cc = cu.easy_perform(h);
	log_slow_host(NULL);
	(void)cu.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if (sink.toobig || cc == CURLE_FILESIZE_EXCEEDED) {
		/* A reply we refuse to read is the server's fault. */
		err_set(err, status >= 500 || status == 0 ? ERR_TEMP :
		    ERR_PROTO, "token endpoint reply larger than %d bytes "
		    "(HTTP %ld)", LIM_HTTP_BODY, status);
		goto out;
	}
	if (cc != CURLE_OK) {
		util_sanitize(shown, sizeof(shown), errbuf[0] ? errbuf :
		    cu.easy_strerror(cc), strlen(errbuf[0] ? errbuf :
		    cu.easy_strerror(cc)));
		/* Transport errors are transient; TLS ones get a hint. */
		if (cc == CURLE_PEER_FAILED_VERIFICATION ||
		    cc == CURLE_SSL_CACERT_BADFILE)
			err_set(err, ERR_TEMP, "token endpoint: %s "
			    "(account %s; check tls_trust_file)", shown,
			    acct->name);
		else
			err_set(err, ERR_TEMP, "token endpoint: %s", shown);
		goto out;
	}
	if (body.len == 0 && status >= 200 && status < 300) {
		rc = 0;		/* e.g. revocation (RFC 7009 §2.2) */
		goto out;
	}
	parsed = json_token_parse(out, buf_str(&body), body.len, &perr) == 0;
	if (!parsed && status >= 200 && status < 300) {
		err_set(err, ERR_PROTO, "%s", perr.msg);
		goto out;
	}
	rc = oauth_classify(acct->name, status, parsed ? out : NULL, err);
	if (rc == 0)
		log_debug("token endpoint: HTTP %ld", status);
 out:
	if (hdrs != NULL)
		cu.slist_free_all(hdrs);
	if (h != NULL)
		cu.easy_cleanup(h);
	buf_free(&form);
	buf_free(&body);
	return rc;
}

/* GETs url into body (any status); 0, or -1 on a transport failure. */
static int
oauth_get(const struct account *acct, const char *url, struct buf *body,
    long *status, struct err *err)
{
	CURL *h = NULL;
	struct sink sink;
	char errbuf[CURL_ERROR_SIZE], shown[CURL_ERROR_SIZE + 8];
	int loopback, rc = -1;
	CURLcode cc;

	if (oauth_check_url(url, &loopback, err) == -1 || oauth_init(err) == -1)
		return -1;
	if ((h = cu.easy_init()) == NULL)
		return err_set(err, ERR_OS, "curl_easy_init failed");
	errbuf[0] = '\0';
	sink.body = body;
	sink.toobig = 0;
	SETOPT(h, CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(h, CURLOPT_URL, url);
	SETOPT(h, CURLOPT_PROTOCOLS_STR, loopback ? "http" : "https");
	SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	SETOPT(h, CURLOPT_CONNECTTIMEOUT, (long)OAUTH_CONNECT_TIMEOUT);
	SETOPT(h, CURLOPT_TIMEOUT, (long)OAUTH_TIMEOUT);
	SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)LIM_HTTP_BODY);
	if (loopback)
		SETOPT(h, CURLOPT_PROXY, "");
	else {
		SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
		SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
		SETOPT(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
		if (acct->tls_trust_file != NULL)
			SETOPT(h, CURLOPT_CAINFO, acct->tls_trust_file);
	}
	SETOPT(h, CURLOPT_USERAGENT, OM_PROGNAME "/" PACKAGE_VERSION);
	SETOPT(h, CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(h, CURLOPT_WRITEDATA, &sink);
	cc = cu.easy_perform(h);
	(void)cu.easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (sink.toobig || cc == CURLE_FILESIZE_EXCEEDED) {
		err_set(err, ERR_PROTO, "%s: reply larger than %d bytes", url,
		    LIM_HTTP_BODY);
		goto out;
	}
	if (cc != CURLE_OK) {
		util_sanitize(shown, sizeof(shown), errbuf[0] ? errbuf :
		    cu.easy_strerror(cc), strlen(errbuf[0] ? errbuf :
		    cu.easy_strerror(cc)));
		err_set(err, ERR_TEMP, "%s: %s", url, shown);
		goto out;
	}
	rc = 0;
 out:
	cu.easy_cleanup(h);
	return rc;
}

static int
need(const struct account *acct, const char *what, const char *val,
    struct err *err)
{
	if (val == NULL || *val == '\0')
		return err_set(err, ERR_CONFIG, "account %s has no %s: set it "
		    "in the configuration (or choose a provider)", acct->name,
		    what);
	return 0;
}

/* A grant reply must carry an access token. */
static int
want_access(const struct account *acct, struct json_token *out,
    struct err *err)
{
	if (out->access_token == NULL) {
		json_token_free(out);
		return err_set(err, ERR_PROTO, "the token endpoint's reply "
		    "has no access_token (account %s)", acct->name);
	}
	if (out->token_type != NULL &&
	    strcasecmp(out->token_type, "bearer") != 0)
		log_info("account %s: unexpected token_type, using it as a "
		    "bearer token", acct->name);
	return 0;
}

int
oauth_refresh(const struct account *acct, const char *refresh_token,
    const char *client_secret, struct json_token *out, struct err *err)
{
	const struct field f[] = {
		{ "grant_type", "refresh_token" },
		{ "client_id", acct->client_id },
		{ "refresh_token", refresh_token },
		{ "scope", acct->scope },
		{ "client_secret", client_secret },
	};

	json_token_init(out);
	if (need(acct, "token_endpoint", acct->token_endpoint, err) == -1 ||
	    need(acct, "client_id", acct->client_id, err) == -1)
		return -1;
	if (refresh_token == NULL || *refresh_token == '\0')
		return err_set(err, ERR_AUTH, "no refresh token for account "
		    "%s: run 'oauthmail login %s'", acct->name, acct->name);
	if (oauth_post(acct, acct->token_endpoint, f, nitems(f), out,
	    err) == -1)
		return -1;
	return want_access(acct, out, err);
}

int
oauth_client_credentials(const struct account *acct,
    const char *client_secret, struct json_token *out, struct err *err)
{
	const struct field f[] = {
		{ "grant_type", "client_credentials" },
		{ "client_id", acct->client_id },
		{ "client_secret", client_secret },
		{ "scope", acct->scope },
	};

	json_token_init(out);
	if (need(acct, "token_endpoint", acct->token_endpoint, err) == -1 ||
	    need(acct, "client_id", acct->client_id, err) == -1)
		return -1;
	if (client_secret == NULL || *client_secret == '\0')
		return err_set(err, ERR_CONFIG, "account %s uses client "
		    "credentials but has no client secret: run 'oauthmail "
		    "secret %s'", acct->name, acct->name);
	if (oauth_post(acct, acct->token_endpoint, f, nitems(f), out,
	    err) == -1)
		return -1;
	return want_access(acct, out, err);
}

/* invalid_client for an assertion: what to check is not a secret. */
static void
assertion_refused(const struct account *acct, const struct json_token *r,
    struct err *err)
{
	char desc[200];

	short_desc(desc, sizeof(desc), r->error_description, 160);
	if (strstr(desc, "AADSTS700024") != NULL)
		err_set(err, ERR_CONFIG, "the token endpoint refused the "
		    "client assertion as outside its valid time (%s): this "
		    "host's clock is probably wrong; check it (timedatectl) "
		    "and keep it in sync with NTP", desc);
	else if (acct->client_certificate != NULL)
		err_set(err, ERR_CONFIG, "the token endpoint refused the "
		    "client assertion (invalid_client%s%s): check that %s is "
		    "a certificate of application %s (Certificates & "
		    "secrets) and that the key stored with 'oauthmail secret "
		    "%s --key' is its own", desc[0] ? ": " : "", desc,
		    acct->client_certificate, acct->client_id, acct->name);
	else
		err_set(err, ERR_CONFIG, "the token endpoint refused the "
		    "federated assertion of %s (invalid_client%s%s): check "
		    "the federated credential of application %s (issuer, "
		    "subject, audience)", acct->client_assertion_file,
		    desc[0] ? ": " : "", desc, acct->client_id);
}

int
oauth_client_assertion(const struct account *acct, const char *assertion,
    struct json_token *out, struct err *err)
{
	const struct field f[] = {
		{ "grant_type", "client_credentials" },
		{ "client_id", acct->client_id },
		{ "client_assertion_type", OAUTH_ASSERTION_TYPE },
		{ "client_assertion", assertion },
		{ "scope", acct->scope },
	};

	json_token_init(out);
	if (need(acct, "token_endpoint", acct->token_endpoint, err) == -1 ||
	    need(acct, "client_id", acct->client_id, err) == -1)
		return -1;
	if (oauth_post(acct, acct->token_endpoint, f, nitems(f), out,
	    err) == -1) {
		if (err->class == ERR_CONFIG && out->error != NULL &&
		    strcmp(out->error, "invalid_client") == 0)
			assertion_refused(acct, out, err);
		return -1;
	}
	return want_access(acct, out, err);
}

int
oauth_device_authorize(const struct account *acct, const char *client_secret,
    struct json_token *out, struct err *err)
{
	const struct field f[] = {
		{ "client_id", acct->client_id },
		{ "scope", acct->scope },
		{ "client_secret", client_secret },
	};

	json_token_init(out);
	if (need(acct, "device_endpoint", acct->device_endpoint, err) == -1 ||
	    need(acct, "client_id", acct->client_id, err) == -1)
		return -1;
	if (oauth_post(acct, acct->device_endpoint, f, nitems(f), out,
	    err) == -1)
		return -1;
	if (out->device_code == NULL || out->user_code == NULL ||
	    out->verification_uri == NULL) {
		json_token_free(out);
		return err_set(err, ERR_PROTO, "the device authorization "
		    "reply lacks device_code, user_code or verification_uri "
		    "(account %s)", acct->name);
	}
	if (out->interval <= 0)
		out->interval = 5;
	if (out->expires_in <= 0)
		out->expires_in = 900;
	return 0;
}

int
oauth_device_poll(const struct account *acct, const char *device_code,
    const char *client_secret, struct json_token *out, struct err *err)
{
	const struct field f[] = {
		{ "grant_type", "urn:ietf:params:oauth:grant-type:device_code" },
		{ "client_id", acct->client_id },
		{ "device_code", device_code },
		{ "client_secret", client_secret },
	};

	json_token_init(out);
	if (need(acct, "token_endpoint", acct->token_endpoint, err) == -1 ||
	    need(acct, "client_id", acct->client_id, err) == -1)
		return -1;
	if (oauth_post(acct, acct->token_endpoint, f, nitems(f), out,
	    err) == -1) {
		if (out->error != NULL &&
		    strcmp(out->error, "authorization_pending") == 0) {
			json_token_free(out);
			return OAUTH_POLL_PENDING;
		}
		if (out->error != NULL && strcmp(out->error, "slow_down") == 0) {
			json_token_free(out);
			return OAUTH_POLL_SLOW_DOWN;
		}
		return -1;
	}
	return want_access(acct, out, err);
}

int
oauth_code_exchange(const struct account *acct, const char *code,
    const char *code_verifier, const char *redirect_uri,
    const char *client_secret, struct json_token *out, struct err *err)
{
	const struct field f[] = {
		{ "grant_type", "authorization_code" },
		{ "client_id", acct->client_id },
		{ "code", code },
		{ "code_verifier", code_verifier },
		{ "redirect_uri", redirect_uri },
		{ "scope", acct->scope },
		{ "client_secret", client_secret },
	};

	json_token_init(out);
	if (need(acct, "token_endpoint", acct->token_endpoint, err) == -1 ||
	    need(acct, "client_id", acct->client_id, err) == -1)
		return -1;
	if (code == NULL || *code == '\0')
		return err_set(err, ERR_AUTH, "no authorization code received");
	if (oauth_post(acct, acct->token_endpoint, f, nitems(f), out,
	    err) == -1)
		return -1;
	return want_access(acct, out, err);
}

/* The tenant: the path segment after the host of the issuer URL. */
static int
issuer_tenant(const char *issuer, char *tenant, size_t size)
{
	const char *p, *e;
	size_t n;

	if (strncmp(issuer, "https://", 8) != 0 ||
	    (p = strchr(issuer + 8, '/')) == NULL)
		return -1;
	p++;
	if ((e = strchr(p, '/')) == NULL || (n = (size_t)(e - p)) == 0 ||
	    n >= size || n > 64)
		return -1;
	memcpy(tenant, p, n);
	tenant[n] = '\0';
	for (; *p != '/'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			return -1;
	return 0;
}

int
oauth_ms_tenant(const char *base, const char *domain, char *tenant,
    size_t size, struct err *err)
{
	static char name[] = "setup";
	struct account acct;
	struct buf body;
	json_t *root;
	const char *iss;
	char *url;
	long status = 0;
	int rc;

	memset(&acct, 0, sizeof(acct));
	acct.name = name;
	url = xasprintf("%s/%s/v2.0/.well-known/openid-configuration", base,
	    domain);
	buf_init(&body, LIM_HTTP_BODY, 0);
	rc = oauth_get(&acct, url, &body, &status, err);
	free(url);
	if (rc == 0 && (status == 400 || status == 404))
		rc = 1;
	else if (rc == 0 && status != 200)
		rc = err_set(err, ERR_TEMP, "OpenID configuration of %s: HTTP "
		    "%ld", domain, status);
	else if (rc == 0) {
		json_secure_alloc();
		root = json_loadb(buf_str(&body), body.len, 0, NULL);
		iss = json_string_value(json_object_get(root, "issuer"));
		if (iss == NULL || issuer_tenant(iss, tenant, size) == -1)
			rc = err_set(err, ERR_PROTO, "OpenID configuration of "
			    "%s has no usable issuer", domain);
		json_decref(root);
	}
	buf_free(&body);
	return rc;
}

int
oauth_revoke(const struct account *acct, const char *token, const char *hint,
    struct err *err)
{
	const struct field f[] = {
		{ "token", token },
		{ "token_type_hint", hint },
		{ "client_id", acct->client_id },
	};
	struct json_token out;
	int rc;

	if (acct->revoke_endpoint == NULL || *acct->revoke_endpoint == '\0')
		return 1;
	if (token == NULL || *token == '\0')
		return 1;
	rc = oauth_post(acct, acct->revoke_endpoint, f, nitems(f), &out, err);
	json_token_free(&out);
	return rc;
}

/*
 * --- API requests (api.h) -----------------------------------------------
 */

struct api_io {
	struct oauth_api_req	*req;
	struct sink		 sink;
	long long		 left;
};

static size_t
api_read_cb(char *dst, size_t sz, size_t n, void *arg)
{
	struct api_io *io = arg;
	size_t got;

	got = io->req->read(dst, sz * n, io->req->arg);
	if (got == OAUTH_READ_ABORT)
		return CURL_READFUNC_ABORT;
	io->left -= (long long)got;
	if (io->left == 0)
		io->req->sent = 1;
	return got;
}

/* Keeps the request id of the reply (Graph: request-id; Google: x-...). */
static size_t
api_header_cb(char *p, size_t sz, size_t n, void *arg)
{
	struct oauth_api_req *req = arg;
	size_t len = sz * n, k;
	const char *names[] = { "request-id:", "x-request-id:",
	    "x-guploader-uploadid:" };

	for (k = 0; k < nitems(names); k++) {
		size_t nl = strlen(names[k]);

		if (len > nl && strncasecmp(p, names[k], nl) == 0 &&
		    (req->request_id[0] == '\0' || k < 2)) {
			const char *v = p + nl;
			size_t vl = len - nl, e = 0;

			while (vl > 0 && (*v == ' ' || *v == '\t'))
				v++, vl--;
			/* Not NUL-terminated: stop at the line's end. */
			while (e < vl && v[e] != '\r' && v[e] != '\n')
				e++;
			util_sanitize(req->request_id, sizeof(req->request_id),
			    v, e);
			break;
		}
	}
	return len;
}

static int
api_headers(struct curl_slist **hdrs, const struct oauth_api_req *req,
    struct err *err)
{
	struct curl_slist *nh;
	struct buf b;
	int rc = 0;

	buf_init(&b, LIM_TOKEN + 64, BUF_SECRET);
	if (buf_addf(&b, "Authorization: Bearer %s", req->bearer) == -1)
		return err_set(err, ERR_AUTH, "access token too long");
	if ((nh = cu.slist_append(*hdrs, buf_str(&b))) == NULL ||
	    (*hdrs = nh, buf_reset(&b), buf_addf(&b, "Content-Type: %s",
	    req->content_type) == -1) ||
	    (nh = cu.slist_append(*hdrs, buf_str(&b))) == NULL ||
	    (*hdrs = nh, (nh = cu.slist_append(*hdrs,
	    "Accept: application/json")) == NULL))
		rc = err_set(err, ERR_OS, "curl_slist_append failed");
	else
		*hdrs = nh;
	buf_free(&b);
	return rc;
}

int
oauth_api_post(const struct account *acct, struct oauth_api_req *req,
    struct err *err)
{
	CURL *h = NULL;
	struct curl_slist *hdrs = NULL;
	struct api_io io;
	char errbuf[CURL_ERROR_SIZE], shown[CURL_ERROR_SIZE + 8];
	curl_off_t ra = 0;
	int loopback, rc = -1;
	CURLcode cc;

	req->status = 0;
	req->retry_after = 0;
	req->request_id[0] = '\0';
	req->sent = req->body_len == 0;
	if (oauth_check_url(req->url, &loopback, err) == -1)
		return err_prefix(err, "account %s", acct->name);
	if (oauth_init(err) == -1)
		return -1;
	if ((h = cu.easy_init()) == NULL)
		return err_set(err, ERR_OS, "curl_easy_init failed");
	memset(&io, 0, sizeof(io));
	io.req = req;
	io.sink.body = req->reply;
	io.left = req->body_len;
	errbuf[0] = '\0';
	SETOPT(h, CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(h, CURLOPT_URL, req->url);
	SETOPT(h, CURLOPT_PROTOCOLS_STR, loopback ? "http" : "https");
	SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	SETOPT(h, CURLOPT_CONNECTTIMEOUT, OAUTH_CONNECT_TIMEOUT);
	SETOPT(h, CURLOPT_TIMEOUT, req->timeout);
	if (loopback)
		SETOPT(h, CURLOPT_PROXY, "");
	else {
		SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
		SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
		SETOPT(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
		if (acct->tls_trust_file != NULL)
			SETOPT(h, CURLOPT_CAINFO, acct->tls_trust_file);
	}
	SETOPT(h, CURLOPT_USERAGENT, OM_PROGNAME "/" PACKAGE_VERSION);
	SETOPT(h, CURLOPT_POST, 1L);
	SETOPT(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	SETOPT(h, CURLOPT_READFUNCTION, api_read_cb);
	SETOPT(h, CURLOPT_READDATA, &io);
	SETOPT(h, CURLOPT_HEADERFUNCTION, api_header_cb);
	SETOPT(h, CURLOPT_HEADERDATA, req);
	SETOPT(h, CURLOPT_WRITEFUNCTION, write_cb);
	SETOPT(h, CURLOPT_WRITEDATA, &io.sink);
	if (api_headers(&hdrs, req, err) == -1)
		goto out;
	SETOPT(h, CURLOPT_HTTPHEADER, hdrs);
	cc = cu.easy_perform(h);
	(void)cu.easy_getinfo(h, CURLINFO_RESPONSE_CODE, &req->status);
	if (cu.easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK &&
	    ra > 0)
		req->retry_after = (long long)ra;
	if (cc == CURLE_WRITE_ERROR && io.sink.toobig && req->status > 0)
		cc = CURLE_OK;		/* a long reply: its start will do */
	if (cc != CURLE_OK) {
		const char *why = errbuf[0] ? errbuf : cu.easy_strerror(cc);

		util_sanitize(shown, sizeof(shown), why, strlen(why));
		err_set(err, ERR_TEMP, "%s: %s%s", req->url, shown,
		    cc == CURLE_PEER_FAILED_VERIFICATION ||
		    cc == CURLE_SSL_CACERT_BADFILE ? " (check "
		    "tls_trust_file)" : "");
		goto out;
	}
	rc = 0;
 out:
	if (hdrs != NULL)
		cu.slist_free_all(hdrs);
	if (h != NULL)
		cu.easy_cleanup(h);
	return rc;
}
