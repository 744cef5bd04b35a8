/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * device.c -- device authorization sign-in (RFC 8628); see device.h.
 */
#include "common.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "device.h"
#include "json.h"
#include "loopback.h"
#include "oauth.h"
#include "status.h"
#include "util.h"

#define DEVICE_INTERVAL_MAX	300	/* seconds between two polls */

int
device_wait(const struct device_poller *p, long long interval,
    long long expires_in, struct json_token *out, struct err *err)
{
	const char *acct = p->account != NULL ? p->account : "ACCOUNT";
	time_t deadline;
	int rc;

	json_token_init(out);
	if (interval < 1)
		interval = 5;
	if (interval > DEVICE_INTERVAL_MAX)
		interval = DEVICE_INTERVAL_MAX;
	if (expires_in <= 0)
		expires_in = 900;
	deadline = p->now(p->arg) + (time_t)expires_in;
	for (;;) {
		if (p->sleep(p->arg, (unsigned int)interval) == -1)
			return err_set(err, ERR_AUTH, "sign-in interrupted; "
			    "nothing was stored");
		if (p->now(p->arg) >= deadline)
			return err_set(err, ERR_AUTH, "the code expired; run "
			    "'oauthmail login %s' again", acct);
		json_token_free(out);
		rc = p->poll(p->arg, out, err);
		switch (rc) {
		case 0:
			return 0;
		case OAUTH_POLL_PENDING:
			continue;
		case OAUTH_POLL_SLOW_DOWN:
			/* RFC 8628 §3.5: this and all later requests. */
			if (interval < DEVICE_INTERVAL_MAX)
				interval += 5;
			continue;
		default:
			break;
		}
		if (out->error != NULL && strcmp(out->error,
		    "expired_token") == 0)
			rc = err_set(err, ERR_AUTH, "the code expired; run "
			    "'oauthmail login %s' again", acct);
		else if (out->error != NULL &&
		    (strcmp(out->error, "access_denied") == 0 ||
		    strcmp(out->error, "authorization_declined") == 0))
			rc = err_set(err, ERR_AUTH, "sign-in was declined "
			    "(account %s)", acct);
		json_token_free(out);
		return -1;
	}
}

struct device_ctx {
	const struct account	*acct;
	const char		*device_code;
	const char		*secret;
	const struct loopback_sig *sig;
	struct loopback_status	 status;
	long long		 deadline;	/* ms, loopback_now_ms */
};

static int
device_poll(void *arg, struct json_token *out, struct err *err)
{
	struct device_ctx *c = arg;

	return oauth_device_poll(c->acct, c->device_code, c->secret, out,
	    err);
}

static int
device_sleep(void *arg, unsigned int secs)
{
	struct device_ctx *c = arg;
	long long end = loopback_now_ms() + (long long)secs * 1000, left;

	/* In steps that keep the status line (if any) up to date. */
	while ((left = end - loopback_now_ms()) > 0) {
		loopback_status_show(&c->status, "waiting for the sign-in",
		    c->deadline - loopback_now_ms());
		if (loopback_wait_fd(c->sig, -1, loopback_status_next(
		    &c->status, left)) != 0)
			return -1;
	}
	return 0;
}

static time_t
device_now(void *arg)
{
	(void)arg;
	return time(NULL);
}

/* Prints text from the server on stderr, sanitised. */
static void
say_untrusted(const char *prefix, const char *text)
{
	char clean[1024];

	util_sanitize(clean, sizeof(clean), text, strlen(text));
	fprintf(stderr, "%s%s\n", prefix, clean);
}

int
device_signin(const struct account *acct, const char *secret,
    struct json_token *tok, struct err *err)
{
	struct json_token da;
	struct device_ctx ctx;
	struct device_poller p;
	struct loopback_sig sig;
	int rc;

	json_token_init(tok);
	if (oauth_device_authorize(acct, secret, &da, err) == -1) {
		json_token_free(&da);
		return -1;
	}
	/* Ctrl-C is ours before the code is shown: one may follow at once. */
	loopback_sig_begin(&sig);
	fprintf(stderr, "%s: to sign in account %s:\n", OM_PROGNAME,
	    acct->name);
	if (da.message != NULL)
		say_untrusted("  ", da.message);
	else {
		say_untrusted("  open   ", da.verification_uri);
		say_untrusted("  enter  ", da.user_code);
	}
	if (da.verification_uri_complete != NULL)
		say_untrusted("  (or open ", da.verification_uri_complete);
	fprintf(stderr, "  waiting up to %lld minutes; Ctrl-C to stop\n",
	    (da.expires_in + 59) / 60);
	(void)fflush(stderr);

	ctx.acct = acct;
	ctx.device_code = da.device_code;
	ctx.secret = secret;
	ctx.sig = &sig;
	ctx.deadline = loopback_now_ms() + (da.expires_in > 0 ?
	    da.expires_in : 900) * 1000;
	loopback_status_init(&ctx.status, 1);
	p.poll = device_poll;
	p.sleep = device_sleep;
	p.now = device_now;
	p.arg = &ctx;
	p.account = acct->name;
	rc = device_wait(&p, da.interval, da.expires_in, tok, err);
	loopback_status_clear(&ctx.status);
	loopback_sig_end(&sig);
	json_token_free(&da);
	if (rc == 0 && loopback_interrupted())
		rc = err_set(err, ERR_AUTH, "sign-in interrupted; nothing "
		    "was stored");
	if (rc == -1)
		json_token_free(tok);
	return rc;
}

