/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * http.c -- HTTPS over libcurl for the token endpoint, discovery and the
 * mail APIs; see http.h. The only file that includes curl.
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <curl/curl.h>

#include "buf.h"
#include "conf.h"
#include "dynload.h"
#include "json.h"
#include "http.h"
#include "log.h"
#include "status.h"
#include "tls.h"
#include "util.h"
#include "xmalloc.h"

#define HTTP_CONNECT_TIMEOUT	10L
#define HTTP_TIMEOUT		30L
#define HTTP_FORM_MAX		(LIM_TOKEN * 4)

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
	__typeof__(&curl_version_info)	 version_info;
} cu;

#define CU_SYM(f)	DYNLOAD_SYM(curl_api, "curl_", f)
static const struct dynload_sym curl_syms[] = {
	CU_SYM(global_init), CU_SYM(global_cleanup), CU_SYM(easy_init),
	CU_SYM(easy_setopt), CU_SYM(easy_perform), CU_SYM(easy_getinfo),
	CU_SYM(easy_cleanup), CU_SYM(easy_strerror), CU_SYM(easy_escape),
	CU_SYM(free), CU_SYM(slist_append), CU_SYM(slist_free_all),
	CU_SYM(url), CU_SYM(url_cleanup), CU_SYM(url_set), CU_SYM(url_get),
	CU_SYM(version_info),
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

/*
 * Loads libcurl. Debian's libcurl (OpenSSL) also maps GnuTLS through
 * librtmp and libldap, protocols never used here; GnuTLS initializes
 * itself in a constructor at load time unless GNUTLS_NO_IMPLICIT_INIT is
 * set, which costs about 0.9 MB of resident memory on every token
 * refresh for nothing (tests/bench/README.md). The variable is set only
 * around the load, and only if the environment did not set it.
 */
static int
curl_open(struct err *err)
{
	int set = getenv("GNUTLS_NO_IMPLICIT_INIT") == NULL;
	int rc;

	if (set)
		(void)setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 1);
	rc = dynload_open(&curl_lib, err);
	if (set)
		(void)unsetenv("GNUTLS_NO_IMPLICIT_INIT");
	return rc;
}

static int
http_init(struct err *err)
{
	CURLcode rc;

	if (curl_ready)
		return 0;
	if (curl_open(err) == -1)
		return -1;
	if ((rc = cu.global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK)
		return err_set(err, ERR_OS, "curl_global_init: %s",
		    cu.easy_strerror(rc));
	curl_ready = 1;
	return 0;
}

void
http_cleanup(void)
{
	if (curl_ready)
		cu.global_cleanup();
	curl_ready = 0;
}

/*
 * --- URL policy ---------------------------------------------------------
 */

int
http_check_url(const char *url, int *loopback, struct err *err)
{
	CURLU *u;
	char *scheme = NULL, *host = NULL;
	char shown[128];
	int rc = -1;

	*loopback = 0;
	if (url == NULL || *url == '\0')
		return err_set(err, ERR_CONFIG, "no endpoint URL configured");
	util_sanitize(shown, sizeof(shown), url, strlen(url));
	if (curl_open(err) == -1)
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
static const char *const secret_json_keys[] = {
	"access_token", "refresh_token", "id_token", "device_code"
};

struct http_debug {
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

	buf_init(&b, HTTP_FORM_MAX, 0);
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
	char text[2048];
	size_t len;

	len = json_redact(p, n, secret_json_keys, nitems(secret_json_keys),
	    text, sizeof(text));
	if (len > 0)
		debug_line("<", text, len);
	else
		log_debug("http < [%zu bytes of body, not shown]", n);
	explicit_bzero(text, sizeof(text));
}

static int
debug_cb(CURL *h, curl_infotype type, char *data, size_t size, void *arg)
{
	struct http_debug *d = arg;

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

/* libcurl's TLS library, "OpenSSL/3.0.17", or NULL. */
static const char *
curl_ssl(void)
{
	const curl_version_info_data *v = cu.version_info(CURLVERSION_NOW);

	return v != NULL ? v->ssl_version : NULL;
}

/* libcurl's SSL_CTX gets the CAs of the open TLS connection. */
static CURLcode
share_store_cb(CURL *h, void *ssl_ctx, void *arg)
{
	const struct account *acct = arg;

	(void)h;
	/* No CAs at all otherwise: the request fails, never unverified. */
	return xtls_share_store(ssl_ctx, acct->tls_trust_file,
	    curl_ssl()) == 0 ? CURLE_OK : CURLE_SSL_CACERT_BADFILE;
}

/*
 * The CAs: those of the TLS connection open with the same trust file (a
 * token refreshed during an SMTP session), not loaded again; else the
 * account's tls_trust_file, or libcurl's default, the system's.
 */
static int
ca_opts(CURL *h, const struct account *acct, struct err *err)
{
	if (xtls_share_store(NULL, acct->tls_trust_file, curl_ssl()) == 0) {
		SETOPT(h, CURLOPT_CAINFO, NULL);
		SETOPT(h, CURLOPT_CAPATH, NULL);
		SETOPT(h, CURLOPT_SSL_CTX_FUNCTION, share_store_cb);
		SETOPT(h, CURLOPT_SSL_CTX_DATA, (void *)(uintptr_t)acct);
	} else if (acct->tls_trust_file != NULL)
		SETOPT(h, CURLOPT_CAINFO, acct->tls_trust_file);
	return 0;
 out:
	return -1;
}

/*
 * The options every request has: the URL, https only (http to a loopback
 * host, never through a proxy), no redirects, no signals, the times, TLS
 * verified against the system's CAs or the account's tls_trust_file, at
 * least TLS 1.2, our User-Agent; curl's error text into errbuf.
 */
static int
common_opts(CURL *h, const struct account *acct, const char *url,
    int loopback, char *errbuf, long connect_secs, long secs, struct err *err)
{
	SETOPT(h, CURLOPT_ERRORBUFFER, errbuf);
	SETOPT(h, CURLOPT_URL, url);
	SETOPT(h, CURLOPT_PROTOCOLS_STR, loopback ? "http" : "https");
	SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	SETOPT(h, CURLOPT_CONNECTTIMEOUT, connect_secs);
	SETOPT(h, CURLOPT_TIMEOUT, secs);
	if (loopback)
		SETOPT(h, CURLOPT_PROXY, "");	/* never send loopback away */
	else {
		SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
		SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
		SETOPT(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
		if (ca_opts(h, acct, err) == -1)
			goto out;
	}
	SETOPT(h, CURLOPT_USERAGENT, OM_PROGNAME "/" PACKAGE_VERSION);
	return 0;
 out:
	return -1;
}

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
		return 0;		/* http_check_url refuses these */
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
int
http_post_form(const struct account *acct, const char *url,
    const struct http_field *fields, size_t nfields, long *status,
    struct buf *body, struct err *err)
{
	CURL *h = NULL;
	struct curl_slist *hdrs = NULL, *nh;
	struct buf form;
	struct sink sink;
	struct http_debug dbg;
	char errbuf[CURL_ERROR_SIZE], shown[CURL_ERROR_SIZE + 8];
	long long slow_start = 0;
	int loopback, rc = -1;
	size_t i;
	CURLcode cc;

	*status = 0;
	buf_init(&form, HTTP_FORM_MAX, BUF_SECRET);
	if (http_check_url(url, &loopback, err) == -1)
		return err_prefix(err, "account %s", acct->name);
	if (http_init(err) == -1)
		return -1;
	if ((h = cu.easy_init()) == NULL)
		return err_set(err, ERR_OS, "curl_easy_init failed");
	for (i = 0; i < nfields; i++)
		if (form_add(h, &form, fields[i].name, fields[i].value,
		    err) == -1)
			goto out;

	errbuf[0] = '\0';
	sink.body = body;
	sink.toobig = 0;
	dbg.form_len = form.len;
	/* The account's "timeout" also bounds the token endpoint. */
	if (common_opts(h, acct, url, loopback, errbuf, acct->timeout > 0 &&
	    acct->timeout < HTTP_CONNECT_TIMEOUT ? (long)acct->timeout :
	    HTTP_CONNECT_TIMEOUT, acct->timeout > 0 &&
	    acct->timeout < HTTP_TIMEOUT ? (long)acct->timeout :
	    HTTP_TIMEOUT, err) == -1)
		goto out;
	SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)LIM_HTTP_BODY);
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
	(void)cu.easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	if (sink.toobig || cc == CURLE_FILESIZE_EXCEEDED) {
		/* A reply we refuse to read is the server's fault. */
		err_set(err, *status >= 500 || *status == 0 ? ERR_TEMP :
		    ERR_PROTO, "token endpoint reply larger than %d bytes "
		    "(HTTP %ld)", LIM_HTTP_BODY, *status);
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
	rc = 0;
 out:
	if (hdrs != NULL)
		cu.slist_free_all(hdrs);
	if (h != NULL)
		cu.easy_cleanup(h);
	buf_free(&form);
	return rc;
}

int
http_get(const struct account *acct, const char *url, struct buf *body,
    long *status, struct err *err)
{
	CURL *h = NULL;
	struct sink sink;
	char errbuf[CURL_ERROR_SIZE], shown[CURL_ERROR_SIZE + 8];
	int loopback, rc = -1;
	CURLcode cc;

	if (http_check_url(url, &loopback, err) == -1 || http_init(err) == -1)
		return -1;
	if ((h = cu.easy_init()) == NULL)
		return err_set(err, ERR_OS, "curl_easy_init failed");
	errbuf[0] = '\0';
	sink.body = body;
	sink.toobig = 0;
	if (common_opts(h, acct, url, loopback, errbuf, HTTP_CONNECT_TIMEOUT,
	    HTTP_TIMEOUT, err) == -1)
		goto out;
	SETOPT(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)LIM_HTTP_BODY);
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

/*
 * --- Streamed requests to an API (api.h) ---------------------------------
 */

struct api_io {
	struct http_api_req	*req;
	struct sink		 sink;
	long long		 left;
};

static size_t
api_read_cb(char *dst, size_t sz, size_t n, void *arg)
{
	struct api_io *io = arg;
	size_t got;

	got = io->req->read(dst, sz * n, io->req->arg);
	if (got == HTTP_READ_ABORT)
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
	struct http_api_req *req = arg;
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
api_headers(struct curl_slist **hdrs, const struct http_api_req *req,
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
http_api_post(const struct account *acct, struct http_api_req *req,
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
	if (http_check_url(req->url, &loopback, err) == -1)
		return err_prefix(err, "account %s", acct->name);
	if (http_init(err) == -1)
		return -1;
	if ((h = cu.easy_init()) == NULL)
		return err_set(err, ERR_OS, "curl_easy_init failed");
	memset(&io, 0, sizeof(io));
	io.req = req;
	io.sink.body = req->reply;
	io.left = req->body_len;
	errbuf[0] = '\0';
	if (common_opts(h, acct, req->url, loopback, errbuf,
	    HTTP_CONNECT_TIMEOUT, req->timeout, err) == -1)
		goto out;
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
