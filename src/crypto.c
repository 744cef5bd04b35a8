/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * crypto.c -- OpenSSL's primitives for the rest of the program, and the
 * certificate and private key that sign client assertions; see crypto.h.
 */
#include "common.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "buf.h"
#include "crypto.h"

#define CRYPTO_ES256_HALF	32	/* r and s of a P-256 signature */

struct crypto_signer {
	X509		*x;
	EVP_PKEY	*k;
};

int
crypto_random(void *dst, size_t n)
{
	if (n > INT_MAX)
		return -1;
	return RAND_bytes(dst, (int)n) == 1 ? 0 : -1;
}

int
crypto_b64_encode(struct buf *out, const void *in, size_t len)
{
	size_t need = 4 * ((len + 2) / 3) + 1;
	unsigned char *tmp;
	int n;

	if (len > INT_MAX / 2)
		return -1;
	if ((tmp = malloc(need)) == NULL)
		return -1;
	n = EVP_EncodeBlock(tmp, in, (int)len);
	if (n < 0 || buf_add(out, tmp, (size_t)n) == -1) {
		freezero(tmp, need);
		return -1;
	}
	freezero(tmp, need);
	return 0;
}

int
crypto_sha256(const void *in, size_t len, unsigned char md[CRYPTO_SHA256_LEN])
{
	unsigned int n = 0;

	return EVP_Digest(in, len, md, &n, EVP_sha256(), NULL) == 1 &&
	    n == CRYPTO_SHA256_LEN ? 0 : -1;
}

/* Key, nonce and AAD into a fresh context for one direction. */
static EVP_CIPHER_CTX *
gcm_start(int enc, const unsigned char *key, const unsigned char *nonce,
    const struct crypto_aad *aad)
{
	EVP_CIPHER_CTX *c;
	size_t i;
	int n;

	if ((c = EVP_CIPHER_CTX_new()) == NULL)
		return NULL;
	if (EVP_CipherInit_ex(c, EVP_aes_256_gcm(), NULL, NULL, NULL,
	    enc) != 1 ||
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_IVLEN,
	    CRYPTO_GCM_NONCE_LEN, NULL) != 1 ||
	    EVP_CipherInit_ex(c, NULL, NULL, key, nonce, enc) != 1)
		goto fail;
	for (i = 0; aad != NULL && i < aad->n && i < CRYPTO_AAD_MAX; i++)
		if (aad->len[i] > INT_MAX || EVP_CipherUpdate(c, NULL, &n,
		    aad->p[i], (int)aad->len[i]) != 1)
			goto fail;
	return c;
 fail:
	EVP_CIPHER_CTX_free(c);
	return NULL;
}

int
crypto_gcm_seal(const unsigned char key[CRYPTO_GCM_KEY_LEN],
    const unsigned char nonce[CRYPTO_GCM_NONCE_LEN],
    const struct crypto_aad *aad, const void *pt, size_t len,
    unsigned char *ct, unsigned char tag[CRYPTO_GCM_TAG_LEN])
{
	EVP_CIPHER_CTX *c;
	int n = 0, m = 0, ok;

	if (len > INT_MAX - 16 || (c = gcm_start(1, key, nonce, aad)) == NULL)
		return -1;
	ok = EVP_EncryptUpdate(c, ct, &n, pt, (int)len) == 1 &&
	    EVP_EncryptFinal_ex(c, ct + n, &m) == 1 && (size_t)(n + m) == len &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, CRYPTO_GCM_TAG_LEN,
	    tag) == 1;
	EVP_CIPHER_CTX_free(c);
	return ok ? 0 : -1;
}

int
crypto_gcm_open(const unsigned char key[CRYPTO_GCM_KEY_LEN],
    const unsigned char nonce[CRYPTO_GCM_NONCE_LEN],
    const struct crypto_aad *aad, const unsigned char *ct, size_t len,
    const unsigned char tag[CRYPTO_GCM_TAG_LEN], unsigned char *pt)
{
	EVP_CIPHER_CTX *c;
	unsigned char t[CRYPTO_GCM_TAG_LEN];
	int n = 0, m = 0, ok;

	if (len > INT_MAX - 16 || (c = gcm_start(0, key, nonce, aad)) == NULL)
		return -1;
	memcpy(t, tag, sizeof(t));
	ok = EVP_DecryptUpdate(c, pt, &n, ct, (int)len) == 1 &&
	    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, CRYPTO_GCM_TAG_LEN,
	    t) == 1 && EVP_DecryptFinal_ex(c, pt + n, &m) == 1 &&
	    (size_t)(n + m) == len;
	EVP_CIPHER_CTX_free(c);
	if (!ok && len > 0)
		explicit_bzero(pt, len);
	return ok ? 0 : -1;
}

/*
 * --- The certificate and the key that sign client assertions ---------------
 */

/* A signer's failure: the message into why; returns code. */
static int
why_set(char why[CRYPTO_WHY_LEN], int code, const char *fmt, ...)
    OM_PRINTF(3, 4);

static int
why_set(char why[CRYPTO_WHY_LEN], int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	(void)vsnprintf(why, CRYPTO_WHY_LEN, fmt, ap);
	va_end(ap);
	return code;
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

static int
load_cert(const char *path, X509 **out, char why[CRYPTO_WHY_LEN])
{
	struct stat sb;
	BIO *bio;
	X509 *x;

	*out = NULL;
	if (stat(path, &sb) == -1)
		return why_set(why, CRYPTO_EUSER, "client_certificate %s: %s; "
		    "fix the path", path, strerror(errno));
	if (!S_ISREG(sb.st_mode) || sb.st_size > CRYPTO_MAX_CERT_FILE)
		return why_set(why, CRYPTO_EUSER, "client_certificate %s is "
		    "not a PEM certificate file (at most %d bytes)", path,
		    CRYPTO_MAX_CERT_FILE);
	if ((bio = BIO_new_file(path, "r")) == NULL)
		return why_set(why, CRYPTO_EUSER, "client_certificate %s: %s",
		    path, strerror(errno));
	x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (x == NULL) {
		ERR_clear_error();
		return why_set(why, CRYPTO_EUSER, "client_certificate %s holds "
		    "no PEM certificate (-----BEGIN CERTIFICATE-----); give the "
		    "certificate uploaded to the application, not the key",
		    path);
	}
	*out = x;
	return 0;
}

int
crypto_signer_check_validity(const struct crypto_signer *s, const char *path,
    time_t now, char why[CRYPTO_WHY_LEN])
{
	if (X509_cmp_time(X509_get0_notAfter(s->x), &now) < 0)
		return why_set(why, CRYPTO_EUSER, "client_certificate %s has "
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
load_key(const char *pem, size_t len, EVP_PKEY **out, char why[CRYPTO_WHY_LEN])
{
	BIO *bio;
	EVP_PKEY *k;
	char group[64];
	size_t glen;

	*out = NULL;
	if (len == 0 || len > CRYPTO_MAX_KEY || len > INT32_MAX)
		return why_set(why, CRYPTO_EUSER, "the private key is empty or "
		    "larger than %d bytes", CRYPTO_MAX_KEY);
	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL)
		return why_set(why, CRYPTO_ELIB, "OpenSSL: %s", ossl_reason());
	k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (k == NULL) {
		ERR_clear_error();
		return why_set(why, CRYPTO_EUSER, "the private key is not an "
		    "unencrypted PEM private key; decrypt it first: openssl "
		    "pkey -in KEY -out KEY.plain");
	}
	if (EVP_PKEY_is_a(k, "RSA")) {
		if (EVP_PKEY_get_bits(k) < CRYPTO_MIN_RSA_BITS) {
			EVP_PKEY_free(k);
			return why_set(why, CRYPTO_EUSER, "the RSA private key "
			    "has fewer than %d bits; create a new one",
			    CRYPTO_MIN_RSA_BITS);
		}
	} else if (!EVP_PKEY_is_a(k, "EC") ||
	    EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), &glen) != 1 ||
	    strcmp(group, "prime256v1") != 0) {
		EVP_PKEY_free(k);
		ERR_clear_error();
		return why_set(why, CRYPTO_EUSER, "the private key is neither "
		    "RSA nor EC P-256; use one of those");
	}
	*out = k;
	return 0;
}

/* The certificate and key, checked to be a pair. */
static int
load_pair(const char *cert_path, const char *pem, size_t len, X509 **x,
    EVP_PKEY **k, char why[CRYPTO_WHY_LEN])
{
	int rc;

	if ((rc = load_cert(cert_path, x, why)) < 0)
		return rc;
	if ((rc = load_key(pem, len, k, why)) < 0) {
		X509_free(*x);
		*x = NULL;
		return rc;
	}
	if (X509_check_private_key(*x, *k) != 1) {
		ERR_clear_error();
		X509_free(*x);
		EVP_PKEY_free(*k);
		*x = NULL;
		*k = NULL;
		return why_set(why, CRYPTO_EUSER, "the private key does not "
		    "belong to the certificate %s; give the key it was made "
		    "with", cert_path);
	}
	return 0;
}

int
crypto_signer_load(const char *cert_path, const char *key_pem, size_t key_len,
    struct crypto_signer **out, char why[CRYPTO_WHY_LEN])
{
	struct crypto_signer *s;
	int rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return why_set(why, CRYPTO_ELIB, "out of memory");
	if ((rc = load_pair(cert_path, key_pem, key_len, &s->x, &s->k,
	    why)) < 0) {
		free(s);
		return rc;
	}
	*out = s;
	return 0;
}

void
crypto_signer_free(struct crypto_signer *s)
{
	if (s == NULL)
		return;
	X509_free(s->x);
	EVP_PKEY_free(s->k);
	free(s);
}

int
crypto_signer_is_rsa(const struct crypto_signer *s)
{
	return EVP_PKEY_is_a(s->k, "RSA");
}

int
crypto_signer_thumbprint(const struct crypto_signer *s, int sha256,
    unsigned char d[CRYPTO_SHA256_LEN], size_t *len,
    char why[CRYPTO_WHY_LEN])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n;

	if (X509_digest(s->x, sha256 ? EVP_sha256() : EVP_sha1(), md,
	    &n) != 1)
		return why_set(why, CRYPTO_ELIB, "OpenSSL: certificate "
		    "digest: %s", ossl_reason());
	if (n > CRYPTO_SHA256_LEN)
		return why_set(why, CRYPTO_EINTERNAL, "certificate digest too "
		    "long");
	memcpy(d, md, n);
	*len = n;
	return 0;
}

/* JWS ES256 wants r || s, 32 bytes each, not OpenSSL's DER. */
static int
ecdsa_raw(const unsigned char *der, size_t len, unsigned char *raw,
    char why[CRYPTO_WHY_LEN])
{
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	ECDSA_SIG *sig;
	int ok;

	if ((sig = d2i_ECDSA_SIG(NULL, &p, (long)len)) == NULL)
		return why_set(why, CRYPTO_ELIB, "OpenSSL: ECDSA signature: %s",
		    ossl_reason());
	ECDSA_SIG_get0(sig, &r, &s);
	ok = BN_bn2binpad(r, raw, CRYPTO_ES256_HALF) == CRYPTO_ES256_HALF &&
	    BN_bn2binpad(s, raw + CRYPTO_ES256_HALF, CRYPTO_ES256_HALF) ==
	    CRYPTO_ES256_HALF;
	ECDSA_SIG_free(sig);
	if (!ok)
		return why_set(why, CRYPTO_ELIB, "OpenSSL: ECDSA signature "
		    "out of range");
	return 0;
}

int
crypto_signer_sign(const struct crypto_signer *s, const char *alg,
    const void *data, size_t len, struct buf *out, char why[CRYPTO_WHY_LEN])
{
	EVP_MD_CTX *md;
	EVP_PKEY_CTX *pctx = NULL;
	unsigned char *sig = NULL, raw[2 * CRYPTO_ES256_HALF];
	size_t slen = 0;
	int rc = -1;

	if ((md = EVP_MD_CTX_new()) == NULL)
		return why_set(why, CRYPTO_ELIB, "OpenSSL: out of memory");
	if (EVP_DigestSignInit(md, &pctx, EVP_sha256(), NULL, s->k) != 1 ||
	    (strcmp(alg, "PS256") == 0 &&
	    (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) !=
	    1)) ||
	    EVP_DigestSign(md, NULL, &slen, data, len) != 1 ||
	    (sig = OPENSSL_malloc(slen)) == NULL ||
	    EVP_DigestSign(md, sig, &slen, data, len) != 1) {
		rc = why_set(why, CRYPTO_ELIB, "OpenSSL: signing the "
		    "assertion: %s", ossl_reason());
		goto out;
	}
	if (strcmp(alg, "ES256") == 0) {
		if ((rc = ecdsa_raw(sig, slen, raw, why)) < 0)
			goto out;
		memcpy(sig, raw, sizeof(raw));
		slen = sizeof(raw);
	}
	if (buf_add(out, sig, slen) == -1) {
		rc = why_set(why, CRYPTO_EINTERNAL, "assertion too large");
		goto out;
	}
	rc = 0;
 out:
	OPENSSL_free(sig);
	EVP_MD_CTX_free(md);
	return rc;
}
