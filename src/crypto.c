/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* crypto.c -- OpenSSL's primitives for the rest of the program; see crypto.h. */
#include "common.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/rand.h>

#include "crypto.h"

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
