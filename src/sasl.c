/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * sasl.c -- SASL client messages; see sasl.h.
 *
 * The error challenge (a JSON object, RFC 7628 §3.2.2) is described with
 * json_describe; it carries no secret.
 */
#include "common.h"

#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "json.h"
#include "sasl.h"
#include "status.h"
#include "util.h"

#define CHALLENGE_MAX	8192

static int
check_user(const char *user, struct err *err)
{
	const char *p;

	if (user == NULL || *user == '\0')
		return err_set(err, ERR_DATA, "SASL: empty user name");
	if (strlen(user) > LIM_ADDR)
		return err_set(err, ERR_DATA, "SASL: user name too long");
	for (p = user; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(err, ERR_DATA, "SASL: control "
			    "character in the user name");
	return 0;
}

static int
check_token(const char *tok, size_t len, struct err *err)
{
	size_t i;

	if (len == 0)
		return err_set(err, ERR_DATA, "SASL: empty access token");
	if (len > LIM_TOKEN)
		return err_set(err, ERR_DATA, "SASL: access token longer "
		    "than %d bytes", LIM_TOKEN);
	/* RFC 6750 b64token: no controls, no spaces; \x01 would break framing. */
	for (i = 0; i < len; i++)
		if ((unsigned char)tok[i] <= 0x20 ||
		    (unsigned char)tok[i] >= 0x7f)
			return err_set(err, ERR_DATA, "SASL: access token "
			    "contains invalid characters");
	return 0;
}

/* Encodes raw into out (fresh BUF_SECRET) and wipes raw. */
static int
finish(struct buf *raw, struct buf *out, int failed, struct err *err)
{
	buf_init(out, SASL_MAX_RESPONSE, BUF_SECRET);
	if (failed || raw->data == NULL) {
		buf_free(raw);
		return err_set(err, ERR_DATA, "SASL: response too long");
	}
	if (util_b64_encode(out, raw->data, raw->len) == -1) {
		buf_free(raw);
		buf_free(out);
		return err_set(err, ERR_DATA, "SASL: response too long");
	}
	buf_free(raw);
	return 0;
}

int
sasl_xoauth2(struct buf *out, const char *user, const char *token,
    size_t toklen, struct err *err)
{
	struct buf raw;
	int bad;

	buf_init(out, SASL_MAX_RESPONSE, BUF_SECRET);
	if (check_user(user, err) == -1 || check_token(token, toklen, err) == -1)
		return -1;
	buf_init(&raw, SASL_MAX_RESPONSE, BUF_SECRET);
	bad = buf_adds(&raw, "user=") == -1 ||
	    buf_adds(&raw, user) == -1 ||
	    buf_adds(&raw, "\001auth=Bearer ") == -1 ||
	    buf_add(&raw, token, toklen) == -1 ||
	    buf_add(&raw, "\001\001", 2) == -1;
	return finish(&raw, out, bad, err);
}

int
sasl_oauthbearer(struct buf *out, const char *user, const char *host,
    int port, const char *token, size_t toklen, struct err *err)
{
	struct buf raw;
	const char *p;
	int bad;

	buf_init(out, SASL_MAX_RESPONSE, BUF_SECRET);
	if (check_user(user, err) == -1 || check_token(token, toklen, err) == -1)
		return -1;
	if (host != NULL && strpbrk(host, "\001\r\n") != NULL)
		return err_set(err, ERR_DATA, "SASL: bad host name");
	buf_init(&raw, SASL_MAX_RESPONSE, BUF_SECRET);
	/* RFC 5801 gs2-header: "n," [ "a=" saslname ] "," */
	bad = buf_adds(&raw, "n,a=") == -1;
	for (p = user; !bad && *p != '\0'; p++) {
		if (*p == ',')
			bad = buf_adds(&raw, "=2C") == -1;
		else if (*p == '=')
			bad = buf_adds(&raw, "=3D") == -1;
		else
			bad = buf_addc(&raw, *p) == -1;
	}
	bad = bad || buf_adds(&raw, ",\001") == -1;
	if (!bad && host != NULL && *host != '\0')
		bad = buf_addf(&raw, "host=%s\001", host) == -1;
	if (!bad && port > 0)
		bad = buf_addf(&raw, "port=%d\001", port) == -1;
	bad = bad || buf_adds(&raw, "auth=Bearer ") == -1 ||
	    buf_add(&raw, token, toklen) == -1 ||
	    buf_add(&raw, "\001\001", 2) == -1;
	return finish(&raw, out, bad, err);
}

int
sasl_plain(struct buf *out, const char *user, const char *pass,
    size_t passlen, struct err *err)
{
	struct buf raw;
	int bad;

	buf_init(out, SASL_MAX_RESPONSE, BUF_SECRET);
	if (check_user(user, err) == -1)
		return -1;
	if (memchr(pass, '\0', passlen) != NULL)
		return err_set(err, ERR_DATA, "SASL: NUL in the password");
	buf_init(&raw, SASL_MAX_RESPONSE, BUF_SECRET);
	bad = buf_addc(&raw, '\0') == -1 ||
	    buf_adds(&raw, user) == -1 ||
	    buf_addc(&raw, '\0') == -1 ||
	    buf_add(&raw, pass, passlen) == -1;
	return finish(&raw, out, bad, err);
}

int
sasl_login_piece(struct buf *out, const void *data, size_t len,
    struct err *err)
{
	buf_init(out, SASL_MAX_RESPONSE, BUF_SECRET);
	if (util_b64_encode(out, data, len) == -1) {
		buf_free(out);
		return err_set(err, ERR_DATA, "SASL: response too long");
	}
	return 0;
}

size_t
sasl_auth_line_len(const char *mech, size_t resplen)
{
	return 5 + strlen(mech) + 1 + resplen + 2;
}

int
sasl_inline_ok(const char *mech, size_t resplen)
{
	return sasl_auth_line_len(mech, resplen) <= LIM_SMTP_CMD;
}

void
sasl_describe_challenge(const char *b64, size_t len, char *dst, size_t size)
{
	static const char *const keys[] = { "status", "schemes", "scope",
	    NULL };
	struct buf dec, desc;

	util_sanitize(dst, size, "undecodable challenge", 21);
	while (len > 0 && (b64[len - 1] == ' ' || b64[len - 1] == '\t'))
		len--;
	if (len == 0 || len > CHALLENGE_MAX) {
		if (len == 0)
			util_sanitize(dst, size, "empty challenge", 15);
		return;
	}
	buf_init(&dec, CHALLENGE_MAX, 0);
	if (util_b64_decode(&dec, b64, len) == -1 || dec.data == NULL) {
		buf_free(&dec);
		return;
	}
	buf_init(&desc, 1024, 0);
	if (json_describe(dec.data, dec.len, keys, &desc) == -1) {
		char tmp[256];

		util_sanitize(tmp, sizeof(tmp), dec.data, dec.len);
		(void)snprintf(dst, size, "challenge: %s", tmp);
	} else if (desc.data != NULL && desc.len > 0)
		util_sanitize(dst, size, desc.data, desc.len);
	else
		util_sanitize(dst, size, "challenge without status", 24);
	buf_free(&desc);
	buf_free(&dec);
}
