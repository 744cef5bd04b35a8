/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * smtp.h -- the SMTP submission client over a struct conn (net + TLS):
 * greeting, EHLO, STARTTLS (mandatory unless implicit TLS; capabilities
 * discarded and EHLO re-sent after it), AUTH (XOAUTH2, OAUTHBEARER, PLAIN,
 * LOGIN), MAIL/RCPT/DATA with PIPELINING, SIZE, 8BITMIME, SMTPUTF8, DSN,
 * per-recipient results, RSET between messages, QUIT. Timeouts per
 * RFC 5321 §4.5.3.2 unless the account sets one.
 *
 * Error classes: reply 4xx -> ERR_TEMP; 5xx -> ERR_PERM, except 535 and
 * 5.7.x / 454 at AUTH -> ERR_AUTH (454 -> ERR_TEMP); connect/DNS ->
 * ERR_TEMP (ERR_NOHOST when the name does not resolve); TLS verification
 * failure -> ERR_CONFIG (it will not fix itself); malformed replies ->
 * ERR_PROTO. err->smtp_code and err->esc carry the reply.
 */
#ifndef SMTP_H
#define SMTP_H

#include <time.h>

#include "common.h"
#include "conf.h"
#include "envelope.h"
#include "status.h"

struct smtp_session;

/* Capability bits from the (post-TLS) EHLO. */
#define SMTP_CAP_STARTTLS	0x0001
#define SMTP_CAP_PIPELINING	0x0002
#define SMTP_CAP_SIZE		0x0004
#define SMTP_CAP_8BITMIME	0x0008
#define SMTP_CAP_SMTPUTF8	0x0010
#define SMTP_CAP_DSN		0x0020
#define SMTP_CAP_ENHANCED	0x0040
#define SMTP_CAP_AUTH		0x0080

/*
 * Connects to the account's host and port, does TLS (implicit or
 * STARTTLS), reads the greeting and EHLOs. Verification is always on;
 * acct->tls_trust_file replaces the system CAs when set.
 */
int	smtp_connect(const struct account *acct, struct smtp_session **sp,
	    struct err *err);
/* Mechanism that AUTH_AUTO resolves to for this session. */
enum conf_auth smtp_pick_mech(struct smtp_session *, const struct account *);
/*
 * Authenticates. For XOAUTH2/OAUTHBEARER, secret is the access token; for
 * PLAIN/LOGIN, the password. user is the SASL identity. The secret never
 * reaches the transcript ("[redacted, N bytes]"). Handles the two-step
 * form when the AUTH line would exceed 512 octets and the 334 error
 * challenge (answered with an empty line for XOAUTH2, AQ== for
 * OAUTHBEARER). ERR_AUTH on 535 and similar; the session stays usable for
 * another smtp_auth attempt.
 */
int	smtp_auth(struct smtp_session *, enum conf_auth mech,
	    const char *user, const char *secret, size_t secretlen,
	    struct err *err);
/*
 * Sends one message: MAIL FROM (SIZE, BODY=8BITMIME, SMTPUTF8, RET,
 * ENVID as applicable), RCPT TO for every recipient in state PENDING or
 * DEFERRED (NOTIFY when DSN), DATA, the message from msg_fd (LF or CRLF in
 * the file; CRLF on the wire; dot-stuffed), final dot. Each recipient's
 * state and reply are updated: RCPT 2xx -> stays PENDING until the final
 * 250 makes it SENT; 4xx -> DEFERRED; 5xx -> FAILED. A failure that
 * applies to the whole message (MAIL, DATA, final dot, connection) returns
 * -1 with its class and leaves recipients not SENT as they were, except
 * that a 5xx whole-message failure marks them FAILED.
 * Returns 0 when the server accepted the message (for at least one
 * recipient); -1 otherwise. Refuses before MAIL if SIZE is exceeded
 * (ERR_PERM) or SMTPUTF8 is needed but not offered (ERR_PERM).
 * RSET is sent first if a previous transaction on the session was left
 * open.
 */
int	smtp_send(struct smtp_session *, struct envelope *env, int msg_fd,
	    struct err *err);
/* QUIT (best effort) and free. NULL is fine. */
void	smtp_close(struct smtp_session *);

unsigned smtp_caps(const struct smtp_session *);
/* Mechanisms from the AUTH line, e.g. "LOGIN XOAUTH2", or "". */
const char *smtp_auth_offered(const struct smtp_session *);
const char *smtp_tls_version(const struct smtp_session *);	/* "TLSv1.3" */
/* The server's numeric address ("" if unknown), for the log. */
void	smtp_peer_addr(const struct smtp_session *, char *dst, size_t size);
/*
 * The server's certificate: subject and issuer (RFC 2253, escaped ASCII,
 * truncated to fit) and notAfter (UTC). Outputs may be NULL. -1 when the
 * session has no TLS (or no peer certificate).
 */
int	smtp_tls_peer(const struct smtp_session *, char *subject,
	    size_t subjectsize, char *issuer, size_t issuersize,
	    time_t *not_after);
/* The last reply, sanitised, single line (multi-line joined by " / "). */
const char *smtp_last_reply(const struct smtp_session *);
const char *smtp_mech_name(enum conf_auth);
/* SIZE limit from EHLO; 0 when none is advertised. */
long long smtp_size_max(const struct smtp_session *);
/*
 * 1 once the last smtp_send started to transmit the message content: a
 * failure before that can be retried on a new session without any risk
 * of sending the message twice.
 */
int	smtp_content_sent(const struct smtp_session *);

/*
 * Test seam and building block of smtp_connect: runs the session over an
 * already connected conn (which the session owns from now on, also on
 * failure). Implicit TLS (acct->tls on, tls_starttls off) is started on it
 * first. acct->host names the peer in messages.
 */
struct conn;
int	smtp_connect_conn(struct conn *c, const struct account *acct,
	    struct smtp_session **sp, struct err *err);

#endif
