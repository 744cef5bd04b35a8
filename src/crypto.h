/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * crypto.h -- the cryptographic primitives, from OpenSSL 3 (EVP): random
 * bytes, base64 encoding, SHA-256 and AES-256-GCM. With tls.c (the TLS
 * connection) and jwt.c (signing client assertions), the only place that
 * includes OpenSSL (scripts/check-layers). Callers build on these: util.c
 * (ids, base64), seal.c (the sealed token copy), login.c (PKCE).
 */
#ifndef CRYPTO_H
#define CRYPTO_H

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

#endif
