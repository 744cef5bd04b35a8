/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * jwt.h -- client assertions (RFC 7523 §2.2, OpenID Connect
 * private_key_jwt): the signed JWT an application presents at the token
 * endpoint instead of a client secret, and the federated assertion files
 * of workload identity. crypto.c loads the certificate and the key and
 * signs (OpenSSL 3 EVP); nothing here reads the keyring or the
 * configuration.
 *
 * A signed assertion has the header {"alg", "typ":"JWT", "x5t",
 * "x5t#S256"} (the certificate's SHA-1 and SHA-256 thumbprints, base64url
 * of the DER: Microsoft Entra ID finds the certificate by them) and the
 * claims aud (the token endpoint), iss = sub (the client id), jti (128
 * random bits, base64url), iat = nbf = now, exp = now + JWT_LIFETIME.
 *
 * The private key is PEM text in a caller's BUF_SECRET buffer; the
 * key crypto.c parses from it is freed before each function returns. A key
 * with a passphrase is refused (nothing may prompt), as is an RSA key of
 * fewer than JWT_MIN_RSA_BITS bits or an EC key on another curve than
 * P-256.
 */
#ifndef JWT_H
#define JWT_H

#include <time.h>

#include "common.h"
#include "buf.h"
#include "crypto.h"
#include "status.h"

#define JWT_LIFETIME		300		/* seconds an assertion lives */
#define JWT_MIN_RSA_BITS	CRYPTO_MIN_RSA_BITS
#define JWT_MAX_CERT_FILE	CRYPTO_MAX_CERT_FILE	/* client_certificate */
#define JWT_MAX_KEY		CRYPTO_MAX_KEY		/* PEM private key */
#define JWT_MAX_ASSERTION	LIM_TOKEN	/* a signed or federated JWT */

/*
 * The algorithm names client_assertion_alg accepts, upper case: "RS256",
 * "PS256", "ES256". jwt_alg_valid: 1 if alg is one of them (any case).
 */
int	jwt_alg_valid(const char *alg);

/*
 * Signs a client assertion for client_id at audience (the token
 * endpoint) with the key, for the PEM certificate in cert_path (the first
 * one in the file). alg: NULL for the key's default (RS256 for RSA, ES256
 * for EC), else one of jwt_alg_valid's names, which must fit the key.
 * now: the issue time. Into out (max >= JWT_MAX_ASSERTION), as
 * header.claims.signature. Errors: ERR_CONFIG (the certificate or the key
 * unusable, expired, or not a pair: the message names the file and the
 * fix), ERR_OS (OpenSSL failed).
 */
int	jwt_sign_assertion(const char *cert_path, const char *key_pem,
	    size_t key_len, const char *alg, const char *client_id,
	    const char *audience, time_t now, struct buf *out, struct err *err);

/*
 * Checks that key_pem is an unencrypted private key this program can sign
 * with and that it belongs to the certificate in cert_path (before the
 * key is stored). Errors as jwt_sign_assertion.
 */
int	jwt_check_key(const char *cert_path, const char *key_pem,
	    size_t key_len, struct err *err);

/*
 * Reads a federated assertion (a JWT another identity provider issued,
 * e.g. the Kubernetes service account token of workload identity) from
 * path, afresh at every call: a regular file (symbolic links followed, as
 * Kubernetes rotates it through one) not writable by others, at most
 * JWT_MAX_ASSERTION bytes, surrounding white space removed; three
 * base64url parts whose claims hold an "exp" after now. Into out
 * (BUF_SECRET). Errors name the file, never its content: ERR_TEMP when
 * it is missing or expired (whatever renews it may still do so: mail
 * waits), ERR_CONFIG when it is unreadable, too large or not a JWT.
 */
int	jwt_read_assertion(const char *path, time_t now, struct buf *out,
	    struct err *err);

#endif
