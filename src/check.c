/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * check.c -- `oauthmail check ACCOUNT`; see check.h.
 */
#include "common.h"

#include <sys/socket.h>

#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "advice.h"
#include "api.h"
#include "apiswitch.h"
#include "buf.h"
#include "check.h"
#include "conf.h"
#include "json.h"
#include "smtp.h"
#include "smtpreply.h"
#include "status.h"
#include "store.h"
#include "token.h"
#include "util.h"

/* Rewrites err as "STEP: what; fix" and returns -1. */
static int
check_fail(const struct account *acct, struct err *err, const char *step)
{
	(void)err_prefix(err, "%s", step);
	/* Adds the fix unless oauth.c already gave it. */
	(void)advice_add_fix(err, acct->name, acct->user != NULL ?
	    acct->user : acct->from);
	if (err->class == ERR_NONE)
		err->class = ERR_INTERNAL;
	return -1;
}

static int
check_dns(const struct account *acct, FILE *out, struct err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	char port[16], host[NI_MAXHOST];
	int r, n = 0;

	(void)snprintf(port, sizeof(port), "%d", conf_port(acct));
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((r = getaddrinfo(acct->host, port, &hints, &res)) != 0)
		return err_set(err, r == EAI_AGAIN ? ERR_TEMP : ERR_NOHOST,
		    "%s does not resolve (%s); check 'host' for account %s "
		    "and the resolver", acct->host, gai_strerror(r),
		    acct->name);
	fprintf(out, "dns: %s ->", acct->host);
	for (ai = res; ai != NULL && n < 8; ai = ai->ai_next) {
		if (getnameinfo(ai->ai_addr, ai->ai_addrlen, host,
		    sizeof(host), NULL, 0, NI_NUMERICHOST) != 0)
			continue;
		fprintf(out, " %s", host);
		n++;
	}
	fprintf(out, "\n");
	freeaddrinfo(res);
	return 0;
}

/* Warn when the server certificate expires within this many days. */
#define CHECK_CERT_WARN_DAYS	14

static void
check_cert(struct smtp_session *s, FILE *out)
{
	char subject[512], issuer[512], v[512], when[64];
	time_t not_after, now = time(NULL);
	long long days;
	struct tm tm;

	if (smtp_tls_peer(s, subject, sizeof(subject), issuer,
	    sizeof(issuer), &not_after) == -1)
		return;
	util_sanitize(v, sizeof(v), subject, strlen(subject));
	fprintf(out, "certificate subject: %s\n", v);
	util_sanitize(v, sizeof(v), issuer, strlen(issuer));
	fprintf(out, "certificate issuer: %s\n", v);
	if (not_after <= 0 || gmtime_r(&not_after, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
		return;
	days = ((long long)not_after - (long long)now) / 86400;
	fprintf(out, "certificate expires: %s (in %lld days)\n", when, days);
	if (not_after - now < CHECK_CERT_WARN_DAYS * 86400)
		fprintf(out, "warning: the server certificate expires in "
		    "%lld days (%s); tell the server's administrator\n", days,
		    when);
}

static void
check_caps(struct smtp_session *s, FILE *out)
{
	static const struct {
		unsigned	 bit;
		const char	*name;
	} names[] = {
		{ SMTP_CAP_STARTTLS, "STARTTLS" },
		{ SMTP_CAP_PIPELINING, "PIPELINING" },
		{ SMTP_CAP_SIZE, "SIZE" },
		{ SMTP_CAP_8BITMIME, "8BITMIME" },
		{ SMTP_CAP_SMTPUTF8, "SMTPUTF8" },
		{ SMTP_CAP_DSN, "DSN" },
		{ SMTP_CAP_ENHANCED, "ENHANCEDSTATUSCODES" },
	};
	unsigned caps = smtp_caps(s);
	const char *mechs = smtp_auth_offered(s);
	size_t i;

	fprintf(out, "capabilities:");
	for (i = 0; i < nitems(names); i++)
		if (caps & names[i].bit)
			fprintf(out, " %s", names[i].name);
	if (caps & SMTP_CAP_AUTH)
		fprintf(out, " AUTH(%s)", mechs != NULL ? mechs : "");
	fprintf(out, "\n");
}

static void
check_claims(const struct account *acct, const char *token, FILE *out)
{
	struct json_jwt j;
	struct err e;
	char v[512], when[64], fixbuf[400];
	const char *fix;
	struct tm tm;
	time_t t;

	memset(&j, 0, sizeof(j));
	if (json_jwt_claims(token, &j, &e) == -1) {
		fprintf(out, "token: opaque (not a JWT; normal for personal "
		    "Microsoft accounts and Google)\n");
		return;
	}
#define CLAIM(name, val) do {						\
	if ((val) != NULL) {						\
		util_sanitize(v, sizeof(v), (val), strlen(val));	\
		fprintf(out, "token %s: %s\n", (name), v);		\
	}								\
} while (0)
	CLAIM("aud", j.aud);
	CLAIM("scp", j.scp);
	CLAIM("roles", j.roles);
	CLAIM("user", j.upn);
	CLAIM("tid", j.tid);
#undef CLAIM
	if (j.exp > 0) {
		t = (time_t)j.exp;
		if (gmtime_r(&t, &tm) != NULL &&
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S UTC",
		    &tm) > 0)
			fprintf(out, "token exp: %s\n", when);
	}
	if (j.aud != NULL &&
	    (fix = advice_account(acct, j.aud, fixbuf, sizeof(fixbuf))) != NULL)
		fprintf(out, "warning: %s\n", fix);
	json_jwt_free(&j);
}

/* Gets the secret to authenticate with: a token or a password. */
static int
check_secret(const struct account *acct, struct store *st, int force,
    struct buf *secret, FILE *out, struct err *err)
{
	int cached = 0, rc;

	buf_reset(secret);
	if (!conf_is_oauth(acct)) {
		rc = store_get(st, acct->name, STORE_PASSWORD, secret, err);
		if (rc == 1)
			return err_set(err, ERR_CONFIG, "the keyring has no "
			    "password for account %s: run 'oauthmail password "
			    "%s'", acct->name, acct->name);
		if (rc == 0)
			fprintf(out, "password: found in %s\n",
			    store_backend_name(st));
		return rc;
	}
	if (token_get(acct, st, force, secret, &cached, err) == -1)
		return -1;
	if (cached == TOKEN_FROM_COPY)
		fprintf(out, "token: cached in the kernel copy (kernel keyring; "
		    "record: %s)\n", store_backend_name(st));
	else
		fprintf(out, "token: %s (%s)\n", cached ?
		    "cached in the keyring" : "freshly refreshed",
		    store_backend_name(st));
	check_claims(acct, buf_str(secret), out);
	return 0;
}

/*
 * The API path (transport graph, gmail-api, or auto switched): the API's
 * access token, fetched as a send would, and its claims. It proves the
 * sign-in covers the API's scope; the mailbox's own right to send is
 * checked by the API only when a message goes out.
 */
static int
check_api(const struct account *acct, struct store *st, FILE *out,
    struct err *err)
{
	enum conf_transport t = conf_api_transport(acct);
	struct buf tok;
	int rc;

	fprintf(out, "api: %s (%s)\n", api_name(t), t == TRANSPORT_GRAPH ?
	    acct->graph_endpoint : acct->gmail_endpoint);
	buf_init(&tok, LIM_TOKEN, BUF_SECRET);
	rc = token_get_api(acct, st, 0, &tok, err);
	if (rc == 0) {
		fprintf(out, "api token: obtained for scope %s\n",
		    acct->api_scope);
		check_claims(acct, buf_str(&tok), out);
		fprintf(out, "api: the sign-in covers %s; whether the mailbox "
		    "may send (Mail.Send granted, no access policy against "
		    "it) shows only when a message is sent%s\n", api_name(t),
		    t == TRANSPORT_GRAPH ? "; Graph keeps a copy of each "
		    "message in Sent Items" : "");
	}
	buf_free(&tok);
	return rc;
}

int
check_account(const struct account *acct, FILE *out, struct err *err)
{
	struct smtp_session *s = NULL;
	struct store *st = NULL;
	struct buf secret;
	enum conf_auth mech;
	const char *user, *tlsv;
	int rc = -1;

	buf_init(&secret, LIM_TOKEN, BUF_SECRET);
	if (acct->transport == TRANSPORT_GRAPH ||
	    acct->transport == TRANSPORT_GMAIL) {
		fprintf(out, "account %s: transport %s (SMTP not used)\n",
		    acct->name, conf_transport_name(acct->transport));
		if (store_open_account(acct, &st, err) == -1) {
			rc = check_fail(acct, err, "keyring");
			goto out;
		}
		if ((rc = check_api(acct, st, out, err)) == -1) {
			rc = check_fail(acct, err, "api");
			goto out;
		}
		goto done;
	}
	fprintf(out, "account %s: %s port %d (%s)\n", acct->name,
	    acct->host != NULL ? acct->host : "(no host)", conf_port(acct),
	    !acct->tls ? "no TLS" : acct->tls_starttls ? "STARTTLS" :
	    "implicit TLS");
	if (acct->host == NULL) {
		rc = err_set(err, ERR_CONFIG, "account %s has no host",
		    acct->name);
		goto out;
	}
	if (check_dns(acct, out, err) == -1) {
		rc = check_fail(acct, err, "dns");
		goto out;
	}
	if (smtp_connect(acct, &s, err) == -1) {
		rc = check_fail(acct, err, "connect");
		goto out;
	}
	tlsv = smtp_tls_version(s);
	fprintf(out, "connect: ok, %s\n", tlsv != NULL && *tlsv != '\0' ?
	    tlsv : "no TLS");
	check_cert(s, out);
	check_caps(s, out);
	if (acct->auth == AUTH_NONE) {
		fprintf(out, "auth: off for this account (not tried)\n");
		rc = 0;
		goto done;
	}
	if (store_open_account(acct, &st, err) == -1) {
		rc = check_fail(acct, err, "keyring");
		goto out;
	}
	if (check_secret(acct, st, 0, &secret, out, err) == -1) {
		rc = check_fail(acct, err, "token");
		goto out;
	}
	mech = smtp_pick_mech(s, acct);
	user = acct->user != NULL ? acct->user : acct->from;
	if (user == NULL) {
		rc = err_set(err, ERR_CONFIG, "account %s has neither user "
		    "nor from: add 'user <mailbox address>'", acct->name);
		goto out;
	}
	rc = smtp_auth(s, mech, user, secret.data, secret.len, err);
	/*
	 * A cached token may be stale: refresh once and retry once, on a
	 * new connection (Exchange Online closes it after 535 5.7.3);
	 * not when only an administrator can help (advice.h).
	 */
	if (rc == -1 && err->class == ERR_AUTH && conf_is_oauth(acct) &&
	    acct->flow != FLOW_CLIENT_CREDENTIALS &&
	    smtpreply_react(err->msg) != ADV_HOLD) {
		fprintf(out, "auth: refused (%s); refreshing the token and "
		    "trying once more on a new connection\n", err->msg);
		if (check_secret(acct, st, 1, &secret, out, err) == -1) {
			rc = check_fail(acct, err, "token");
			goto out;
		}
		smtp_close(s);
		if (smtp_connect(acct, &s, err) == -1) {
			rc = check_fail(acct, err, "connect");
			goto out;
		}
		mech = smtp_pick_mech(s, acct);
		rc = smtp_auth(s, mech, user, secret.data, secret.len, err);
	}
	if (rc == -1 && acct->transport == TRANSPORT_AUTO &&
	    apiswitch_smtp_auth_off(err, mech)) {
		fprintf(out, "auth: refused (%s); transport auto sends over "
		    "%s instead\n", err->msg,
		    api_name(conf_api_transport(acct)));
		if ((rc = check_api(acct, st, out, err)) == -1) {
			rc = check_fail(acct, err, "api");
			goto out;
		}
		goto done;
	}
	if (rc == -1) {
		rc = check_fail(acct, err, "auth");
		goto out;
	}
	fprintf(out, "auth: %s as %s: authenticated\n", smtp_mech_name(mech),
	    user);
	/* auto: the way out when SMTP AUTH is turned off must work too. */
	if (acct->transport == TRANSPORT_AUTO &&
	    (rc = check_api(acct, st, out, err)) == -1) {
		rc = check_fail(acct, err, "api");
		goto out;
	}
	if (conf_is_oauth(acct))
		token_mark_success(acct, st);
done:
	fprintf(out, "ok: account %s is ready to send (nothing was sent)\n",
	    acct->name);
out:
	smtp_close(s);
	if (st != NULL)
		store_close(st);
	buf_free(&secret);
	(void)fflush(out);
	return rc;
}
