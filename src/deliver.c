/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * deliver.c -- delivery attempts for queued entries of one account; see
 * deliver.h. One session (deliver_session.h: one SMTP connection and one
 * token) serves every entry of a run; here each entry is loaded, tried on
 * it, and its recipients' outcomes are logged and recorded.
 */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "advice.h"
#include "bounce.h"
#include "deliver.h"
#include "deliver_session.h"
#include "envelope.h"
#include "log.h"
#include "queue.h"
#include "smtp.h"
#include "smtpreply.h"
#include "util.h"
#include "xmalloc.h"

/* The length of the enhanced status code at p ("4.2.0"), or 0. */
static size_t
esc_len(const char *p)
{
	const char *q = p;
	int part, n;

	if (*q != '2' && *q != '4' && *q != '5')
		return 0;
	q++;
	for (part = 0; part < 2; part++) {
		if (*q++ != '.')
			return 0;
		for (n = 0; n < 3 && isdigit((unsigned char)*q); n++)
			q++;
		if (n == 0)
			return 0;
	}
	if (isdigit((unsigned char)*q) ||
	    (*q == '.' && isdigit((unsigned char)q[1])))
		return 0;	/* an address such as 5.5.5.5 */
	return (size_t)(q - p);
}

/*
 * The enhanced status code of a reply text ("... 451 4.2.0 ..."), with
 * the class of the outcome, as Postfix logs it (2 sent, 4 waiting, 5
 * failed); without one, "C.0.0".
 */
static void
dsn_of(const char *text, const char *state, char *dsn, size_t size)
{
	const char *p;
	size_t n;
	char c = strcmp(state, "sent") == 0 ? '2' :
	    strcmp(state, "failed") == 0 ? '5' : '4';

	(void)snprintf(dsn, size, "%c.0.0", c);
	for (p = text; *p != '\0'; p++) {
		if ((p != text && p[-1] != ' ') || (n = esc_len(p)) == 0 ||
		    n >= size)
			continue;
		memcpy(dsn, p, n);
		dsn[n] = '\0';
		dsn[0] = c;
		return;
	}
}

static const char *
rcpt_status(const struct rcpt *rc, enum deliver_outcome out)
{
	if (rc->state == RCPT_SENT)
		return "sent";
	if (rc->state == RCPT_FAILED)
		return "failed";
	return out == DOUT_HELD ? "held" : "deferred";
}

/* was_open[i]: to go before the attempt; the server replied about it. */
#define RCPT_OPEN	0x01
#define RCPT_FRESH	0x02

/*
 * Puts the recipients' replies of earlier attempts aside (save) so that
 * the ones of this attempt can be told apart, then (restore) keeps the
 * new reply, or the old one for a recipient this attempt did not reach.
 */
static void
replies_aside(struct envelope *env, char **old, unsigned char *was_open,
    int restore)
{
	size_t i;

	for (i = 0; i < env->nrcpts; i++) {
		if (!(was_open[i] & RCPT_OPEN))
			continue;
		if (!restore) {
			old[i] = env->rcpts[i].reply;
			env->rcpts[i].reply = NULL;
		} else if (env->rcpts[i].reply == NULL)
			env->rcpts[i].reply = old[i];
		else {
			was_open[i] |= RCPT_FRESH;
			free(old[i]);
		}
	}
}

/*
 * One line per recipient of this attempt (those still to go before it),
 * Postfix-like: to=<> [orig_to=<>] account= from=<> [relay=host[ip]:port
 * tls= auth=] delay= attempts= size= dsn= transport= status=S (text). The
 * relay fields only when a connection served the attempt. whole: the
 * error of the whole message (its text for every recipient not sent).
 */
static void
log_rcpts(const struct dsession *ds, const struct envelope *env,
    const unsigned char *was_open, enum deliver_outcome out,
    const char *whole)
{
	struct timespec now;
	char dsn[32], relay[400];
	const char *st, *text;
	double delay;
	size_t i;

	(void)clock_gettime(CLOCK_REALTIME, &now);
	delay = (double)(now.tv_sec - env->created) + now.tv_nsec / 1e9;
	relay[0] = '\0';
	if (ds->transport != TRANSPORT_SMTP)
		(void)snprintf(relay, sizeof(relay), " request-id=%s",
		    ds->api.request_id[0] ? ds->api.request_id : "-");
	else if (ds->connected)
		(void)snprintf(relay, sizeof(relay), " relay=%s tls=%s auth=%s",
		    ds->relay, ds->tls[0] != '\0' ? ds->tls : "none",
		    smtp_mech_name(ds->mech));
	for (i = 0; i < env->nrcpts; i++) {
		const struct rcpt *rc = &env->rcpts[i];

		if (!(was_open[i] & RCPT_OPEN))
			continue;
		st = rcpt_status(rc, out);
		if (rc->reply != NULL && (whole == NULL ||
		    (was_open[i] & RCPT_FRESH) || rc->state == RCPT_FAILED))
			text = rc->reply;
		else
			text = whole != NULL ? whole : "";
		dsn_of(text, st, dsn, sizeof(dsn));
		log_summary("to=<%s>%s%s%s account=%s from=<%s>%s delay=%.1f "
		    "attempts=%d size=%lld dsn=%s transport=%s status=%s "
		    "(%s)", rc->addr, rc->orig != NULL ? " orig_to=<" : "",
		    rc->orig != NULL ? rc->orig : "",
		    rc->orig != NULL ? ">" : "", ds->acct->name, env->sender,
		    relay, delay < 0 ? 0.0 : delay, env->attempts +
		    (out == DOUT_SENT ? 1 : 0),
		    (long long)env->size, dsn,
		    conf_transport_name(ds->transport), st, text);
	}
}

static void
set_last_error(struct envelope *env, const char *msg)
{
	free(env->last_error);
	env->last_error = xstrdup(msg);
}

/* Whether the failed recipients of env get a DSN (flags: DELIVER_*). */
static int
wants_bounce(const struct envelope *env, int flags, size_t nsent)
{
	if (env->is_bounce || env->sender[0] == '\0')
		return 0;
	return (flags & DELIVER_BOUNCE) ||
	    ((flags & DELIVER_BOUNCE_PARTIAL) && nsent > 0);
}

/*
 * Queues the DSN for the failed recipients of env not reported yet and
 * records them as reported (in place, so that a crash or a full disk
 * before the move to failed/ does not send the DSN twice). -1 if it could
 * not be queued: the caller keeps the entry for a later run.
 */
static int
queue_bounce(struct queue *q, enum queue_area area, struct envelope *env,
    int msgfd)
{
	struct err e2;
	size_t i, n = 0;

	for (i = 0; i < env->nrcpts; i++)
		if (env->rcpts[i].state == RCPT_FAILED &&
		    !env->rcpts[i].reported)
			n++;
	if (n == 0)
		return 0;	/* queued by an earlier run */
	err_clear(&e2);
	if (bounce_queue(q, env, msgfd, util_hostname(), NULL, &e2) == -1) {
		log_warnx("could not queue a bounce (%s); the entry stays in "
		    "the queue and a later run tries again", e2.msg);
		return -1;
	}
	for (i = 0; i < env->nrcpts; i++)
		if (env->rcpts[i].state == RCPT_FAILED)
			env->rcpts[i].reported = 1;
	if (queue_mark(q, area, env, &e2) == -1)
		log_warnx("%s", e2.msg);
	return 0;
}

/*
 * Decides and records the entry's new state after an attempt whose
 * whole-message error (if any) is in e. The recipients' states are
 * recorded in place first (queue_mark), so that what the server accepted
 * is never sent again, even when the disk is too full for queue_update.
 */
static enum deliver_outcome
settle(struct dsession *ds, struct queue *q, enum queue_area area,
    struct envelope *env, int msgfd, int flags, int failed_whole,
    struct err *e)
{
	size_t i, nsent = 0, nfailed = 0, nopen = 0;
	time_t now = time(NULL);
	struct err e2;
	const char *why;

	for (i = 0; i < env->nrcpts; i++) {
		switch (env->rcpts[i].state) {
		case RCPT_SENT:		nsent++; break;
		case RCPT_FAILED:	nfailed++; break;
		default:		nopen++; break;
		}
	}
	if (nopen == 0 && nfailed == 0) {
		env->state = ENV_SENT;
		/* Removal is the record; if it fails, the marks must do. */
		if (queue_remove(q, area, env->id, &e2) == -1) {
			log_warnx("%s", e2.msg);
			if (queue_mark(q, area, env, &e2) == -1)
				log_warnx("%s", e2.msg);
		}
		return DOUT_SENT;
	}
	if (nsent + nfailed > 0 && queue_mark(q, area, env, &e2) == -1)
		log_warnx("%s", e2.msg);
	why = failed_whole ? e->msg : NULL;
	if (why == NULL) {
		for (i = 0; i < env->nrcpts; i++)
			if (env->rcpts[i].state != RCPT_SENT &&
			    env->rcpts[i].reply != NULL) {
				why = env->rcpts[i].reply;
				break;
			}
	}
	/* No reply at hand (only bookkeeping was left): keep the last one. */
	if (why != NULL || env->last_error == NULL)
		set_last_error(env, why != NULL ? why : "unknown error");
	why = env->last_error;	/* a copy: the replies may be replaced */
	env->attempts++;

	if (nopen > 0 && failed_whole && e->class == ERR_AUTH) {
		env->state = ENV_HELD;
		env->next_try = now;
		if (queue_update(q, area, env, &e2) == -1)
			log_warnx("%s", e2.msg);
		if (area != QAREA_HOLD &&
		    queue_move(q, env->id, area, QAREA_HOLD, &e2) == -1)
			log_warnx("%s", e2.msg);
		return DOUT_HELD;
	}
	if (nopen > 0 && now - env->created > QUEUE_LIFETIME) {
		for (i = 0; i < env->nrcpts; i++) {
			struct rcpt *r = &env->rcpts[i];

			if (r->state == RCPT_SENT || r->state == RCPT_FAILED)
				continue;
			r->state = RCPT_FAILED;
			free(r->reply);
			r->reply = xasprintf("delivery time expired; last "
			    "error: %s", why);
			nfailed++;
		}
		nopen = 0;
	}
	if (nopen > 0) {
		env->state = ENV_QUEUED;
		env->next_try = now + queue_backoff(env->attempts);
		if (ds->retry_at > env->next_try)
			env->next_try = ds->retry_at;	/* a sending limit */
		if (queue_update(q, area, env, &e2) == -1)
			log_warnx("%s", e2.msg);
		if (area == QAREA_HOLD &&
		    queue_move(q, env->id, area, QAREA_ACTIVE, &e2) == -1)
			log_warnx("%s", e2.msg);
		return DOUT_DEFERRED;
	}
	/* Every remaining recipient failed permanently. */
	if (wants_bounce(env, flags, nsent) &&
	    queue_bounce(q, area, env, msgfd) == -1) {
		/* Not to failed/, which no run looks at: the DSN is owed. */
		env->state = ENV_QUEUED;
		env->next_try = now + queue_backoff(env->attempts);
		if (queue_update(q, area, env, &e2) == -1)
			log_warnx("%s", e2.msg);
		if (area == QAREA_HOLD &&
		    queue_move(q, env->id, area, QAREA_ACTIVE, &e2) == -1)
			log_warnx("%s", e2.msg);
		return nsent > 0 ? DOUT_PARTIAL : DOUT_FAILED;
	}
	env->state = ENV_FAILED;
	if (queue_update(q, area, env, &e2) == -1) {
		log_warnx("%s", e2.msg);
		/* failed/ is for people to read: at least the states. */
		if (queue_mark(q, area, env, &e2) == -1)
			log_warnx("%s", e2.msg);
	}
	if (queue_move(q, env->id, area, QAREA_FAILED, &e2) == -1)
		log_warnx("%s", e2.msg);
	return nsent > 0 ? DOUT_PARTIAL : DOUT_FAILED;
}

/* A sending limit was reached: by the whole message or a recipient. */
static int
limited(const struct envelope *env, int whole, const struct err *e)
{
	size_t i;

	if (whole)
		return smtpreply_react(e->msg) == ADV_LIMIT;
	for (i = 0; i < env->nrcpts; i++)
		if (env->rcpts[i].state == RCPT_DEFERRED &&
		    env->rcpts[i].reply != NULL &&
		    smtpreply_react(env->rcpts[i].reply) == ADV_LIMIT)
			return 1;
	return 0;
}

static enum deliver_outcome
deliver_one(struct dsession *ds, struct queue *q, const char *id, int flags,
    struct err *e)
{
	struct envelope env;
	enum queue_area area = QAREA_ACTIVE;
	enum deliver_outcome out;
	unsigned char *was_open = NULL;
	char **old = NULL;
	size_t k;
	int lockfd = -1, msgfd = -1, r, whole = 0, tried;

	r = queue_lock(q, area, id, &lockfd, e);
	if (r == -1) {
		area = QAREA_HOLD;
		r = queue_lock(q, area, id, &lockfd, e);
	}
	if (r != 0) {
		if (r == 1)
			err_set(e, ERR_TEMP, "%s is being delivered by another "
			    "process", id);
		return DOUT_SKIPPED;
	}
	envelope_init(&env);
	log_setid(id);
	if (queue_load(q, area, id, &env, e) == -1) {
		struct err e2;

		log_warnx("%s; moved to corrupt/", e->msg);
		(void)queue_quarantine(q, area, id, &e2);
		out = DOUT_SKIPPED;
		goto done;
	}
	if ((msgfd = queue_open_msg(q, area, id, e)) == -1) {
		out = DOUT_SKIPPED;
		goto done;
	}
	/* None open (an earlier run recorded them all): bookkeeping only. */
	tried = envelope_rcpts_open(&env) > 0;
	was_open = xcalloc(env.nrcpts > 0 ? env.nrcpts : 1, 1);
	old = xcalloc(env.nrcpts > 0 ? env.nrcpts : 1, sizeof(*old));
	for (k = 0; k < env.nrcpts; k++)
		if (env.rcpts[k].state == RCPT_PENDING ||
		    env.rcpts[k].state == RCPT_DEFERRED)
			was_open[k] = RCPT_OPEN;
	ds->connected = 0;
	replies_aside(&env, old, was_open, 0);
	memset(&ds->api, 0, sizeof(ds->api));
	if (tried && ds->transport != TRANSPORT_SMTP) {
		if (dsession_send_api(ds, &env, msgfd, e) == -1)
			whole = 1;
	} else if (tried && dsession_get(ds, e) == -1) {
		if (dsession_switch_to_api(ds, e) == -1 ||
		    dsession_send_api(ds, &env, msgfd, e) == -1)
			whole = 1;
	} else if (tried && dsession_send(ds, &env, msgfd, e) == -1)
		whole = 1;
	replies_aside(&env, old, was_open, 1);
	if (whole && ds->transport != TRANSPORT_SMTP)
		ds->retry_at = dsession_api_retry_at(ds, e);
	else
		ds->retry_at = limited(&env, whole, e) ?
		    time(NULL) + ADVICE_LIMIT_WINDOW : 0;
	if (whole)
		(void)advice_add_fix(e, ds->acct->name, dsession_user(ds->acct));
	if (whole && e->class == ERR_PERM && ds->s != NULL) {
		/* The server refused this message as a whole. */
		size_t i;

		for (i = 0; i < env.nrcpts; i++) {
			struct rcpt *rc = &env.rcpts[i];

			if (rc->state == RCPT_SENT)
				continue;
			rc->state = RCPT_FAILED;
			if (rc->reply == NULL)
				rc->reply = xstrdup(e->msg);
		}
	}
	out = settle(ds, q, area, &env, msgfd, flags, whole, e);
	log_rcpts(ds, &env, was_open, out, whole ? e->msg : NULL);
	if (out == DOUT_FAILED || out == DOUT_PARTIAL ||
	    (!whole && out != DOUT_SENT)) {
		/*
		 * Per-recipient refusals: report the first one; every
		 * recipient refused as unknown (5.1.x) means a bad address.
		 */
		int c = out == DOUT_DEFERRED ? ERR_TEMP : ERR_PERM, unknown = 1;
		const struct rcpt *first = NULL;
		size_t i;

		for (i = 0; i < env.nrcpts; i++) {
			const struct rcpt *rc = &env.rcpts[i];

			if (rc->state == RCPT_SENT)
				continue;
			if (first == NULL)
				first = rc;
			if (rc->state != RCPT_FAILED || rc->reply == NULL ||
			    strncmp(rc->reply, "55", 2) != 0 ||
			    strstr(rc->reply, " 5.1.") == NULL)
				unknown = 0;
		}
		if (out == DOUT_FAILED && unknown)
			c = ERR_ADDR;
		if (first != NULL && first->reply != NULL && (!whole ||
		    first->state == RCPT_FAILED))
			err_set(e, c, "<%s>: %s", first->addr, first->reply);
		else if (whole)
			e->class = c;
		else if (first != NULL)	/* its reply was not recorded */
			err_set(e, c, "<%s>: %s", first->addr,
			    envelope_rcpt_state_str(first->state));
	}
	if (out != DOUT_SENT)
		(void)advice_add_fix(e, ds->acct->name, dsession_user(ds->acct));
done:
	free(was_open);
	free(old);
	if (msgfd != -1)
		(void)close(msgfd);
	queue_unlock(lockfd);
	envelope_free(&env);
	log_setid(NULL);
	return out;
}

static void
ts_now(struct timespec *ts)
{
	(void)clock_gettime(CLOCK_MONOTONIC, ts);
}

/*
 * Pacing (max_rate messages a minute): waits until 60/max_rate seconds
 * have passed since the previous message went out on this session. A
 * signal does not cut the pause short: the run finishes in order.
 */
static void
pace(const struct account *acct, const struct timespec *last)
{
	struct timespec now, rem, d;
	long long gap_ns, el_ns;

	if (acct->max_rate <= 0)
		return;
	gap_ns = 60000000000LL / acct->max_rate;
	ts_now(&now);
	el_ns = (long long)(now.tv_sec - last->tv_sec) * 1000000000LL +
	    (now.tv_nsec - last->tv_nsec);
	if (el_ns >= gap_ns)
		return;
	d.tv_sec = (time_t)((gap_ns - el_ns) / 1000000000LL);
	d.tv_nsec = (long)((gap_ns - el_ns) % 1000000000LL);
	while (nanosleep(&d, &rem) == -1 && errno == EINTR)
		d = rem;
}

int
deliver_entries_ex(const struct config *cf, const struct account *acct,
    struct queue *q, char **ids, size_t nids, int flags,
    enum deliver_outcome *outcomes, struct err *errs, struct err *err)
{
	struct dsession ds;
	struct timespec last;
	size_t i;
	int ret = 0, paced = 0;

	memset(&last, 0, sizeof(last));
	dsession_init(&ds, cf, acct, q);
	for (i = 0; i < nids; i++) {
		struct err e;
		enum deliver_outcome o;

		err_clear(&e);
		/* Only messages that go out on the session count. */
		if (paced && !ds.failed)
			pace(acct, &last);
		o = deliver_one(&ds, q, ids[i], flags, &e);
		paced = o != DOUT_SKIPPED && (ds.s != NULL ||
		    ds.transport != TRANSPORT_SMTP) && !ds.failed;
		if (paced)
			ts_now(&last);
		if (outcomes != NULL)
			outcomes[i] = o;
		if (errs != NULL)
			errs[i] = e;
		if (o != DOUT_SENT && ret == 0) {
			*err = e;
			ret = -1;
		}
	}
	dsession_end(&ds);
	return ret;
}

int
deliver_entries(const struct config *cf, const struct account *acct,
    struct queue *q, char **ids, size_t nids, struct err *err)
{
	return deliver_entries_ex(cf, acct, q, ids, nids, DELIVER_BOUNCE,
	    NULL, NULL, err);
}

const char *
deliver_outcome_str(enum deliver_outcome o)
{
	switch (o) {
	case DOUT_SENT:		return "sent";
	case DOUT_PARTIAL:	return "partial";
	case DOUT_DEFERRED:	return "deferred";
	case DOUT_HELD:		return "held";
	case DOUT_FAILED:	return "failed";
	case DOUT_SKIPPED:	return "skipped";
	}
	return "unknown";
}
