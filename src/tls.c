/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* tls.c -- OpenSSL client; see tls.h. */
#include "common.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "net.h"
#include "status.h"
#include "tls.h"
#include "xmalloc.h"

struct xtls {
	SSL_CTX		*ctx;
	SSL		*ssl;
	int		 fd;
	char		*host;
};

static long long
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The first queued OpenSSL error as text, clearing the queue. */
static void
ssl_errtext(char *dst, size_t size)
{
	unsigned long e = ERR_get_error();

	if (e == 0)
		(void)strlcpy(dst, "unknown error", size);
	else
		ERR_error_string_n(e, dst, size);
	ERR_clear_error();
}

/*
 * Waits as OpenSSL asks after a non-blocking call, or classifies the
 * failure. Returns 1 to retry, -1 with err set.
 */
static int
ssl_wait(struct xtls *t, int r, const char *what, long long deadline,
    struct err *err)
{
	int e = SSL_get_error(t->ssl, r), left = 0;
	char text[256];

	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		if (deadline) {
			long long d = deadline - now_ms();

			if (d <= 0)
				return err_set(err, ERR_TEMP, "TLS %s with %s: "
				    "timed out", what, t->host);
			left = (int)d;
		}
		if (net_wait(t->fd, e == SSL_ERROR_WANT_READ ? POLLIN :
		    POLLOUT, left, err) == -1)
			return err_prefix(err, "TLS %s with %s", what,
			    t->host);
		return 1;
	}
	if (e == SSL_ERROR_SYSCALL) {
		int saved = errno;

		ERR_clear_error();
		return err_set(err, ERR_TEMP, "TLS %s with %s: %s", what,
		    t->host, saved ? strerror(saved) : "connection closed");
	}
	if (e == SSL_ERROR_ZERO_RETURN)
		return err_set(err, ERR_TEMP, "TLS %s with %s: connection "
		    "closed", what, t->host);
	ssl_errtext(text, sizeof(text));
	return err_set(err, ERR_PROTO, "TLS %s with %s: %s", what, t->host,
	    text);
}

/*
 * The CA store of the last context made, and its trust file ("" for the
 * system's CAs), while that context lives: libcurl's contexts made in the
 * meantime (a token refreshed during an SMTP session) use it
 * (xtls_share_store) instead of parsing the same certificates again. Not
 * kept longer, so that a long-lived process reads a changed CA file on
 * its next connection as before.
 */
static X509_STORE *kept_store;	/* borrowed from its context */
static char *kept_file;

static const char *
trust_key(const char *trust_file)
{
	return trust_file != NULL ? trust_file : "";
}

static int
kept_for(const char *trust_file)
{
	return kept_store != NULL &&
	    strcmp(kept_file, trust_key(trust_file)) == 0;
}

static void
keep_store(SSL_CTX *ctx, const char *trust_file)
{
	free(kept_file);
	kept_store = SSL_CTX_get_cert_store(ctx);
	kept_file = xstrdup(trust_key(trust_file));
}

/* Before ctx is freed. */
static void
unkeep_store(SSL_CTX *ctx)
{
	if (kept_store != NULL && SSL_CTX_get_cert_store(ctx) == kept_store) {
		kept_store = NULL;
		free(kept_file);
		kept_file = NULL;
	}
}

/* The CAs of trust_file (NULL or "": the system's) into ctx. */
static int
load_cas(SSL_CTX *ctx, const char *trust_file, struct err *err)
{
	char text[256];

	if (trust_file != NULL && *trust_file == '\0')
		trust_file = NULL;
	if (trust_file != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, trust_file,
		    NULL) != 1) {
			ssl_errtext(text, sizeof(text));
			return err_set(err, ERR_CONFIG, "tls_trust_file %s: "
			    "cannot load certificates: %s", trust_file, text);
		}
	} else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
		ssl_errtext(text, sizeof(text));
		return err_set(err, ERR_CONFIG, "TLS: cannot load the system "
		    "CA certificates: %s", text);
	}
	keep_store(ctx, trust_file);
	return 0;
}

int
xtls_share_store(void *ssl_ctx, const char *trust_file,
    const char *curl_ssl)
{
	const char *v = OpenSSL_version(OPENSSL_VERSION_STRING);

	if (trust_file != NULL && *trust_file == '\0')
		trust_file = NULL;
	/* Only an SSL_CTX of this very OpenSSL ("OpenSSL/3.0.17"). */
	if (curl_ssl == NULL || strncmp(curl_ssl, "OpenSSL/", 8) != 0 ||
	    strcmp(curl_ssl + 8, v) != 0 || !kept_for(trust_file))
		return 1;
	if (ssl_ctx != NULL)
		SSL_CTX_set1_cert_store(ssl_ctx, kept_store);
	return 0;
}

static SSL_CTX *
make_ctx(const char *trust_file, struct err *err)
{
	SSL_CTX *ctx;
	char text[256];

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		ssl_errtext(text, sizeof(text));
		(void)err_set(err, ERR_OS, "TLS: %s", text);
		return NULL;
	}
	(void)SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
	    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (load_cas(ctx, trust_file, err) == -1) {
		SSL_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

static int
verify_failed(struct xtls *t, long vr, struct err *err)
{
	if (vr == X509_V_ERR_HOSTNAME_MISMATCH ||
	    vr == X509_V_ERR_IP_ADDRESS_MISMATCH)
		return err_set(err, ERR_CONFIG, "TLS certificate of %s not "
		    "trusted: %s (the certificate is for another name); fix "
		    "the server's certificate or set host to a name it "
		    "carries", t->host, X509_verify_cert_error_string(vr));
	return err_set(err, ERR_CONFIG, "TLS certificate of %s not trusted: "
	    "%s; fix the server's certificate or set tls_trust_file to the "
	    "CA that signed it", t->host, X509_verify_cert_error_string(vr));
}

struct xtls *
xtls_connect(int fd, const char *host, const char *trust_file,
    int timeout_ms, struct err *err)
{
	struct xtls *t;
	long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	int r, isip = net_is_ip_literal(host);
	char text[256];

	t = xcalloc(1, sizeof(*t));
	t->fd = fd;
	t->host = xstrdup(host);
	ERR_clear_error();
	if ((t->ctx = make_ctx(trust_file, err)) == NULL)
		goto fail;
	if ((t->ssl = SSL_new(t->ctx)) == NULL ||
	    SSL_set_fd(t->ssl, fd) != 1) {
		ssl_errtext(text, sizeof(text));
		(void)err_set(err, ERR_OS, "TLS: %s", text);
		goto fail;
	}
	if (isip) {
		/* RFC 6066 §3: no SNI for IP literals; check the IP SAN. */
		X509_VERIFY_PARAM *vp = SSL_get0_param(t->ssl);

		if (X509_VERIFY_PARAM_set1_ip_asc(vp, host) != 1) {
			(void)err_set(err, ERR_CONFIG, "TLS: bad IP address "
			    "%s", host);
			goto fail;
		}
	} else {
		if (SSL_set_tlsext_host_name(t->ssl, host) != 1 ||
		    SSL_set1_host(t->ssl, host) != 1) {
			ssl_errtext(text, sizeof(text));
			(void)err_set(err, ERR_CONFIG, "TLS: host name %s: %s",
			    host, text);
			goto fail;
		}
	}
	for (;;) {
		ERR_clear_error();
		r = SSL_connect(t->ssl);
		if (r == 1)
			break;
		/* A verification failure shows up as a failed handshake. */
		if (SSL_get_verify_result(t->ssl) != X509_V_OK) {
			(void)verify_failed(t, SSL_get_verify_result(t->ssl),
			    err);
			ERR_clear_error();
			goto fail;
		}
		r = ssl_wait(t, r, "handshake", deadline, err);
		if (r == -1)
			goto fail;
	}
	if (SSL_get_verify_result(t->ssl) != X509_V_OK) {
		(void)verify_failed(t, SSL_get_verify_result(t->ssl), err);
		goto fail;
	}
	return t;
fail:
	xtls_free(t);
	return NULL;
}

int
xtls_read(struct xtls *t, void *buf, size_t len, int timeout_ms,
    size_t *nread, struct err *err)
{
	long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	size_t n;
	int r;

	*nread = 0;
	for (;;) {
		ERR_clear_error();
		r = SSL_read_ex(t->ssl, buf, len, &n);
		if (r == 1) {
			*nread = n;
			return 0;
		}
		if (SSL_get_error(t->ssl, r) == SSL_ERROR_ZERO_RETURN)
			return 0;	/* close_notify: EOF */
		if (ssl_wait(t, r, "read", deadline, err) == -1)
			return -1;
	}
}

int
xtls_write(struct xtls *t, const void *buf, size_t len, int timeout_ms,
    struct err *err)
{
	long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	const char *p = buf;
	size_t n;
	int r;

	while (len > 0) {
		ERR_clear_error();
		r = SSL_write_ex(t->ssl, p, len, &n);
		if (r == 1) {
			p += n;
			len -= n;
			continue;
		}
		if (ssl_wait(t, r, "write", deadline, err) == -1)
			return -1;
	}
	return 0;
}

size_t
xtls_pending(const struct xtls *t)
{
	int n = SSL_pending(t->ssl);

	return n > 0 ? (size_t)n : 0;
}

const char *
xtls_version(const struct xtls *t)
{
	return t != NULL && t->ssl != NULL ? SSL_get_version(t->ssl) : "";
}

/* A name as one RFC 2253 line (escaped, so plain ASCII). */
static void
name_line(const X509_NAME *name, char *dst, size_t size)
{
	BIO *b;
	char *p;
	long n;

	if (dst == NULL || size == 0)
		return;
	dst[0] = '\0';
	if (name == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return;
	if (X509_NAME_print_ex(b, name, 0, XN_FLAG_RFC2253) >= 0 &&
	    (n = BIO_get_mem_data(b, &p)) > 0) {
		if ((size_t)n >= size)
			n = (long)size - 1;
		memcpy(dst, p, (size_t)n);
		dst[n] = '\0';
	}
	BIO_free(b);
}

int
xtls_peer(const struct xtls *t, char *subject, size_t subjectsize,
    char *issuer, size_t issuersize, time_t *not_after)
{
	X509 *cert;
	struct tm tm;

	if (subject != NULL && subjectsize > 0)
		subject[0] = '\0';
	if (issuer != NULL && issuersize > 0)
		issuer[0] = '\0';
	if (not_after != NULL)
		*not_after = 0;
	if (t == NULL || t->ssl == NULL ||
	    (cert = SSL_get0_peer_certificate(t->ssl)) == NULL)
		return -1;
	name_line(X509_get_subject_name(cert), subject, subjectsize);
	name_line(X509_get_issuer_name(cert), issuer, issuersize);
	memset(&tm, 0, sizeof(tm));
	if (not_after != NULL &&
	    ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) == 1)
		*not_after = timegm(&tm);
	return 0;
}

void
xtls_free(struct xtls *t)
{
	if (t == NULL)
		return;
	if (t->ssl != NULL) {
		/* close_notify without waiting for the peer's. */
		if (SSL_is_init_finished(t->ssl))
			(void)SSL_shutdown(t->ssl);
		SSL_free(t->ssl);
	}
	if (t->ctx != NULL) {
		unkeep_store(t->ctx);
		SSL_CTX_free(t->ctx);
	}
	ERR_clear_error();
	free(t->host);
	free(t);
}

const char *
xtls_library_version(void)
{
	return OpenSSL_version(OPENSSL_VERSION);
}
