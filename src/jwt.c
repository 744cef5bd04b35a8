/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * jwt.c -- client assertions signed with OpenSSL 3 EVP, and federated
 * assertion files; see jwt.h.
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

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "buf.h"
#include "json.h"
#include "jwt.h"
#include "status.h"
#include "util.h"

#define JWT_JTI_BYTES	16		/* 128 random bits */
#define JWT_ES256_HALF	32		/* r and s of a P-256 signature */
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

/* The first OpenSSL error as text, for a message. */
static const char *
ossl_reason(void)
{
	static char text[160];
	unsigned long e = ERR_get_error();

	if (e == 0)
		return "unknown error";
	ERR_error_string_n(e, text, sizeof(text));
	ERR_clear_error();
	return text;
}

/*
 * --- The certificate and the key -------------------------------------------
 */

static int
load_cert(const char *path, X509 **out, struct err *err)
{
	struct stat sb;
	BIO *bio;
	X509 *x;

	*out = NULL;
	if (stat(path, &sb) == -1)
		return err_set(err, ERR_CONFIG, "client_certificate %s: %s; "
		    "fix the path", path, strerror(errno));
	if (!S_ISREG(sb.st_mode) || sb.st_size > JWT_MAX_CERT_FILE)
		return err_set(err, ERR_CONFIG, "client_certificate %s is not "
		    "a PEM certificate file (at most %d bytes)", path,
		    JWT_MAX_CERT_FILE);
	if ((bio = BIO_new_file(path, "r")) == NULL)
		return err_set(err, ERR_CONFIG, "client_certificate %s: %s",
		    path, strerror(errno));
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL) {
		ERR_clear_error();
		return err_set(err, ERR_CONFIG, "client_certificate %s holds no "
		    "PEM certificate (-----BEGIN CERTIFICATE-----); give the "
		    "certificate uploaded to the application, not the key",
		    path);
	}
	*out = x;
	return 0;
}

/* A certificate past its notAfter: the provider would refuse it. */
static int
check_validity(X509 *x, const char *path, time_t now, struct err *err)
{
	if (X509_cmp_time(X509_get0_notAfter(x), &now) < 0)
		return err_set(err, ERR_CONFIG, "client_certificate %s has "
		    "expired: create a new key and certificate, upload it to "
		    "the application and run 'oauthmail secret ACCOUNT --key "
		    "FILE'", path);
	return 0;
}

/* Never prompts: a key with a passphrase is refused. */
static int
no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static int
load_key(const char *pem, size_t len, EVP_PKEY **out, struct err *err)
{
	BIO *bio;
	EVP_PKEY *k;
	char group[64];
	size_t glen;

	*out = NULL;
	if (len == 0 || len > JWT_MAX_KEY || len > INT32_MAX)
		return err_set(err, ERR_CONFIG, "the private key is empty or "
		    "larger than %d bytes", JWT_MAX_KEY);
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return err_set(err, ERR_OS, "OpenSSL: %s", ossl_reason());
	k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (k == NULL) {
		ERR_clear_error();
		return err_set(err, ERR_CONFIG, "the private key is not an "
		    "unencrypted PEM private key; decrypt it first: openssl "
		    "pkey -in KEY -out KEY.plain");
	}
	if (EVP_PKEY_is_a(k, "RSA")) {
		if (EVP_PKEY_get_bits(k) < JWT_MIN_RSA_BITS) {
			EVP_PKEY_free(k);
			return err_set(err, ERR_CONFIG, "the RSA private key "
			    "has fewer than %d bits; create a new one",
			    JWT_MIN_RSA_BITS);
		}
	} else if (!EVP_PKEY_is_a(k, "EC") ||
	    EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), &glen) != 1 ||
	    strcmp(group, "prime256v1") != 0) {
		EVP_PKEY_free(k);
		ERR_clear_error();
		return err_set(err, ERR_CONFIG, "the private key is neither "
		    "RSA nor EC P-256; use one of those");
	}
	*out = k;
	return 0;
}

/* The certificate and key, checked to be a pair. */
static int
load_pair(const char *cert_path, const char *pem, size_t len, X509 **x,
    EVP_PKEY **k, struct err *err)
{
	if (load_cert(cert_path, x, err) == -1)
		return -1;
	if (load_key(pem, len, k, err) == -1) {
		X509_free(*x);
		*x = NULL;
		return -1;
	}
	if (X509_check_private_key(*x, *k) != 1) {
		ERR_clear_error();
		X509_free(*x);
		EVP_PKEY_free(*k);
		*x = NULL;
		*k = NULL;
		return err_set(err, ERR_CONFIG, "the private key does not "
		    "belong to the certificate %s; give the key it was made "
		    "with", cert_path);
	}
	return 0;
}

int
jwt_check_key(const char *cert_path, const char *key_pem, size_t key_len,
    struct err *err)
{
	X509 *x;
	EVP_PKEY *k;

	if (load_pair(cert_path, key_pem, key_len, &x, &k, err) == -1)
		return -1;
	X509_free(x);
	EVP_PKEY_free(k);
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

/* base64url(digest(DER of x)) into b. */
static int
thumbprint(struct buf *b, X509 *x, const EVP_MD *md, struct err *err)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n;

	if (X509_digest(x, md, d, &n) != 1)
		return err_set(err, ERR_OS, "OpenSSL: certificate digest: %s",
		    ossl_reason());
	if (util_b64url_encode(b, d, n) == -1)
		return err_set(err, ERR_INTERNAL, "assertion header too large");
	return 0;
}

static int
add_header(struct buf *out, X509 *x, const char *alg, struct err *err)
{
	struct buf h;
	int rc = -1;

	buf_init(&h, JWT_PART_MAX, 0);
	if (buf_addf(&h, "{\"alg\":\"%s\",\"typ\":\"JWT\",\"x5t\":\"",
	    alg) == -1)
		goto full;
	if (thumbprint(&h, x, EVP_sha1(), err) == -1)
		goto out;
	if (buf_adds(&h, "\",\"x5t#S256\":\"") == -1)
		goto full;
	if (thumbprint(&h, x, EVP_sha256(), err) == -1)
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

/* JWS ES256 wants r || s, 32 bytes each, not OpenSSL's DER. */
static int
ecdsa_raw(const unsigned char *der, size_t len, unsigned char *raw,
    struct err *err)
{
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *sig;
	int ok;

	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL)
		return err_set(err, ERR_OS, "OpenSSL: ECDSA signature: %s",
		    ossl_reason());
	ECDSA_SIG_get0(sig, &r, &s);
	ok = BN_bn2binpad(r, raw, JWT_ES256_HALF) == JWT_ES256_HALF &&
	    BN_bn2binpad(s, raw + JWT_ES256_HALF, JWT_ES256_HALF) ==
	    JWT_ES256_HALF;
	ECDSA_SIG_free(sig);
	if (!ok)
		return err_set(err, ERR_OS, "OpenSSL: ECDSA signature out of "
		    "range");
	return 0;
}

/* Signs out's content (header.claims) and appends "." signature. */
static int
add_signature(struct buf *out, EVP_PKEY *k, const char *alg, struct err *err)
{
	EVP_MD_CTX *md;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *sig = NULL, raw[2 * JWT_ES256_HALF];
	size_t slen = 0;
	int rc = -1;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return err_set(err, ERR_OS, "OpenSSL: out of memory");
	if (EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, k) != 1 ||
	    (strcmp(alg, "PS256") == 0 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) !=
	    1)) ||
	    EVP_DigestSign(md, NULL, &slen, (const unsigned char *)out->data,
	    out->len) != 1 || (sig = OPENSSL_malloc(slen)) == NULL ||
	    EVP_DigestSign(md, sig, &slen, (const unsigned char *)out->data,
	    out->len) != 1) {
		err_set(err, ERR_OS, "OpenSSL: signing the assertion: %s",
		    ossl_reason());
		goto out;
	}
	if (strcmp(alg, "ES256") == 0) {
		if (ecdsa_raw(sig, slen, raw, err) == -1)
			goto out;
		memcpy(sig, raw, sizeof(raw));
		slen = sizeof(raw);
	}
	if (buf_addc(out, '.') == -1 || util_b64url_encode(out, sig,
	    slen) == -1) {
		err_set(err, ERR_INTERNAL, "assertion too large");
		goto out;
	}
	rc = 0;
 out:
	OPENSSL_free(sig);
	EVP_MD_CTX_free(md);
	return rc;
}

/* The algorithm for the key: the one asked for, if the key can do it. */
static const char *
pick_alg(EVP_PKEY *k, const char *want, struct err *err)
{
	int rsa = EVP_PKEY_is_a(k, "RSA");
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
	X509 *x;
	EVP_PKEY *k;
	const char *use;
	int rc = -1;

	buf_reset(out);
	if (load_pair(cert_path, key_pem, key_len, &x, &k, err) == -1)
		return -1;
	if (check_validity(x, cert_path, now, err) == -1 ||
	    (use = pick_alg(k, alg, err)) == NULL)
		goto out;
	if (add_header(out, x, use, err) == -1)
		goto out;
	if (buf_addc(out, '.') == -1) {
		err_set(err, ERR_INTERNAL, "assertion too large");
		goto out;
	}
	if (add_claims(out, client_id, audience, now, err) == -1 ||
	    add_signature(out, k, use, err) == -1)
		goto out;
	rc = 0;
 out:
	X509_free(x);
	EVP_PKEY_free(k);
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
