/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * crypto.h -- the cryptographic primitives, from OpenSSL 3 (EVP): random
 * bytes, base64 encoding, SHA-256, AES-256-GCM, and the certificate and
 * private key that sign client assertions. With tls.c (the TLS
 * connection), the only place that includes OpenSSL (scripts/check-layers);
 * no OpenSSL type appears here. Callers build on these: util.c (ids,
 * base64), seal.c (the sealed token copy), login.c (PKCE), jwt.c (the
 * client assertion's header, claims and signature).
 */
#ifndef CRYPTO_H
#define CRYPTO_H

#include <time.h>

#include "common.h"
#include "buf.h"

#define CRYPTO_SHA256_LEN	32
#define CRYPTO_GCM_KEY_LEN	32
#define CRYPTO_GCM_NONCE_LEN	12
#define CRYPTO_GCM_TAG_LEN	16

/* n bytes from OpenSSL's DRBG. -1 on failure (n > INT_MAX included). */
int	crypto_random(void *dst, size_t n);

/* Appends standard base64 of in[0..len) (padding, no newlines). */
int	crypto_b64_encode(struct buf *out, const void *in, size_t len);

/* SHA-256 of in[0..len). -1 on failure. */
int	crypto_sha256(const void *in, size_t len,
	    unsigned char md[CRYPTO_SHA256_LEN]);

/*
 * Additional authenticated data: up to CRYPTO_AAD_MAX parts, each
 * authenticated in order (not encrypted).
 */
#define CRYPTO_AAD_MAX	4
struct crypto_aad {
	const void	*p[CRYPTO_AAD_MAX];
	size_t		 len[CRYPTO_AAD_MAX];
	size_t		 n;
};

/*
 * AES-256-GCM. seal: pt[0..len) into ct (len bytes) and tag. open: ct
 * into pt (len bytes) if the tag and the AAD verify; -1 otherwise (wrong
 * key, altered data or AAD, or an OpenSSL failure) with pt wiped.
 */
int	crypto_gcm_seal(const unsigned char key[CRYPTO_GCM_KEY_LEN],
	    const unsigned char nonce[CRYPTO_GCM_NONCE_LEN],
	    const struct crypto_aad *aad, const void *pt, size_t len,
	    unsigned char *ct, unsigned char tag[CRYPTO_GCM_TAG_LEN]);
int	crypto_gcm_open(const unsigned char key[CRYPTO_GCM_KEY_LEN],
	    const unsigned char nonce[CRYPTO_GCM_NONCE_LEN],
	    const struct crypto_aad *aad, const unsigned char *ct, size_t len,
	    const unsigned char tag[CRYPTO_GCM_TAG_LEN], unsigned char *pt);

/*
 * A certificate and its private key, for signing client assertions
 * (jwt.c). crypto_signer_load: the first PEM certificate in the file at
 * cert_path (at most CRYPTO_MAX_CERT_FILE bytes) and the unencrypted PEM
 * private key key_pem[0..key_len) (never prompts for a passphrase; RSA of
 * at least CRYPTO_MIN_RSA_BITS bits or EC P-256), checked to be a pair.
 * On failure the functions below return one of CRYPTO_E* and put in why
 * the message, as the user meets it (it speaks of client_certificate and
 * the private key, and says the fix).
 */
#define CRYPTO_MIN_RSA_BITS	2048
#define CRYPTO_MAX_CERT_FILE	(64 * 1024)
#define CRYPTO_MAX_KEY		LIM_TOKEN
#define CRYPTO_WHY_LEN		512
#define CRYPTO_EUSER		(-1)	/* the certificate or key unusable */
#define CRYPTO_ELIB		(-2)	/* OpenSSL failed */
#define CRYPTO_EINTERNAL	(-3)	/* a bug: out full, odd digest */
struct crypto_signer;

int	crypto_signer_load(const char *cert_path, const char *key_pem,
	    size_t key_len, struct crypto_signer **out,
	    char why[CRYPTO_WHY_LEN]);
void	crypto_signer_free(struct crypto_signer *);	/* NULL is fine */
/* CRYPTO_EUSER when the certificate (read from path) expired before now. */
int	crypto_signer_check_validity(const struct crypto_signer *,
	    const char *path, time_t now, char why[CRYPTO_WHY_LEN]);
/* 1 for an RSA key, 0 for EC P-256. */
int	crypto_signer_is_rsa(const struct crypto_signer *);
/* The certificate's SHA-1 (sha256 0) or SHA-256 thumbprint: its DER's. */
int	crypto_signer_thumbprint(const struct crypto_signer *, int sha256,
	    unsigned char d[CRYPTO_SHA256_LEN], size_t *len,
	    char why[CRYPTO_WHY_LEN]);
/*
 * Signs data[0..len) with SHA-256 as JWS alg says ("RS256": PKCS #1
 * v1.5, "PS256": PSS, "ES256": ECDSA as r || s, 32 bytes each) and
 * appends the signature to out (CRYPTO_EINTERNAL when it is full).
 */
int	crypto_signer_sign(const struct crypto_signer *, const char *alg,
	    const void *data, size_t len, struct buf *out,
	    char why[CRYPTO_WHY_LEN]);

#endif
