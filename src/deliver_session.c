/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * deliver_session.c -- the session of one account's delivery run
 * (deliver_session.h): the connection and its AUTH (a token, refreshed
 * once when the server refuses the cached one, or a password), sending
 * on it with one reconnection, the switch of transport auto to the API,
 * and sending over the API. deliver.c records what became of each entry.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "advice.h"
#include "api.h"
#include "apiswitch.h"
#include "buf.h"
#include "deliver_session.h"
#include "envelope.h"
#include "log.h"
#include "smtp.h"
#include "smtpreply.h"
#include "store.h"
#include "token.h"
#include "util.h"
#include "xmalloc.h"

static int
is_oauth_mech(enum conf_auth m)
{
	return m == AUTH_XOAUTH2 || m == AUTH_OAUTHBEARER;
}

const char *
dsession_user(const struct account *acct)
{
	return acct->user != NULL ? acct->user : acct->from;
}

static int
open_store(struct dsession *ds, struct err *err)
{
	if (ds->st != NULL)
		return 0;
	return store_open_lazy(ds->acct, &ds->st, err);
}

/* AUTH with the token (refreshed first if force); *cached: from cache. */
static int
auth_oauth(struct dsession *ds, int force, int *cached, struct err *err)
{
	struct buf tok;
	int r;

	*cached = 0;
	if (open_store(ds, err) == -1)
		return -1;
	buf_init(&tok, LIM_TOKEN, BUF_SECRET);
	if (token_get(ds->acct, ds->st, force, &tok, cached, err) == -1) {
		buf_free(&tok);
		return -1;
	}
	r = smtp_auth(ds->s, ds->mech, dsession_user(ds->acct), buf_str(&tok),
	    tok.len, err);
	buf_free(&tok);
	if (r == 0)
		token_mark_success(ds->acct, ds->st);
	return r;
}

static int
auth_password(struct dsession *ds, struct err *err)
{
	struct buf pw;
	int r;

	if (open_store(ds, err) == -1)
		return -1;
	buf_init(&pw, LIM_TOKEN, BUF_SECRET);
	r = store_get(ds->st, ds->acct->name, STORE_PASSWORD, &pw, err);
	if (r == 1) {
		buf_free(&pw);
		return err_set(err, ERR_CONFIG, "no password stored for account "
		    "'%s': run 'oauthmail password %s'", ds->acct->name,
		    ds->acct->name);
	}
	if (r == -1) {
		buf_free(&pw);
		return -1;
	}
	r = smtp_auth(ds->s, ds->mech, dsession_user(ds->acct), buf_str(&pw),
	    pw.len, err);
	buf_free(&pw);
	return r;
}

static void
drop_session(struct dsession *ds)
{
	smtp_close(ds->s);
	ds->s = NULL;
	ds->nsent = 0;
}

/* The log's relay=host[address]:port of the new connection. */
static void
note_relay(struct dsession *ds)
{
	char addr[64];

	smtp_peer_addr(ds->s, addr, sizeof(addr));
	(void)snprintf(ds->relay, sizeof(ds->relay), "%s[%s]:%d",
	    ds->acct->host, addr, conf_port(ds->acct));
	ds->connected = 1;
}

/* One connection and its AUTH; force: refresh the token first. */
static int
open_session(struct dsession *ds, int force, int *cached, struct err *err)
{
	int r;

	*cached = 0;
	if (smtp_connect(ds->acct, &ds->s, err) == -1)
		return -1;
	(void)strlcpy(ds->tls, smtp_tls_version(ds->s), sizeof(ds->tls));
	note_relay(ds);
	ds->mech = ds->acct->auth;
	if (ds->mech == AUTH_AUTO)
		ds->mech = smtp_pick_mech(ds->s, ds->acct);
	if (ds->mech == AUTH_NONE)
		return 0;
	if (is_oauth_mech(ds->mech))
		r = auth_oauth(ds, force, cached, err);
	else
		r = auth_password(ds, err);
	if (r == -1)
		drop_session(ds);
	return r;
}

/*
 * Connects and authenticates once per run. A cached token the server
 * refuses is refreshed once and tried once more on a new connection
 * (Exchange Online closes the connection after 535 5.7.3), unless the
 * reply says only an administrator can help (5.7.139: SMTP AUTH off).
 */
int
dsession_get(struct dsession *ds, struct err *err)
{
	int cached = 0;

	if (ds->s != NULL) {
		ds->connected = 1;
		return 0;
	}
	if (ds->failed) {
		*err = ds->failerr;
		return -1;
	}
	if (open_session(ds, 0, &cached, err) == 0) {
		ds->smtp_ok = 1;
		return 0;
	}
	if (err->class == ERR_AUTH && cached &&
	    smtpreply_react(err->msg) != ADV_HOLD) {
		log_info("%s: server refused the cached token (%s); refreshing "
		    "and reconnecting", ds->acct->name, err->msg);
		if (open_session(ds, 1, &cached, err) == 0) {
			ds->smtp_ok = 1;
			return 0;
		}
	}
	ds->failed = 1;
	ds->failerr = *err;
	return -1;
}

/* 1 if the failure of a reused session may be retried on a new one. */
static int
may_reconnect(const struct dsession *ds, const struct err *e)
{
	if (ds->nsent == 0 || smtp_content_sent(ds->s))
		return 0;
	if (smtpreply_react(e->msg) == ADV_RECONNECT)
		return 1;
	/* Closed without a reply while idle. */
	return e->smtp_code == 0 && (e->class == ERR_TEMP ||
	    e->class == ERR_IO);
}

/*
 * Sends one entry on the run's session. A server that closed an idle
 * session (421 4.4.2, or no reply) before the content went out gets one
 * new connection. Throttling, a sending limit, or a mailbox that may not
 * send stop the account's run: the rest is deferred without a new
 * connection and AUTH per message.
 */
int
dsession_send(struct dsession *ds, struct envelope *env, int msgfd,
    struct err *e)
{
	enum advice_react react;
	int again = 1;

	for (;;) {
		if (smtp_send(ds->s, env, msgfd, e) == 0) {
			ds->nsent++;
			return 0;
		}
		if (e->class == ERR_PERM)
			return -1;	/* the session goes on */
		if (!again || !may_reconnect(ds, e))
			break;
		again = 0;
		log_info("%s: %s; reconnecting", ds->acct->name, e->msg);
		drop_session(ds);
		if (dsession_get(ds, e) == -1)
			return -1;
	}
	react = smtpreply_react(e->msg);
	drop_session(ds);
	if (e->class == ERR_AUTH || react == ADV_THROTTLE ||
	    react == ADV_LIMIT || e->smtp_code == 421) {
		log_info("%s: %s; the rest of this run waits", ds->acct->name,
		    e->msg);
		ds->failed = 1;
		ds->failerr = *e;
	}
	return -1;
}

/*
 * transport auto: SMTP AUTH is off for the mailbox (err), so the account
 * switches to its provider's API for a day (apiswitch.h), from this
 * entry on. -1 (err unchanged) if that is not the case.
 */
int
dsession_switch_to_api(struct dsession *ds, struct err *err)
{
	struct err e2;

	if (ds->acct->transport != TRANSPORT_AUTO ||
	    ds->transport != TRANSPORT_SMTP ||
	    !apiswitch_smtp_auth_off(err, ds->mech))
		return -1;
	ds->transport = conf_api_transport(ds->acct);
	log_warnx("account %s: SMTP AUTH refused (%s); sending over %s "
	    "instead, SMTP is tried again in 24 hours", ds->acct->name,
	    err->msg, api_name(ds->transport));
	err_clear(&e2);
	if (apiswitch_set(ds->q, ds->acct->name, time(NULL), err->msg,
	    &e2) == -1)
		log_warnx("account %s: %s", ds->acct->name, e2.msg);
	ds->failed = 0;
	err_clear(err);
	return 0;
}

/*
 * Sends one entry over the account's HTTPS API (api.h). The recipients'
 * states are set here: all sent, or all failed for a refusal of the
 * message; a throttled, limited, held or unreachable API stops the
 * account's run: the rest is deferred (or held) without a request each,
 * as the SMTP path does on 421 (dsession_send), and waits as long as
 * the API asked (dsession_api_retry_at).
 */
int
dsession_send_api(struct dsession *ds, struct envelope *env, int msgfd,
    struct err *e)
{
	char reply[LIM_SMTP_REPLY];
	size_t i;

	if (ds->failed) {
		*e = ds->failerr;
		return -1;
	}
	if (open_store(ds, e) == -1 || api_send(ds->acct, ds->st,
	    ds->transport, env, msgfd, &ds->api, e) == -1) {
		if (e->class == ERR_PERM) {
			for (i = 0; i < env->nrcpts; i++) {
				struct rcpt *rc = &env->rcpts[i];

				if (rc->state == RCPT_SENT ||
				    rc->state == RCPT_FAILED)
					continue;
				rc->state = RCPT_FAILED;
				free(rc->reply);
				rc->reply = xstrdup(e->msg);
			}
			return -1;
		}
		log_info("%s: %s; the rest of this run waits", ds->acct->name,
		    e->msg);
		ds->failed = 1;
		ds->failerr = *e;
		ds->fail_wait = ds->api.retry_after;
		return -1;
	}
	(void)snprintf(reply, sizeof(reply), "%ld accepted by %s%s%s",
	    ds->api.status, api_name(ds->transport),
	    ds->api.request_id[0] ? " request-id " : "", ds->api.request_id);
	for (i = 0; i < env->nrcpts; i++) {
		struct rcpt *rc = &env->rcpts[i];

		if (rc->state == RCPT_SENT || rc->state == RCPT_FAILED)
			continue;
		rc->state = RCPT_SENT;
		free(rc->reply);
		rc->reply = xstrdup(reply);
	}
	return 0;
}

/*
 * When an entry the API deferred, or one that waits behind the reply
 * that stopped the run, is tried again: after the time the API asked for
 * and, for a sending limit (ADV_LIMIT), at least API_LIMIT_WAIT; 0: the
 * usual backoff.
 */
time_t
dsession_api_retry_at(const struct dsession *ds, const struct err *e)
{
	long long wait = ds->failed ? ds->fail_wait : ds->api.retry_after;

	if (smtpreply_react(e->msg) == ADV_LIMIT && wait < API_LIMIT_WAIT)
		wait = API_LIMIT_WAIT;
	if (wait > API_RETRY_AFTER_MAX)
		wait = API_RETRY_AFTER_MAX;
	return wait > 0 ? time(NULL) + (time_t)wait : 0;
}

void
dsession_init(struct dsession *ds, const struct config *cf,
    const struct account *acct, struct queue *q)
{
	memset(ds, 0, sizeof(*ds));
	ds->cf = cf;
	ds->acct = acct;
	ds->mech = acct->auth;
	ds->q = q;
	ds->transport = apiswitch_transport(q, acct, time(NULL));
}

void
dsession_end(struct dsession *ds)
{
	smtp_close(ds->s);
	ds->s = NULL;
	if (ds->smtp_ok && ds->acct->transport == TRANSPORT_AUTO) {
		struct err e2;

		/* SMTP works again: the switch to the API is over. */
		err_clear(&e2);
		if (apiswitch_clear(ds->q, ds->acct->name, &e2) == -1)
			log_warnx("account %s: %s", ds->acct->name, e2.msg);
	}
	if (ds->st != NULL)
		store_close(ds->st);
	ds->st = NULL;
}
