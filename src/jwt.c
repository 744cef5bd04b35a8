/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * jwt.c -- client assertions (shaped here, signed by crypto.c), and
 * federated assertion files; see jwt.h.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "json.h"
#include "jwt.h"
#include "status.h"
#include "util.h"

#define JWT_JTI_BYTES	16		/* 128 random bits */
#define JWT_PART_MAX	4096		/* header or claims as JSON */

static const char *const algs[] = { "RS256", "PS256", "ES256" };

int
jwt_alg_valid(const char *alg)
{
	size_t i;

	for (i = 0; i < nitems(algs); i++)
		if (strcasecmp(alg, algs[i]) == 0)
			return 1;
	return 0;
}

/* crypto.c's failure (CRYPTO_E*) and its message as an error. */
static int
signer_fail(int rc, const char *why, struct err *err)
{
	enum err_class c = rc == CRYPTO_EUSER ? ERR_CONFIG :
	    rc == CRYPTO_ELIB ? ERR_OS : ERR_INTERNAL;

	return err_set(err, c, "%s", why);
}

int
jwt_check_key(const char *cert_path, const char *key_pem, size_t key_len,
    struct err *err)
{
	struct crypto_signer *s;
	char why[CRYPTO_WHY_LEN];
	int rc;

	if ((rc = crypto_signer_load(cert_path, key_pem, key_len, &s,
	    why)) < 0)
		return signer_fail(rc, why, err);
	crypto_signer_free(s);
	return 0;
}

/*
 * --- Building the JWT --------------------------------------------------------
 */

/* A JSON string: quotes, backslashes and control characters escaped. */
static int
json_str(struct buf *b, const char *s)
{
	if (buf_addc(b, '"') == -1)
		return -1;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			if (buf_addc(b, '\\') == -1 || buf_addc(b, c) == -1)
				return -1;
		} else if (c < 0x20) {
			if (buf_addf(b, "\\u%04x", c) == -1)
				return -1;
		} else if (buf_addc(b, c) == -1)
			return -1;
	}
	return buf_addc(b, '"');
}

/* base64url of the certificate's SHA-1 or SHA-256 thumbprint into b. */
static int
thumbprint(struct buf *b, const struct crypto_signer *s, int sha256,
    struct err *err)
{
	unsigned char d[CRYPTO_SHA256_LEN];
	char why[CRYPTO_WHY_LEN];
	size_t n;
	int rc;

	if ((rc = crypto_signer_thumbprint(s, sha256, d, &n, why)) < 0)
		return signer_fail(rc, why, err);
	if (util_b64url_encode(b, d, n) == -1)
		return err_set(err, ERR_INTERNAL, "assertion header too large");
	return 0;
}

static int
add_header(struct buf *out, const struct crypto_signer *s, const char *alg,
    struct err *err)
{
	struct buf h;
	int rc = -1;

	buf_init(&h, JWT_PART_MAX, 0);
	if (buf_addf(&h, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"x5t\":\"",
	    alg) == -1)
		goto full;
	if (thumbprint(&h, s, 0, err) == -1)
		goto out;
	if (buf_adds(&h, "\",\"x5t#S256\":\"") == -1)
		goto full;
	if (thumbprint(&h, s, 1, err) == -1)
		goto out;
	if (buf_adds(&h, "\"}") == -1)
		goto full;
	if (util_b64url_encode(out, h.data, h.len) == -1)
		goto full;
	rc = 0;
	goto out;
 full:
	err_set(err, ERR_INTERNAL, "assertion header too large");
 out:
	buf_free(&h);
	return rc;
}

static int
add_claims(struct buf *out, const char *client_id, const char *audience,
    time_t now, struct err *err)
{
	unsigned char raw[JWT_JTI_BYTES];
	struct buf c, jti;
	long long t = (long long)now;
	int rc = -1;

	buf_init(&c, JWT_PART_MAX, 0);
	buf_init(&jti, 64, 0);
	if (util_random_bytes(raw, sizeof(raw)) == -1) {
		err_set(err, ERR_OS, "no random bytes for the assertion's jti");
		goto out;
	}
	if (util_b64url_encode(&jti, raw, sizeof(raw)) == -1 ||
	    buf_adds(&c, "{\"aud\":") == -1 || json_str(&c, audience) == -1 ||
	    buf_adds(&c, ",\"iss\":") == -1 || json_str(&c, client_id) == -1 ||
	    buf_adds(&c, ",\"sub\":") == -1 || json_str(&c, client_id) == -1 ||
	    buf_addf(&c, ",\"jti\":\"%s\",\"iat\":%lld,\"nbf\":%lld,"
	    "\"exp\":%lld}", buf_str(&jti), t, t, t + JWT_LIFETIME) == -1 ||
	    util_b64url_encode(out, c.data, c.len) == -1) {
		err_set(err, ERR_CONFIG, "client_id or token_endpoint too long "
		    "for an assertion");
		goto out;
	}
	rc = 0;
 out:
	buf_free(&c);
	buf_free(&jti);
	return rc;
}

/* Signs out's content (header.claims) and appends "." signature. */
static int
add_signature(struct buf *out, const struct crypto_signer *s, const char *alg,
    struct err *err)
{
	struct buf sig;
	char why[CRYPTO_WHY_LEN];
	int rc;

	buf_init(&sig, JWT_MAX_ASSERTION, 0);
	if ((rc = crypto_signer_sign(s, alg, out->data, out->len, &sig,
	    why)) < 0) {
		rc = signer_fail(rc, why, err);
		goto out;
	}
	rc = -1;
	if (buf_addc(out, '.') == -1 || util_b64url_encode(out, sig.data,
	    sig.len) == -1) {
		err_set(err, ERR_INTERNAL, "assertion too large");
		goto out;
	}
	rc = 0;
 out:
	buf_free(&sig);
	return rc;
}

/* The algorithm for the key: the one asked for, if the key can do it. */
static const char *
pick_alg(const struct crypto_signer *s, const char *want, struct err *err)
{
	int rsa = crypto_signer_is_rsa(s);
	size_t i;

	if (want == NULL)
		return rsa ? "RS256" : "ES256";
	for (i = 0; i < nitems(algs); i++)
		if (strcasecmp(want, algs[i]) == 0)
			break;
	if (i == nitems(algs)) {
		err_set(err, ERR_CONFIG, "client_assertion_alg %s is not "
		    "supported; use RS256, PS256 or ES256", want);
		return NULL;
	}
	if ((algs[i][0] == 'E') == rsa) {
		err_set(err, ERR_CONFIG, "client_assertion_alg %s does not fit "
		    "the %s private key; use %s", algs[i], rsa ? "RSA" : "EC",
		    rsa ? "RS256 or PS256" : "ES256");
		return NULL;
	}
	return algs[i];
}

int
jwt_sign_assertion(const char *cert_path, const char *key_pem,
    size_t key_len, const char *alg, const char *client_id,
    const char *audience, time_t now, struct buf *out, struct err *err)
{
	struct crypto_signer *s;
	char why[CRYPTO_WHY_LEN];
	const char *use;
	int rc;

	buf_reset(out);
	if ((rc = crypto_signer_load(cert_path, key_pem, key_len, &s,
	    why)) < 0)
		return signer_fail(rc, why, err);
	rc = -1;
	if (crypto_signer_check_validity(s, cert_path, now, why) < 0) {
		err_set(err, ERR_CONFIG, "%s", why);
		goto out;
	}
	if ((use = pick_alg(s, alg, err)) == NULL)
		goto out;
	if (add_header(out, s, use, err) == -1)
		goto out;
	if (buf_addc(out, '.') == -1) {
		err_set(err, ERR_INTERNAL, "assertion too large");
		goto out;
	}
	if (add_claims(out, client_id, audience, now, err) == -1 ||
	    add_signature(out, s, use, err) == -1)
		goto out;
	rc = 0;
 out:
	crypto_signer_free(s);
	if (rc == -1)
		buf_reset(out);
	return rc;
}

/*
 * --- Federated assertion files ------------------------------------------------
 */

static int
read_all(int fd, const char *path, struct buf *out, struct err *err)
{
	char chunk[512];
	ssize_t n;
	int rc = 0;

	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rc = err_set(err, ERR_CONFIG, "client_assertion_file "
			    "%s: %s", path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (out->len + (size_t)n > JWT_MAX_ASSERTION ||
		    buf_add(out, chunk, (size_t)n) == -1) {
			rc = err_set(err, ERR_CONFIG, "client_assertion_file "
			    "%s is larger than %d bytes; give the file of a "
			    "single token", path, JWT_MAX_ASSERTION);
			break;
		}
	}
	explicit_bzero(chunk, sizeof(chunk));
	return rc;
}

static int
open_assertion(const char *path, struct err *err)
{
	struct stat sb;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return err_set(err, errno == ENOENT ? ERR_TEMP : ERR_CONFIG,
		    "client_assertion_file %s: %s", path, strerror(errno));
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		(void)close(fd);
		return err_set(err, ERR_CONFIG, "client_assertion_file %s is "
		    "not a regular file", path);
	}
	if (sb.st_mode & S_IWOTH) {
		(void)close(fd);
		return err_set(err, ERR_CONFIG, "client_assertion_file %s is "
		    "writable by others; refusing it (chmod o-w)", path);
	}
	return fd;
}

/* Trims white space; checks three base64url parts. */
static int
check_shape(struct buf *b, const char *path, struct err *err)
{
	size_t start = 0, end = b->len, i, dots = 0;

	if (b->len == 0)
		return err_set(err, ERR_CONFIG, "client_assertion_file %s is "
		    "empty", path);
	while (start < end && strchr(" \t\r\n", b->data[start]) != NULL)
		start++;
	while (end > start && strchr(" \t\r\n", b->data[end - 1]) != NULL)
		end--;
	memmove(b->data, b->data + start, end - start);
	b->len = end - start;
	b->data[b->len] = '\0';
	for (i = 0; i < b->len; i++) {
		char c = b->data[i];

		if (c == '.')
			dots++;
		else if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			break;
	}
	if (b->len == 0 || i < b->len || dots != 2)
		return err_set(err, ERR_CONFIG, "client_assertion_file %s does "
		    "not hold a JWT (header.claims.signature in base64url)",
		    path);
	return 0;
}

int
jwt_read_assertion(const char *path, time_t now, struct buf *out,
    struct err *err)
{
	struct json_jwt claims;
	struct err cerr;
	int fd, rc;

	buf_reset(out);
	if ((fd = open_assertion(path, err)) == -1)
		return -1;
	rc = read_all(fd, path, out, err);
	(void)close(fd);
	if (rc == 0)
		rc = check_shape(out, path, err);
	if (rc == 0 && json_jwt_claims(out->data, &claims, &cerr) == -1)
		rc = err_set(err, ERR_CONFIG, "client_assertion_file %s: the "
		    "token's claims are not base64url JSON", path);
	else if (rc == 0) {
		if (claims.exp < 0)
			rc = err_set(err, ERR_CONFIG, "client_assertion_file "
			    "%s: the token has no \"exp\" claim", path);
		else if (claims.exp <= (long long)now)
			rc = err_set(err, ERR_TEMP, "client_assertion_file %s "
			    "expired %lld s ago and was not renewed; check "
			    "what writes it (e.g. the workload identity "
			    "webhook)", path, (long long)now - claims.exp);
		json_jwt_free(&claims);
	}
	if (rc == -1)
		buf_reset(out);
	return rc;
}
