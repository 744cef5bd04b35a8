/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * tls.h -- the OpenSSL client side (the only file that includes OpenSSL's
 * SSL headers). TLS >= 1.2, peer verification always on against the
 * system CAs or trust_file instead, SNI for host names (not IP literals),
 * host-name or IP check, handshake with a timeout on a non-blocking fd.
 *
 * Error classes: ERR_CONFIG (certificate verification failed: names the
 * host and the reason and says to fix the certificate or set
 * tls_trust_file; also an unreadable trust file), ERR_TEMP (the network
 * failed or timed out during the handshake or I/O), ERR_PROTO (TLS
 * protocol failure, e.g. the peer only offers TLS 1.1), ERR_OS.
 */
#ifndef TLS_H
#define TLS_H

#include <time.h>

#include "common.h"
#include "status.h"

struct xtls;

/*
 * Runs the client handshake on fd (which the caller keeps owning).
 * host is the name to verify (and to send as SNI when not an IP literal).
 * trust_file: PEM CA file replacing the system CAs, or NULL.
 */
struct xtls *xtls_connect(int fd, const char *host, const char *trust_file,
	    int timeout_ms, struct err *err);
/*
 * Reads up to len bytes; *nread = 0 means the peer closed. Returns
 * immediately with buffered data if there is some.
 */
int	xtls_read(struct xtls *, void *buf, size_t len, int timeout_ms,
	    size_t *nread, struct err *err);
int	xtls_write(struct xtls *, const void *buf, size_t len, int timeout_ms,
	    struct err *err);
/* Bytes already decrypted and buffered inside OpenSSL. */
size_t	xtls_pending(const struct xtls *);
/* "TLSv1.3", "TLSv1.2". */
const char *xtls_version(const struct xtls *);
/*
 * The verified peer certificate: subject and issuer as RFC 2253 strings
 * (non-ASCII escaped; truncated to fit, always NUL-terminated) and its
 * notAfter time (UTC). Any output pointer may be NULL. Returns -1 when
 * there is no peer certificate.
 */
int	xtls_peer(const struct xtls *, char *subject, size_t subjectsize,
	    char *issuer, size_t issuersize, time_t *not_after);
/* Sends close_notify (best effort, no waiting) and frees. NULL is fine. */
void	xtls_free(struct xtls *);

/*
 * The CA store of the TLS connection still open, if it was made with the
 * same trust_file (NULL or "": the system's CAs), put into ssl_ctx, an
 * SSL_CTX of libcurl, so that the certificates are not parsed twice (a
 * token refreshed during an SMTP session: about 0.9 MB with the system's
 * CAs).
 * curl_ssl is libcurl's TLS library (curl_version_info's ssl_version):
 * only this same OpenSSL's SSL_CTX is touched. ssl_ctx NULL only asks.
 * 0 done (or possible), 1 no such store or another library: libcurl
 * must load the CAs itself.
 */
int	xtls_share_store(void *ssl_ctx, const char *trust_file,
	    const char *curl_ssl);

/* The OpenSSL library in use, e.g. "OpenSSL 3.0.17 1 Jul 2025". */
const char *xtls_library_version(void);

#endif
