/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * oauth.h -- the OAuth 2.0 token endpoint over libcurl (the only file that
 * includes curl): refresh, client credentials, device authorization and
 * polling, authorization-code exchange (PKCE), revocation; and the one
 * classification of failures.
 *
 * Transport: HTTPS only, TLS verification on, no redirects followed; plain
 * http only to 127.0.0.1, [::1] or localhost (tests, loopback proxies).
 * The CA file is the account's tls_trust_file when set: the same file
 * serves the SMTP server and the token endpoint. No environment variable
 * weakens any of this. Timeouts: connect 10 s, whole request 30 s; the
 * reply body is capped at LIM_HTTP_BODY. With log_verbosity() >= 2 the
 * exchange is logged through log_debug with every secret redacted.
 *
 * Every request function fills out (initialised by the callee; the caller
 * frees it with json_token_free, also on failure) and returns 0, or -1
 * with err classified by oauth_classify:
 *   ERR_TEMP    transport failure, timeout, HTTP 5xx/408/429,
 *               temporarily_unavailable, server_error (nothing may be
 *               deleted or changed because of it)
 *   ERR_PROTO   a 2xx reply that is not a usable JSON token reply
 *   ERR_AUTH    invalid_grant and other "sign in again" answers
 *   ERR_CONFIG  invalid_client, unauthorized_client, invalid_scope,
 *               unsupported_grant_type, invalid_request, missing endpoint
 *               or client_id, non-https URL; the message says what to fix
 * client_secret may be NULL everywhere: it is sent only when given.
 */
#ifndef OAUTH_H
#define OAUTH_H

#include "common.h"
#include "conf.h"
#include "json.h"
#include "status.h"

/* grant_type=refresh_token with acct->scope (when set). */
int	oauth_refresh(const struct account *acct, const char *refresh_token,
	    const char *client_secret, struct json_token *out, struct err *err);
/* grant_type=client_credentials; client_secret is required. */
int	oauth_client_credentials(const struct account *acct,
	    const char *client_secret, struct json_token *out, struct err *err);
/*
 * grant_type=client_credentials authenticated by a client assertion
 * (RFC 7523 §2.2: a JWT signed with the application's key, or a
 * federated one; jwt.h) in place of a client secret.
 */
#define OAUTH_ASSERTION_TYPE \
	"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
int	oauth_client_assertion(const struct account *acct,
	    const char *assertion, struct json_token *out, struct err *err);
/*
 * RFC 8628 device authorization request to acct->device_endpoint. On
 * success out has device_code, user_code, verification_uri, expires_in
 * and interval (5 when the server sent none).
 */
int	oauth_device_authorize(const struct account *acct,
	    const char *client_secret, struct json_token *out, struct err *err);

#define OAUTH_POLL_PENDING	1	/* authorization_pending: poll again */
#define OAUTH_POLL_SLOW_DOWN	2	/* slow_down: add 5 s to the interval */
/*
 * One poll of the token endpoint with the device code. Returns 0 (out has
 * the tokens), OAUTH_POLL_PENDING, OAUTH_POLL_SLOW_DOWN, or -1 (ERR_AUTH
 * for access_denied / authorization_declined / expired_token).
 */
int	oauth_device_poll(const struct account *acct, const char *device_code,
	    const char *client_secret, struct json_token *out, struct err *err);
/* grant_type=authorization_code with code_verifier and redirect_uri. */
int	oauth_code_exchange(const struct account *acct, const char *code,
	    const char *code_verifier, const char *redirect_uri,
	    const char *client_secret, struct json_token *out, struct err *err);
/*
 * RFC 7009 revocation at acct->revoke_endpoint (best effort: the caller
 * may ignore the result). hint: "refresh_token", "access_token" or NULL.
 * Returns 1 without a request when the account has no revoke_endpoint.
 */
int	oauth_revoke(const struct account *acct, const char *token,
	    const char *hint, struct err *err);

/*
 * The classification (pure; unit-tested). http_status is the HTTP code
 * (0: no reply); resp the parsed body or NULL if it did not parse.
 * Returns 0 if the reply is a success (2xx and no "error"), else -1 with
 * err set as described above. account names the account in fix lines.
 */
int	oauth_classify(const char *account, long http_status,
	    const struct json_token *resp, struct err *err);
/*
 * Microsoft's OpenID configuration for a domain: GET
 * BASE/DOMAIN/v2.0/.well-known/openid-configuration (BASE
 * "https://login.microsoftonline.com", or a loopback URL in tests) and
 * the tenant id from its issuer ("BASE-HOST/TENANT/v2.0") into tenant.
 * Returns 0, 1 when the domain is no Microsoft Entra tenant (HTTP 400 /
 * 404), -1 with err (ERR_TEMP transport, ERR_PROTO a reply without a
 * usable issuer). Same transport rules as the token endpoint.
 */
int	oauth_ms_tenant(const char *base, const char *domain, char *tenant,
	    size_t size, struct err *err);

#endif
