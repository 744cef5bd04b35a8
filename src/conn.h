/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * conn.h -- one SMTP connection over plain TCP or TLS: buffered line
 * reads with a cap, writes, STARTTLS, and the transcript hook through
 * which every command and reply line is logged ("->" / "<-"), with a
 * secret-aware write that logs "[redacted, N bytes]" instead of the bytes.
 *
 * Error classes: ERR_NOHOST, ERR_TEMP (network, timeout, peer closed),
 * ERR_PROTO (over-long line, NUL in a line, plaintext injected after
 * STARTTLS, TLS protocol failure), ERR_CONFIG (TLS verification), ERR_OS.
 */
#ifndef CONN_H
#define CONN_H

#include <time.h>

#include "common.h"
#include "status.h"

/* Size of the read buffer; the largest line conn_getline can return. */
#define CONN_RBUF	(16 * 1024)

struct conn;

/* Called for each transcript line; dir is "->" or "<-". */
typedef void conn_transcript_fn(void *arg, const char *dir,
	    const char *line, size_t len);

/* Resolves and connects (plain). timeout_ms also applies to later I/O. */
struct conn *conn_open(const char *host, int port, int timeout_ms,
	    struct err *err);
/*
 * Wraps an already connected fd (the conn owns it from now on); for tests
 * with socketpair(2). host is only used in messages and for TLS.
 */
struct conn *conn_from_fd(int fd, const char *host, int port);
/* Closes the socket (close_notify first under TLS) and frees. NULL ok. */
void	conn_close(struct conn *);

/* Timeout for the following reads and writes (<= 0: none). */
void	conn_set_timeout(struct conn *, int timeout_ms);
/* Replaces the transcript sink (default: log_transcript); NULL: none. */
void	conn_set_transcript(struct conn *, conn_transcript_fn *, void *arg);

/*
 * Starts TLS on the connection (implicit TLS right after connecting, or
 * after the server's 220 to STARTTLS). Refuses with ERR_PROTO when
 * plaintext bytes are already buffered (STARTTLS response injection).
 */
int	conn_starttls(struct conn *, const char *trust_file, struct err *err);
int	conn_is_tls(const struct conn *);
const char *conn_tls_version(const struct conn *);	/* "" when plain */
/* The server certificate (see xtls_peer); -1 when plain. */
int	conn_tls_peer(const struct conn *, char *subject, size_t subjectsize,
	    char *issuer, size_t issuersize, time_t *not_after);
/* 1 if the peer is a loopback address or a local socket. */
int	conn_peer_is_local(const struct conn *);
/* The peer's numeric address ("" if none); see net_peer_addr. */
void	conn_peer_addr(const struct conn *, char *dst, size_t size);
const char *conn_host(const struct conn *);
int	conn_port(const struct conn *);

/*
 * Reads one line, CRLF (or a bare LF) removed. *line points into the
 * conn's buffer and is valid until the next read; it is NUL-terminated.
 * A line longer than max bytes (max <= CONN_RBUF - 2) or containing NUL
 * is refused (ERR_PROTO); EOF is ERR_TEMP "connection closed". The line
 * goes to the transcript as "<-".
 */
int	conn_getline(struct conn *, size_t max, const char **line,
	    size_t *len, struct err *err);
/* Whether unread bytes are buffered. */
int	conn_pending(const struct conn *);

/* Writes raw bytes (message content); not logged. */
int	conn_write(struct conn *, const void *, size_t, struct err *err);
/*
 * Writes one or more command lines (each ending in CRLF); each line goes
 * to the transcript as "->".
 */
int	conn_write_cmd(struct conn *, const char *, size_t, struct err *err);
/*
 * Writes prefix, secret and CRLF in one write (built in a wiped buffer).
 * The transcript shows prefix followed by "[redacted, N bytes]" where N is
 * secretlen. prefix may be "" (a response line in an AUTH exchange).
 */
int	conn_write_secret(struct conn *, const char *prefix,
	    const void *secret, size_t secretlen, struct err *err);

#endif
