/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * sasl.h -- SASL client messages for SMTP AUTH (RFC 4954): XOAUTH2,
 * OAUTHBEARER (RFC 7628), PLAIN (RFC 4616) and LOGIN, built base64-encoded
 * into BUF_SECRET buffers; and the decoding of the error challenge a server
 * sends on 334 after a refused bearer token. Pure: no I/O, no logging.
 *
 * Every builder initialises *out itself as a BUF_SECRET buffer of at most
 * SASL_MAX_RESPONSE bytes; the caller owns it and must buf_free() it (which
 * wipes it), also after an error (then it is already empty).
 * Error classes: ERR_DATA (a user name or token that cannot be encoded:
 * NUL, control characters in the user, or too long), ERR_OS (memory).
 */
#ifndef SASL_H
#define SASL_H

#include "common.h"
#include "buf.h"
#include "status.h"

/* base64 of a token of LIM_TOKEN bytes plus the framing, with room. */
#define SASL_MAX_RESPONSE	(4 * (LIM_TOKEN + 2048) / 3 + 16)

/* base64("user=" U "\x01auth=Bearer " T "\x01\x01") */
int	sasl_xoauth2(struct buf *out, const char *user, const char *token,
	    size_t toklen, struct err *err);
/*
 * base64("n,a=" U' ",\x01host=" H "\x01port=" P "\x01auth=Bearer " T
 * "\x01\x01"), U' with ',' -> "=2C" and '=' -> "=3D" (RFC 5801 saslname).
 * host NULL or port <= 0 leaves out that pair.
 */
int	sasl_oauthbearer(struct buf *out, const char *user, const char *host,
	    int port, const char *token, size_t toklen, struct err *err);
/* base64("\0" U "\0" P) (empty authzid). */
int	sasl_plain(struct buf *out, const char *user, const char *pass,
	    size_t passlen, struct err *err);
/* One LOGIN piece: base64(data). */
int	sasl_login_piece(struct buf *out, const void *data, size_t len,
	    struct err *err);

/*
 * Octets of "AUTH " mech " " resp CRLF, and whether that fits the
 * RFC 4954 §4 / RFC 5321 §4.5.3.1.4 command limit of 512 octets
 * (1: send the initial response inline; 0: use the two-step form).
 */
size_t	sasl_auth_line_len(const char *mech, size_t resplen);
int	sasl_inline_ok(const char *mech, size_t resplen);

/*
 * Decodes a 334 error challenge (base64 of a JSON object such as Gmail's
 * {"status":"400","schemes":"Bearer","scope":"https://mail.google.com/"})
 * into a short sanitised description for an error message, e.g.
 * "status=400 schemes=Bearer scope=https://mail.google.com/". Never fails:
 * garbage gives "undecodable challenge" or "challenge: <sanitised text>".
 * Input beyond 8 KiB is not decoded.
 */
void	sasl_describe_challenge(const char *b64, size_t len, char *dst,
	    size_t size);

#endif
