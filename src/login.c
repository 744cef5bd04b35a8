/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * login.c -- first sign-in and revocation; see login.h.
 *
 * Picks the flow: authorization code + PKCE with the browser or by
 * pasting back (authcode.h), device authorization (device.h), client
 * credentials; then stores the token record and says who signed in.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "advice.h"
#include "args.h"
#include "authcode.h"
#include "buf.h"
#include "conf.h"
#include "device.h"
#include "json.h"
#include "log.h"
#include "login.h"
#include "oauth.h"
#include "queue.h"
#include "runq.h"
#include "status.h"
#include "store.h"
#include "token.h"
#include "util.h"
#include "xmalloc.h"

#define LOGIN_RECORD_MAX	(64 * 1024)

/*
 * --- Storing and announcing --------------------------------------------
 */

/* Who signed in, from the token's claims; falls back to the config. */
static void
announce(const struct account *acct, struct store *st,
    const struct json_token *tok, const char *who)
{
	struct json_jwt j;
	struct err e;
	char clean[256], fixbuf[400];
	const char *name = who, *fix;
	int have = 0;

	memset(&j, 0, sizeof(j));
	if (tok->access_token != NULL &&
	    json_jwt_claims(tok->access_token, &j, &e) == 0)
		have = 1;
	else if (tok->id_token != NULL &&
	    json_jwt_claims(tok->id_token, &j, &e) == 0)
		have = 1;
	if (name == NULL && have && j.upn != NULL)
		name = j.upn;
	if (name == NULL)
		name = acct->user != NULL ? acct->user :
		    acct->from != NULL ? acct->from : acct->name;
	util_sanitize(clean, sizeof(clean), name, strlen(name));
	fprintf(stderr, "%s: signed in as %s (account %s); token stored in "
	    "%s\n", OM_PROGNAME, clean, acct->name, store_backend_name(st));
	if (have && j.aud != NULL &&
	    (fix = advice_account(acct, j.aud, fixbuf, sizeof(fixbuf))) != NULL)
		fprintf(stderr, "%s: warning: %s\n", OM_PROGNAME, fix);
	if (have)
		json_jwt_free(&j);
	if (tok->refresh_token == NULL &&
	    acct->flow != FLOW_CLIENT_CREDENTIALS)
		fprintf(stderr, "%s: warning: the provider issued no refresh "
		    "token, so you will have to sign in again when this one "
		    "expires%s\n", OM_PROGNAME,
		    acct->provider == PROVIDER_MICROSOFT ||
		    acct->provider == PROVIDER_OUTLOOK ?
		    " (add offline_access to scope)" : "");
}

/* Writes the token record (token.h) for a fresh sign-in. */
static int
store_tokens(const struct account *acct, struct store *st,
    const struct json_token *tok, const char *who, struct err *err)
{
	struct token_record rec;
	struct buf b;
	time_t now = time(NULL);
	int rc;

	if (tok->access_token == NULL)
		return err_set(err, ERR_PROTO, "the token endpoint sent no "
		    "access token (account %s)", acct->name);
	memset(&rec, 0, sizeof(rec));
	rec.access_token = tok->access_token;
	rec.lifetime = tok->expires_in > 0 ? (time_t)tok->expires_in : 3600;
	rec.expires_at = now + rec.lifetime;
	rec.refresh_token = tok->refresh_token;
	rec.refresh_issued = now;
	rec.last_success = 0;
	rec.needs_login = 0;
	rec.scope = tok->scope != NULL ? tok->scope : acct->scope;
	buf_init(&b, LOGIN_RECORD_MAX, BUF_SECRET);
	if (token_record_dump(&rec, &b, err) == -1) {
		buf_free(&b);
		return -1;
	}
	rc = store_put(st, acct->name, STORE_TOKEN, b.data, b.len, err);
	if (rc == 0) {	/* the API token of an earlier sign-in goes too */
		token_forget_api(acct, st);
		token_cache_fill(acct, st);
	}
	buf_free(&b);
	if (rc == 0)
		announce(acct, st, tok, who);
	return rc;
}

static int
flow_client_credentials(const struct account *acct, struct store *st,
    const char *secret, struct err *err)
{
	struct json_token tok;
	char who[256];
	int rc;

	rc = token_assertion_grant(acct, st, &tok, err);
	if (rc == 1 && secret == NULL)
		return err_set(err, ERR_CONFIG, "account %s uses client "
		    "credentials but the keyring has no client secret: run "
		    "'oauthmail secret %s' first", acct->name, acct->name);
	if (rc == 1)
		rc = oauth_client_credentials(acct, secret, &tok, err);
	if (rc == 0) {
		(void)snprintf(who, sizeof(who), "application %s",
		    acct->client_id != NULL ? acct->client_id : "?");
		rc = store_tokens(acct, st, &tok, who, err);
	}
	json_token_free(&tok);
	return rc;
}

static int
flow_device(const struct account *acct, struct store *st, const char *secret,
    struct err *err)
{
	struct json_token tok;
	struct account consent = *acct;	/* asks for api_scope too */
	char *scope = authcode_consent_scope(acct);
	int rc;

	if (scope != NULL)
		consent.scope = scope;
	rc = device_signin(&consent, secret, &tok, err);
	free(scope);
	if (rc == 0) {
		rc = store_tokens(acct, st, &tok, NULL, err);
		json_token_free(&tok);
	}
	return rc;
}

struct store_ctx {
	const struct account	*acct;
	struct store		*st;
};

static int
store_cb(void *arg, const struct json_token *tok, struct err *err)
{
	struct store_ctx *c = arg;

	return store_tokens(c->acct, c->st, tok, NULL, err);
}

static int
flow_authcode(const struct account *acct, struct store *st, int paste,
    const char *secret, struct err *err)
{
	struct store_ctx c;

	c.acct = acct;
	c.st = st;
	return authcode_signin(acct, paste, secret, store_cb, &c, err);
}

/*
 * Whether Microsoft refused the device flow itself (advice.c says how to
 * sign in instead): a Conditional Access policy on device code flows, a
 * confirmation only a browser can give, an app without a redirect URI.
 */
static int
device_refused(const struct err *err)
{
	static const char *const codes[] = {
		"AADSTS50199", "AADSTS53003", "AADSTS500113",
	};
	size_t i;

	for (i = 0; i < nitems(codes); i++)
		if (strstr(err->msg, codes[i]) != NULL)
			return 1;
	return 0;
}

/*
 * --- login_run -----------------------------------------------------------
 */

enum method { M_BROWSER, M_PASTE, M_DEVICE, M_CLIENT };

static int
pick_method(const struct account *acct, enum inv_login flow, enum method *m,
    struct err *err)
{
	int google = acct->provider == PROVIDER_GOOGLE;

	if (acct->flow == FLOW_CLIENT_CREDENTIALS) {
		if (flow != LOGIN_DEFAULT)
			log_warnx("account %s uses client credentials; "
			    "--device/--browser/--paste ignored", acct->name);
		*m = M_CLIENT;
		return 0;
	}
	if (google && (flow == LOGIN_DEVICE ||
	    (flow == LOGIN_DEFAULT && acct->flow == FLOW_DEVICE)))
		return err_set(err, flow == LOGIN_DEVICE ? ERR_USAGE :
		    ERR_CONFIG, "Google does not allow the device flow for "
		    "Gmail scopes (https://mail.google.com/); use 'oauthmail "
		    "login %s --browser', or --paste with no browser here",
		    acct->name);
	if (flow == LOGIN_DEVICE)
		*m = M_DEVICE;
	else if (flow == LOGIN_BROWSER)
		*m = M_BROWSER;
	else if (flow == LOGIN_PASTE)
		*m = M_PASTE;
	else if (acct->flow == FLOW_DEVICE)
		*m = M_DEVICE;
	else if (authcode_has_display())
		*m = M_BROWSER;
	else if (acct->flow == FLOW_AUTHCODE || google ||
	    acct->device_endpoint == NULL)
		*m = M_PASTE;
	else
		*m = M_DEVICE;
	if (*m == M_DEVICE && acct->device_endpoint == NULL)
		return err_set(err, ERR_CONFIG, "account %s has no "
		    "device_endpoint; add 'device_endpoint https://...' or "
		    "use --browser", acct->name);
	return 0;
}

int
login_run(const struct account *acct, enum inv_login flow, struct err *err)
{
	struct store *st = NULL;
	struct buf sec;
	enum method m;
	int rc, have;

	if (!conf_is_oauth(acct))
		return err_set(err, ERR_CONFIG, "account %s does not use "
		    "OAuth, so there is nothing to sign in to; for a password "
		    "account run 'oauthmail password %s'", acct->name,
		    acct->name);
	if (acct->client_id == NULL)
		return err_set(err, ERR_CONFIG, "account %s has no client_id",
		    acct->name);
	if (pick_method(acct, flow, &m, err) == -1)
		return -1;
	if (store_open_account(acct, &st, err) == -1)
		return -1;
	/* Optional for public clients; Google desktop clients need it. */
	buf_init(&sec, LIM_TOKEN, BUF_SECRET);
	have = store_get(st, acct->name, STORE_CLIENT_SECRET, &sec, err);
	if (have == -1) {
		buf_free(&sec);
		store_close(st);
		return -1;
	}
	switch (m) {
	case M_CLIENT:
		rc = flow_client_credentials(acct, st,
		    have == 0 ? buf_str(&sec) : NULL, err);
		break;
	case M_DEVICE:
		rc = flow_device(acct, st, have == 0 ? buf_str(&sec) : NULL,
		    err);
		/* Chosen for want of a display: the paste-back instead. */
		if (rc == -1 && flow == LOGIN_DEFAULT &&
		    acct->flow != FLOW_DEVICE && device_refused(err)) {
			fprintf(stderr, "%s: the device sign-in was refused "
			    "(%s); signing in by pasting back the address "
			    "instead\n", OM_PROGNAME, err->msg);
			err_clear(err);
			rc = flow_authcode(acct, st, 1, have == 0 ?
			    buf_str(&sec) : NULL, err);
		}
		break;
	case M_BROWSER:
	case M_PASTE:
	default:
		rc = flow_authcode(acct, st, m == M_PASTE, have == 0 ?
		    buf_str(&sec) : NULL, err);
		break;
	}
	buf_free(&sec);
	store_close(st);
	return rc;
}

/*
 * --- login_revoke --------------------------------------------------------
 */

void
login_revoke(const struct account *acct, struct store *st)
{
	struct token_record rec;
	struct buf b;
	struct err e;
	int rc;

	if (acct->revoke_endpoint == NULL || *acct->revoke_endpoint == '\0')
		return;
	buf_init(&b, LOGIN_RECORD_MAX, BUF_SECRET);
	err_clear(&e);
	if (store_get(st, acct->name, STORE_TOKEN, &b, &e) != 0) {
		buf_free(&b);
		return;
	}
	memset(&rec, 0, sizeof(rec));
	if (token_record_parse(&rec, b.data, b.len, &e) == 0) {
		if (rec.refresh_token != NULL)
			rc = oauth_revoke(acct, rec.refresh_token,
			    "refresh_token", &e);
		else
			rc = oauth_revoke(acct, rec.access_token,
			    "access_token", &e);
		if (rc == -1)
			log_info("account %s: revocation failed (ignored): %s",
			    acct->name, e.msg);
		else if (rc == 0)
			log_info("account %s: token revoked", acct->name);
	}
	token_record_free(&rec);
	buf_free(&b);
}

/*
 * --- login_send_held -----------------------------------------------------
 */

void
login_send_held(const struct config *cf, const struct account *acct)
{
	const struct account *qa = cf->def != NULL ? cf->def : acct;
	struct queue q;
	struct err err;
	size_t nheld, nsent;

	if (cf->system_mode)
		return;
	err_clear(&err);
	/* the queue of sendmail -q: the default account's queue_dir */
	if (queue_open(&q, qa->queue_dir, &err) == -1) {
		log_warnx("held mail not sent: %s; run 'oauthmail flush'",
		    err.msg);
		return;
	}
	(void)runq_send_held(cf, &q, acct, &nheld, &nsent, &err);
	queue_close(&q);
	if (nheld == 0)
		return;
	if (nsent == nheld)
		fprintf(stderr, "%s: %zu held message%s of account %s sent\n",
		    OM_PROGNAME, nsent, nsent == 1 ? "" : "s", acct->name);
	else
		fprintf(stderr, "%s: %zu of %zu held messages of account %s "
		    "sent; the rest stay queued (%s); see 'mailq'\n",
		    OM_PROGNAME, nsent, nheld, acct->name, err.msg);
}
