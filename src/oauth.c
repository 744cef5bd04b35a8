/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * oauth.c -- the token endpoint: grants (RFC 6749, RFC 8628, RFC 7523),
 * revocation, Microsoft's tenant discovery and the classification of the
 * endpoint's replies; see oauth.h. HTTPS goes through http.h.
 */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <strings.h>


#include "advice.h"
#include "buf.h"
#include "conf.h"
#include "http.h"
#include "json.h"
#include "log.h"
#include "oauth.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

#define OAUTH_DESC_MAX		200	/* error_description shown to users */

/*
 * --- Classification -----------------------------------------------------
 */

/* Standard error codes that need a configuration change. */
static const struct {
	const char	*error;
	const char	*fix;
} config_errors[] = {
	{ "invalid_client", "check client_id, or store a client secret with "
	    "'oauthmail secret @ACCT@'" },
	{ "unauthorized_client", "the app registration may not use this "
	    "grant: check 'flow' and the registration (account @ACCT@)" },
	{ "invalid_scope", "fix 'scope' for account @ACCT@" },
	{ "unsupported_grant_type", "the token endpoint does not support "
	    "this flow: check 'flow' and token_endpoint (account @ACCT@)" },
	{ "invalid_request", "check token_endpoint, client_id and scope for "
	    "account @ACCT@" },
};

/* Copies tmpl into dst with each "@ACCT@" replaced by account. */
static void
fill(char *dst, size_t size, const char *tmpl, const char *account)
{
	const char *p;
	struct buf b;

	buf_init(&b, size - 1, 0);
	while ((p = strstr(tmpl, "@ACCT@")) != NULL) {
		if (buf_add(&b, tmpl, (size_t)(p - tmpl)) == -1 ||
		    buf_adds(&b, account) == -1)
			break;
		tmpl = p + 6;
	}
	if (p == NULL)
		(void)buf_adds(&b, tmpl);
	(void)strlcpy(dst, buf_str(&b), size);
	buf_free(&b);
}

/*
 * error_description: first line only, sanitised and shortened at a word
 * boundary to at most max bytes (advice_shorten).
 */
static void
short_desc(char *dst, size_t size, const char *desc, size_t max)
{
	if (desc == NULL) {
		dst[0] = '\0';
		return;
	}
	advice_shorten(dst, size, desc, max);
}

/*
 * The catalogue's row for a token endpoint error: the AADSTS codes of
 * error_codes first, then the description, then the error code itself.
 */
static const struct advice *
known_error(const struct json_token *r)
{
	const struct advice *a;
	char pat[32];
	size_t i;

	for (i = 0; i < r->nerror_codes; i++) {
		(void)snprintf(pat, sizeof(pat), "AADSTS%lld",
		    r->error_codes[i]);
		if ((a = advice_find(pat)) != NULL)
			return a;
	}
	if (r->error_description != NULL &&
	    (a = advice_find(r->error_description)) != NULL)
		return a;
	return advice_find(r->error);
}

int
oauth_classify(const char *account, long status, const struct json_token *r,
    struct err *err)
{
	char desc[OAUTH_DESC_MAX + 8], fix[sizeof(err->msg)], code[64];
	const struct advice *a;
	const char *e;
	size_t i, room;

	if (account == NULL)
		account = "ACCOUNT";
	if (r == NULL || r->error == NULL) {
		if (status >= 200 && status < 300) {
			if (r != NULL)
				return 0;
			return err_set(err, ERR_PROTO, "the token endpoint "
			    "sent an unreadable reply (HTTP %ld)", status);
		}
		if (status == 0)
			return err_set(err, ERR_TEMP,
			    "no reply from the token endpoint");
		if (status >= 500 || status == 408 || status == 425 ||
		    status == 429)
			return err_set(err, ERR_TEMP, "the token endpoint is "
			    "unavailable (HTTP %ld); will retry", status);
		if (status >= 300 && status < 400)
			return err_set(err, ERR_CONFIG, "the token endpoint "
			    "redirects (HTTP %ld): set token_endpoint to the "
			    "final https URL (account %s)", status, account);
		return err_set(err, ERR_CONFIG, "the token endpoint answered "
		    "HTTP %ld without an OAuth error: check token_endpoint "
		    "(account %s)", status, account);
	}

	short_desc(desc, sizeof(desc), r->error_description, OAUTH_DESC_MAX);
	util_sanitize(code, sizeof(code), r->error, strlen(r->error));
	e = r->error;

	/* Transient whatever the body says. */
	if (status >= 500 || status == 429 || status == 408 ||
	    strcmp(e, "temporarily_unavailable") == 0 ||
	    strcmp(e, "server_error") == 0)
		return err_set(err, ERR_TEMP, "the token endpoint is "
		    "unavailable (HTTP %ld, %s%s%s); will retry", status, code,
		    desc[0] ? ": " : "", desc);

	if ((a = known_error(r)) != NULL) {
		/* The whole fix, then as much of the description as fits. */
		advice_fill(a, account, NULL, fix, sizeof(fix));
		room = sizeof(err->msg) - 1;
		room = strlen(fix) + strlen(code) + 6 < room ?
		    room - strlen(fix) - strlen(code) - 6 : 0;
		short_desc(desc, sizeof(desc), r->error_description,
		    room < OAUTH_DESC_MAX ? room : OAUTH_DESC_MAX);
		return err_set(err, a->class, "%s (%s%s%s)", fix, code,
		    desc[0] ? ": " : "", desc);
	}

	if (strcmp(e, "invalid_grant") == 0)
		return err_set(err, ERR_AUTH, "sign-in needed: run "
		    "'oauthmail login %s' (invalid_grant%s%s)", account,
		    desc[0] ? ": " : "", desc);
	for (i = 0; i < nitems(config_errors); i++) {
		if (strcmp(e, config_errors[i].error) != 0)
			continue;
		fill(fix, sizeof(fix), config_errors[i].fix, account);
		return err_set(err, ERR_CONFIG, "the token endpoint refused "
		    "the request (%s%s%s): %s", code, desc[0] ? ": " : "",
		    desc, fix);
	}
	if (strcmp(e, "access_denied") == 0 ||
	    strcmp(e, "authorization_declined") == 0)
		return err_set(err, ERR_AUTH, "sign-in was declined: run "
		    "'oauthmail login %s' again (%s)", account, code);
	if (strcmp(e, "expired_token") == 0 ||
	    strcmp(e, "bad_verification_code") == 0)
		return err_set(err, ERR_AUTH, "the sign-in code expired or is "
		    "wrong: run 'oauthmail login %s' again (%s)", account,
		    code);
	if (strcmp(e, "interaction_required") == 0 ||
	    strcmp(e, "consent_required") == 0 ||
	    strcmp(e, "login_required") == 0)
		return err_set(err, ERR_AUTH, "sign-in needed: run "
		    "'oauthmail login %s' (%s%s%s)", account, code,
		    desc[0] ? ": " : "", desc);
	/* Unknown error: do not give up on the mail, do not delete. */
	return err_set(err, ERR_TEMP, "the token endpoint refused the request "
	    "(HTTP %ld, %s%s%s)", status, code, desc[0] ? ": " : "", desc);
}

/*
 * POSTs the form to the token endpoint url and parses and classifies the
 * reply (oauth_classify) into out.
 */
static int
oauth_post(const struct account *acct, const char *url,
    const struct http_field *fields, size_t nfields, struct json_token *out,
    struct err *err)
{
	struct buf body;
	long status = 0;
	int rc = -1, parsed;
	struct err perr;

	json_token_init(out);
	buf_init(&body, LIM_HTTP_BODY, BUF_SECRET);
	if (http_post_form(acct, url, fields, nfields, &status, &body,
	    err) == -1)
		goto out;
	if (body.len == 0 && status >= 200 && status < 300) {
		rc = 0;		/* e.g. revocation (RFC 7009 §2.2) */
		goto out;
	}
	parsed = json_token_parse(out, buf_str(&body), body.len, &perr) == 0;
	if (!parsed && status >= 200 && status < 300) {
		err_set(err, ERR_PROTO, "%s", perr.msg);
		goto out;
	}
	rc = oauth_classify(acct->name, status, parsed ? out : NULL, err);
	if (rc == 0)
		log_debug("token endpoint: HTTP %ld", status);
 out:
	buf_free(&body);
	return rc;
}

static int
need(const struct account *acct, const char *what, const char *val,
    struct err *err)
{
	if (val == NULL || *val == '\0')
		return err_set(err, ERR_CONFIG, "account %s has no %s: set it "
		    "in the configuration (or choose a provider)", acct->name,
		    what);
	return 0;
}

/* A grant reply must carry an access token. */
static int
want_access(const struct account *acct, struct json_token *out,
    struct err *err)
{
	if (out->access_token == NULL) {
		json_token_free(out);
		return err_set(err, ERR_PROTO, "the token endpoint's reply "
		    "has no access_token (account %s)", acct->name);
	}
	if (out->token_type != NULL &&
	    strcasecmp(out->token_type, "bearer") != 0)
		log_info("account %s: unexpected token_type, using it as a "
		    "bearer token", acct->name);
	return 0;
}

int
oauth_refresh(const struct account *acct, const char *refresh_token,
    const char *client_secret, struct json_token *out, struct err *err)
{
	const struct http_field f[] = {
		{ "grant_type", "refresh_token" },
		{ "client_id", acct->client_id },
		{ "refresh_token", refresh_token },
		{ "scope", acct->scope },
		{ "client_secret", client_secret },
	};

	json_token_init(out);
	if (need(acct, "token_endpoint", acct->token_endpoint, err) == -1 ||
	    need(acct, "client_id", acct->client_id, err) == -1)
		return -1;
	if (refresh_token == NULL || *refresh_token == '\0')
		return err_set(err, ERR_AUTH, "no refresh token for account "
		    "%s: run 'oauthmail login %s'", acct->name, acct->name);
	if (oauth_post(acct, acct->token_endpoint, f, nitems(f), out,
	    err) == -1)
		return -1;
	return want_access(acct, out, err);
}

int
oauth_client_credentials(const struct account *acct,
    const char *client_secret, struct json_token *out, struct err *err)
{
	const struct http_field f[] = {
		{ "grant_type", "client_credentials" },
		{ "client_id", acct->client_id },
		{ "client_secret", client_secret },
		{ "scope", acct->scope },
	};

	json_token_init(out);
	if (need(acct, "token_endpoint", acct->token_endpoint, err) == -1 ||
	    need(acct, "client_id", acct->client_id, err) == -1)
		return -1;
	if (client_secret == NULL || *client_secret == '\0')
		return err_set(err, ERR_CONFIG, "account %s uses client "
		    "credentials but has no client secret: run 'oauthmail "
		    "secret %s'", acct->name, acct->name);
	if (oauth_post(acct, acct->token_endpoint, f, nitems(f), out,
	    err) == -1)
		return -1;
	return want_access(acct, out, err);
}

/* invalid_client for an assertion: what to check is not a secret. */
static void
assertion_refused(const struct account *acct, const struct json_token *r,
    struct err *err)
{
	char desc[200];

	short_desc(desc, sizeof(desc), r->error_description, 160);
	if (strstr(desc, "AADSTS700024") != NULL)
		err_set(err, ERR_CONFIG, "the token endpoint refused the "
		    "client assertion as outside its valid time (%s): this "
		    "host's clock is probably wrong; check it (timedatectl) "
		    "and keep it in sync with NTP", desc);
	else if (acct->client_certificate != NULL)
		err_set(err, ERR_CONFIG, "the token endpoint refused the "
		    "client assertion (invalid_client%s%s): check that %s is "
		    "a certificate of application %s (Certificates & "
		    "secrets) and that the key stored with 'oauthmail secret "
		    "%s --key' is its own", desc[0] ? ": " : "", desc,
		    acct->client_certificate, acct->client_id, acct->name);
	else
		err_set(err, ERR_CONFIG, "the token endpoint refused the "
		    "federated assertion of %s (invalid_client%s%s): check "
		    "the federated credential of application %s (issuer, "
		    "subject, audience)", acct->client_assertion_file,
		    desc[0] ? ": " : "", desc, acct->client_id);
}

int
oauth_client_assertion(const struct account *acct, const char *assertion,
    struct json_token *out, struct err *err)
{
	const struct http_field f[] = {
		{ "grant_type", "client_credentials" },
		{ "client_id", acct->client_id },
		{ "client_assertion_type", OAUTH_ASSERTION_TYPE },
		{ "client_assertion", assertion },
		{ "scope", acct->scope },
	};

	json_token_init(out);
	if (need(acct, "token_endpoint", acct->token_endpoint, err) == -1 ||
	    need(acct, "client_id", acct->client_id, err) == -1)
		return -1;
	if (oauth_post(acct, acct->token_endpoint, f, nitems(f), out,
	    err) == -1) {
		if (err->class == ERR_CONFIG && out->error != NULL &&
		    strcmp(out->error, "invalid_client") == 0)
			assertion_refused(acct, out, err);
		return -1;
	}
	return want_access(acct, out, err);
}

int
oauth_device_authorize(const struct account *acct, const char *client_secret,
    struct json_token *out, struct err *err)
{
	const struct http_field f[] = {
		{ "client_id", acct->client_id },
		{ "scope", acct->scope },
		{ "client_secret", client_secret },
	};

	json_token_init(out);
	if (need(acct, "device_endpoint", acct->device_endpoint, err) == -1 ||
	    need(acct, "client_id", acct->client_id, err) == -1)
		return -1;
	if (oauth_post(acct, acct->device_endpoint, f, nitems(f), out,
	    err) == -1)
		return -1;
	if (out->device_code == NULL || out->user_code == NULL ||
	    out->verification_uri == NULL) {
		json_token_free(out);
		return err_set(err, ERR_PROTO, "the device authorization "
		    "reply lacks device_code, user_code or verification_uri "
		    "(account %s)", acct->name);
	}
	if (out->interval <= 0)
		out->interval = 5;
	if (out->expires_in <= 0)
		out->expires_in = 900;
	return 0;
}

int
oauth_device_poll(const struct account *acct, const char *device_code,
    const char *client_secret, struct json_token *out, struct err *err)
{
	const struct http_field f[] = {
		{ "grant_type", "urn:ietf:params:oauth:grant-type:device_code" },
		{ "client_id", acct->client_id },
		{ "device_code", device_code },
		{ "client_secret", client_secret },
	};

	json_token_init(out);
	if (need(acct, "token_endpoint", acct->token_endpoint, err) == -1 ||
	    need(acct, "client_id", acct->client_id, err) == -1)
		return -1;
	if (oauth_post(acct, acct->token_endpoint, f, nitems(f), out,
	    err) == -1) {
		if (out->error != NULL &&
		    strcmp(out->error, "authorization_pending") == 0) {
			json_token_free(out);
			return OAUTH_POLL_PENDING;
		}
		if (out->error != NULL && strcmp(out->error, "slow_down") == 0) {
			json_token_free(out);
			return OAUTH_POLL_SLOW_DOWN;
		}
		return -1;
	}
	return want_access(acct, out, err);
}

int
oauth_code_exchange(const struct account *acct, const char *code,
    const char *code_verifier, const char *redirect_uri,
    const char *client_secret, struct json_token *out, struct err *err)
{
	const struct http_field f[] = {
		{ "grant_type", "authorization_code" },
		{ "client_id", acct->client_id },
		{ "code", code },
		{ "code_verifier", code_verifier },
		{ "redirect_uri", redirect_uri },
		{ "scope", acct->scope },
		{ "client_secret", client_secret },
	};

	json_token_init(out);
	if (need(acct, "token_endpoint", acct->token_endpoint, err) == -1 ||
	    need(acct, "client_id", acct->client_id, err) == -1)
		return -1;
	if (code == NULL || *code == '\0')
		return err_set(err, ERR_AUTH, "no authorization code received");
	if (oauth_post(acct, acct->token_endpoint, f, nitems(f), out,
	    err) == -1)
		return -1;
	return want_access(acct, out, err);
}

/* The tenant: the path segment after the host of the issuer URL. */
static int
issuer_tenant(const char *issuer, char *tenant, size_t size)
{
	const char *p, *e;
	size_t n;

	if (strncmp(issuer, "https://", 8) != 0 ||
	    (p = strchr(issuer + 8, '/')) == NULL)
		return -1;
	p++;
	if ((e = strchr(p, '/')) == NULL || (n = (size_t)(e - p)) == 0 ||
	    n >= size || n > 64)
		return -1;
	memcpy(tenant, p, n);
	tenant[n] = '\0';
	for (; *p != '/'; p++)
		if (!isalnum((unsigned char)*p) && *p != '-')
			return -1;
	return 0;
}

int
oauth_ms_tenant(const char *base, const char *domain, char *tenant,
    size_t size, struct err *err)
{
	static char name[] = "setup";
	struct account acct;
	struct buf body;
	char iss[1024], *url;
	long status = 0;
	int rc;

	memset(&acct, 0, sizeof(acct));
	acct.name = name;
	url = xasprintf("%s/%s/v2.0/.well-known/openid-configuration", base,
	    domain);
	buf_init(&body, LIM_HTTP_BODY, 0);
	rc = http_get(&acct, url, &body, &status, err);
	free(url);
	if (rc == 0 && (status == 400 || status == 404))
		rc = 1;
	else if (rc == 0 && status != 200)
		rc = err_set(err, ERR_TEMP, "OpenID configuration of %s: HTTP "
		    "%ld", domain, status);
	else if (rc == 0) {
		if (json_string_member(buf_str(&body), body.len, "issuer",
		    iss, sizeof(iss)) == -1 ||
		    issuer_tenant(iss, tenant, size) == -1)
			rc = err_set(err, ERR_PROTO, "OpenID configuration of "
			    "%s has no usable issuer", domain);
	}
	buf_free(&body);
	return rc;
}

int
oauth_revoke(const struct account *acct, const char *token, const char *hint,
    struct err *err)
{
	const struct http_field f[] = {
		{ "token", token },
		{ "token_type_hint", hint },
		{ "client_id", acct->client_id },
	};
	struct json_token out;
	int rc;

	if (acct->revoke_endpoint == NULL || *acct->revoke_endpoint == '\0')
		return 1;
	if (token == NULL || *token == '\0')
		return 1;
	rc = oauth_post(acct, acct->revoke_endpoint, f, nitems(f), &out, err);
	json_token_free(&out);
	return rc;
}
