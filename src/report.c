/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * report.c -- status --json / --prometheus, queue --json and
 * check --nagios from the local state; see report.h.
 */
#include "common.h"

#include <sys/stat.h>

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "advice.h"
#include "buf.h"
#include "envelope.h"
#include "holdsched.h"
#include "json.h"
#include "queue.h"
#include "report.h"
#include "store.h"
#include "token.h"
#include "util.h"
#include "xmalloc.h"

/* What an account can do, mildest first (oauthmail(8), JSON OUTPUT). */
enum acct_state {
	AST_OK = 0,
	AST_KEYRING,		/* the keyring cannot be reached */
	AST_SIGNIN,		/* no usable token: oauthmail login */
	AST_HELD,		/* mail held for an administrator's fix */
	AST_AUTH_DISABLED	/* the server's policy refuses SMTP AUTH */
};

static const char *const state_names[] = {
	"ok", "keyring-unreachable", "signin-needed", "held",
	"smtp-auth-disabled"
};

/* The message counts, by the state a monitor sees. */
enum msg_count { MC_QUEUED, MC_DEFERRED, MC_HELD, MC_FAILED, MC_N };

static const char *const count_names[MC_N] = {
	"queued", "deferred", "held", "failed"
};

struct acct_report {
	const struct account	*a;
	enum acct_state		 state;
	char			 detail[512];	/* why, and the fix */
	time_t			 token_expires;	/* 0: none */
	time_t			 last_success;	/* 0: never */
	size_t			 n[MC_N];
	time_t			 oldest;	/* 0: nothing waits */
	char			 held_why[512];	/* last held error */
	time_t			 held_at;
};

struct report {
	struct acct_report	*v;
	size_t			 n;
	time_t			 now;
};

/* The account's transport key: smtp, graph, gmail-api or auto. */
static const char *
acct_transport(const struct account *a)
{
	return conf_transport_name(a->transport);
}

static int
same_queue(const struct account *a, const struct account *b)
{
	if (a->queue_dir == NULL || b->queue_dir == NULL)
		return a->queue_dir == b->queue_dir;
	return strcmp(a->queue_dir, b->queue_dir) == 0;
}

static void
iso_time(char *dst, size_t size, time_t t)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(dst, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		(void)strlcpy(dst, "", size);
}

/* key: seconds since the epoch, key_iso: ISO 8601 UTC; null when t <= 0. */
static void
jset_time(struct jout *o, const char *key, time_t t)
{
	char iso[64], k[64];

	(void)snprintf(k, sizeof(k), "%s_iso", key);
	if (t <= 0) {
		jout_set_null(o, key);
		jout_set_null(o, k);
		return;
	}
	iso_time(iso, sizeof(iso), t);
	jout_set_int(o, key, (long long)t);
	jout_set_str(o, k, iso);
}

/* ---- collecting ---- */

static enum msg_count
entry_count(enum queue_area area, const struct envelope *env)
{
	switch (area) {
	case QAREA_HOLD:
		return MC_HELD;
	case QAREA_FAILED:
		return MC_FAILED;
	default:
		return env->attempts > 0 ? MC_DEFERRED : MC_QUEUED;
	}
}

static void
tally(struct acct_report *ar, enum queue_area area,
    const struct envelope *env)
{
	enum msg_count c = entry_count(area, env);

	ar->n[c]++;
	if (c != MC_FAILED && (ar->oldest == 0 || env->created < ar->oldest))
		ar->oldest = env->created;
	if (c == MC_HELD && (ar->n[c] == 1 || env->next_try > ar->held_at)) {
		ar->held_at = env->next_try;
		(void)strlcpy(ar->held_why, env->last_error != NULL ?
		    env->last_error : "", sizeof(ar->held_why));
	}
}

static struct acct_report *
find_report(struct report *r, const struct account *qa, const char *name)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (same_queue(r->v[i].a, qa) &&
		    strcmp(r->v[i].a->name, name) == 0)
			return &r->v[i];
	return NULL;
}

/* Another user's queue (the daemon's, in system mode): say whose. */
static int
queue_owner(const char *dir, struct err *err)
{
	struct passwd *pw;
	struct stat st;
	char uid[32];
	const char *who;

	if (dir == NULL || stat(dir, &st) == -1 || st.st_uid == geteuid())
		return 0;
	(void)snprintf(uid, sizeof(uid), "uid %lu", (unsigned long)st.st_uid);
	who = (pw = getpwuid(st.st_uid)) != NULL ? pw->pw_name : uid;
	return err_set(err, ERR_CONFIG, "the queue %s belongs to %s: run the "
	    "report as that user (e.g. sudo -u %s oauthmail ...)", dir, who,
	    pw != NULL ? pw->pw_name : "USER");
}

/*
 * One queue directory (the one of account qa) for every report. A queue
 * that cannot be read fails the report: counting nothing would tell a
 * monitor run as the wrong user that all is well.
 */
static int
scan_queue(struct report *r, const struct account *qa, struct err *err)
{
	static const enum queue_area areas[] = { QAREA_ACTIVE, QAREA_HOLD,
	    QAREA_FAILED };
	struct acct_report *ar;
	struct envelope env;
	struct queue q;
	struct err lerr;
	char **ids;
	size_t i, k, n;

	if (queue_owner(qa->queue_dir, err) == -1)
		return -1;
	if (queue_open(&q, qa->queue_dir, err) == -1)
		return err_prefix(err, "cannot report on the queue");
	for (k = 0; k < nitems(areas); k++) {
		if (queue_list(&q, areas[k], &ids, &n, err) == -1) {
			queue_close(&q);
			return -1;
		}
		for (i = 0; i < n; i++) {
			if (queue_load(&q, areas[k], ids[i], &env,
			    &lerr) == 0 && env.account != NULL &&
			    (ar = find_report(r, qa, env.account)) != NULL)
				tally(ar, areas[k], &env);
			envelope_free(&env);
		}
		queue_free_ids(ids, n);
	}
	queue_close(&q);
	return 0;
}

/* The token record's times and whether it can be used. */
static void
read_token(struct acct_report *ar)
{
	struct token_record rec;
	struct store *st;
	struct buf raw;
	struct err err;
	int r;

	err_clear(&err);
	if (store_open_account(ar->a, &st, &err) == -1) {
		ar->state = AST_KEYRING;
		(void)strlcpy(ar->detail, err.msg, sizeof(ar->detail));
		return;
	}
	buf_init(&raw, LIM_TOKEN * 2, BUF_SECRET);
	memset(&rec, 0, sizeof(rec));
	r = store_get(st, ar->a->name, STORE_TOKEN, &raw, &err);
	if (r == -1) {
		/* ERR_AUTH: the token is another identity's (store.h). */
		ar->state = err.class == ERR_AUTH ? AST_SIGNIN : AST_KEYRING;
		(void)strlcpy(ar->detail, err.msg, sizeof(ar->detail));
	} else if (r == 1 ||
	    token_record_parse(&rec, raw.data, raw.len, &err) == -1 ||
	    rec.needs_login) {
		ar->state = AST_SIGNIN;
		(void)snprintf(ar->detail, sizeof(ar->detail), "%s: run "
		    "'oauthmail login %s'", r == 1 ? "no token" :
		    rec.needs_login ? "sign-in needed" :
		    "unreadable token record", ar->a->name);
	}
	if (r == 0) {
		ar->token_expires = rec.expires_at;
		ar->last_success = rec.last_success;
	}
	token_record_free(&rec);
	buf_free(&raw);
	store_close(st);
}

/* Held mail decides over the token: the server has said no. */
static void
held_state(struct acct_report *ar)
{
	const struct advice *adv = advice_find(ar->held_why);
	char fix[512];

	if (ar->n[MC_HELD] == 0)
		return;
	if (adv != NULL && adv->react == ADV_HOLD) {
		ar->state = strncmp(adv->label, "SMTP AUTH", 9) == 0 ?
		    AST_AUTH_DISABLED : AST_HELD;
		advice_fill(adv, ar->a->name, ar->a->user != NULL ?
		    ar->a->user : ar->a->from, fix, sizeof(fix));
		(void)snprintf(ar->detail, sizeof(ar->detail), "%.100s: %.400s",
		    adv->label, fix);
	} else if (ar->state < AST_SIGNIN) {
		ar->state = AST_SIGNIN;
		(void)snprintf(ar->detail, sizeof(ar->detail), "the server "
		    "refused the sign-in (%.300s): run 'oauthmail check %s', "
		    "then 'oauthmail %s %s'", ar->held_why, ar->a->name,
		    conf_is_oauth(ar->a) ? "login" : "password", ar->a->name);
	}
}

static void
report_free(struct report *r)
{
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Collects the report of one account (name) or of every account. */
static int
collect(const struct config *cf, const char *name, struct report *r,
    struct err *err)
{
	const struct account *one = NULL;
	size_t i, j;

	memset(r, 0, sizeof(*r));
	r->now = time(NULL);
	if (name != NULL && (one = conf_account(cf, name)) == NULL)
		return err_set(err, ERR_CONFIG, "no account '%s' in %s", name,
		    cf->path != NULL ? cf->path : "the configuration");
	r->n = one != NULL ? 1 : cf->naccounts;
	r->v = xcalloc(r->n > 0 ? r->n : 1, sizeof(*r->v));
	for (i = 0; i < r->n; i++)
		r->v[i].a = one != NULL ? one : cf->accounts[i];
	for (i = 0; i < r->n; i++) {
		for (j = 0; j < i; j++)
			if (same_queue(r->v[j].a, r->v[i].a))
				break;
		if (j == i && scan_queue(r, r->v[i].a, err) == -1) {
			report_free(r);
			return -1;
		}
	}
	for (i = 0; i < r->n; i++) {
		if (conf_is_oauth(r->v[i].a))
			read_token(&r->v[i]);
		held_state(&r->v[i]);
	}
	return 0;
}

static long long
oldest_age(const struct acct_report *ar, time_t now)
{
	if (ar->oldest == 0)
		return 0;
	return ar->oldest < now ? (long long)(now - ar->oldest) : 0;
}

/* ---- status --json ---- */

static struct jout *
account_json(const struct acct_report *ar, time_t now)
{
	struct jout *o = jout_object();
	size_t k;

	jout_set_str(o, "name", ar->a->name);
	jout_set_str(o, "from", ar->a->from);
	jout_set_str(o, "transport", acct_transport(ar->a));
	jout_set_str(o, "server", ar->a->host);
	jout_set_int(o, "port", conf_port(ar->a));
	jout_set_str(o, "state", state_names[ar->state]);
	jout_set_str(o, "detail", ar->detail[0] != '\0' ? ar->detail : NULL);
	jset_time(o, "token_expires", ar->token_expires);
	jset_time(o, "last_success", ar->last_success);
	for (k = 0; k < MC_N; k++)
		jout_set_int(o, count_names[k], (long long)ar->n[k]);
	jout_set_int(o, "oldest_age_seconds", oldest_age(ar, now));
	return o;
}

static int
status_json(const struct report *r, FILE *out, struct err *err)
{
	struct jout *doc = jout_object(), *accts = jout_array();
	size_t i;
	int rc;

	jout_set_int(doc, "schema_version", REPORT_SCHEMA_VERSION);
	jset_time(doc, "generated", r->now);
	for (i = 0; i < r->n; i++)
		jout_append(accts, account_json(&r->v[i], r->now));
	jout_set(doc, "accounts", accts);
	rc = jout_print(doc, out, err);
	jout_free(doc);
	return rc;
}

/* ---- status --prometheus ---- */

/* A label value: backslash, double quote and newline escaped. */
static void
prom_label(FILE *out, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\' || *v == '"')
			fputc('\\', out);
		if (*v == '\n')
			fputs("\\n", out);
		else
			fputc(*v, out);
	}
}

static void
prom_head(FILE *out, const char *name, const char *help)
{
	fprintf(out, "# HELP oauthmail_%s %s\n# TYPE oauthmail_%s gauge\n",
	    name, help, name);
}

/* name{account="A"[,extra]} value */
static void
prom_sample(FILE *out, const char *name, const struct account *a,
    const char *lname, const char *lvalue, long long v)
{
	fprintf(out, "oauthmail_%s{account=\"", name);
	prom_label(out, a->name);
	if (lname != NULL) {
		fprintf(out, "\",%s=\"", lname);
		prom_label(out, lvalue);
	}
	fprintf(out, "\"} %lld\n", v);
}

static void
prom_states(FILE *out, const struct report *r)
{
	size_t i, s;

	prom_head(out, "account_state", "1 for the account's state "
	    "(ok, keyring-unreachable, signin-needed, held, "
	    "smtp-auth-disabled), 0 for the others.");
	for (i = 0; i < r->n; i++)
		for (s = 0; s < nitems(state_names); s++)
			prom_sample(out, "account_state", r->v[i].a, "state",
			    state_names[s], r->v[i].state == s);
	prom_head(out, "account_info", "Always 1; the account's transport "
	    "and sender as labels.");
	for (i = 0; i < r->n; i++) {
		fprintf(out, "oauthmail_account_info{account=\"");
		prom_label(out, r->v[i].a->name);
		fprintf(out, "\",transport=\"%s\",from=\"",
		    acct_transport(r->v[i].a));
		prom_label(out, r->v[i].a->from);
		fprintf(out, "\"} 1\n");
	}
}

static void
prom_times(FILE *out, const struct report *r, int expiry)
{
	const char *name = expiry ? "token_expiry_timestamp_seconds" :
	    "last_success_timestamp_seconds";
	size_t i;
	time_t t;

	prom_head(out, name, expiry ? "When the access token in the keyring "
	    "expires (absent when there is none)." : "When the server last "
	    "accepted the account's sign-in (absent: never).");
	for (i = 0; i < r->n; i++) {
		t = expiry ? r->v[i].token_expires : r->v[i].last_success;
		if (t > 0)
			prom_sample(out, name, r->v[i].a, NULL, NULL,
			    (long long)t);
	}
}

static int
status_prometheus(const struct report *r, FILE *out, struct err *err)
{
	size_t i, k;

	prom_states(out, r);
	prom_head(out, "messages", "Messages in the queue by state: queued "
	    "(not tried yet), deferred, held, failed (kept in failed/).");
	for (i = 0; i < r->n; i++)
		for (k = 0; k < MC_N; k++)
			prom_sample(out, "messages", r->v[i].a, "state",
			    count_names[k], (long long)r->v[i].n[k]);
	prom_head(out, "oldest_message_age_seconds", "Age of the oldest "
	    "message waiting to go (queued, deferred or held); 0 when none.");
	for (i = 0; i < r->n; i++)
		prom_sample(out, "oldest_message_age_seconds", r->v[i].a, NULL,
		    NULL, oldest_age(&r->v[i], r->now));
	prom_times(out, r, 1);
	prom_times(out, r, 0);
	prom_head(out, "report_timestamp_seconds", "When this report was "
	    "made.");
	fprintf(out, "oauthmail_report_timestamp_seconds %lld\n",
	    (long long)r->now);
	if (fflush(out) == EOF || ferror(out))
		return err_set(err, ERR_IO, "writing the metrics: %s",
		    strerror(errno));
	return 0;
}

int
report_status(const struct invocation *inv, const struct config *cf,
    FILE *out, struct err *err)
{
	struct report r;
	int rc;

	if (collect(cf, inv->cmd_account, &r, err) == -1)
		return -1;
	if (inv->format == FMT_PROMETHEUS)
		rc = status_prometheus(&r, out, err);
	else
		rc = status_json(&r, out, err);
	report_free(&r);
	return rc;
}

/* ---- queue --json ---- */

static const char *
entry_state(enum queue_area area, const struct envelope *env)
{
	return count_names[entry_count(area, env)];
}

static struct jout *
rcpts_json(const struct envelope *env)
{
	struct jout *arr = jout_array(), *o;
	size_t i;

	for (i = 0; i < env->nrcpts; i++) {
		const struct rcpt *rc = &env->rcpts[i];

		o = jout_object();
		jout_set_str(o, "address", rc->addr);
		jout_set_str(o, "original", rc->orig);
		jout_set_str(o, "state", envelope_rcpt_state_str(rc->state));
		jout_set_str(o, "reply", rc->reply);
		jout_append(arr, o);
	}
	return arr;
}

/* When the entry is tried next: null for failed, and for a held entry
 * whose account has no turn to wait for (the next queue run). */
static time_t
entry_next(enum queue_area area, const struct envelope *env,
    const struct holdsched *hs)
{
	const struct holdsched_rec *hr;

	switch (area) {
	case QAREA_ACTIVE:
		return env->next_try;
	case QAREA_HOLD:
		hr = holdsched_find(hs, env->account);
		return hr != NULL ? hr->next : 0;
	default:
		return 0;
	}
}

static struct jout *
entry_json(enum queue_area area, const struct envelope *env, time_t now,
    const struct holdsched *hs)
{
	struct jout *o = jout_object();

	jout_set_str(o, "id", env->id);
	jout_set_str(o, "account", env->account);
	jout_set_str(o, "state", entry_state(area, env));
	jout_set_str(o, "sender", env->sender);
	jout_set_int(o, "size", (long long)env->size);
	jset_time(o, "created", env->created);
	jout_set_int(o, "age_seconds", env->created < now ?
	    (long long)(now - env->created) : 0);
	jout_set_int(o, "attempts", env->attempts);
	jset_time(o, "next_try", entry_next(area, env, hs));
	jout_set_str(o, "last_error", env->last_error);
	jout_set(o, "recipients", rcpts_json(env));
	return o;
}

static int
queue_area_json(struct queue *q, enum queue_area area, time_t now,
    const struct holdsched *hs, struct jout *msgs, struct jout *bad,
    struct err *err)
{
	struct envelope env;
	struct err lerr;
	struct jout *o;
	char **ids;
	size_t i, n;

	if (queue_list(q, area, &ids, &n, err) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		if (queue_load(q, area, ids[i], &env, &lerr) == 0)
			jout_append(msgs, entry_json(area, &env, now, hs));
		else if (lerr.class == ERR_DATA) {
			o = jout_object();
			jout_set_str(o, "id", ids[i]);
			jout_set_str(o, "error", lerr.msg);
			jout_append(bad, o);
		}	/* else delivered and removed meanwhile */
		envelope_free(&env);
	}
	queue_free_ids(ids, n);
	return 0;
}

int
report_queue(const struct config *cf, struct queue *q, FILE *out,
    time_t now, struct err *err)
{
	static const enum queue_area areas[] = { QAREA_ACTIVE, QAREA_HOLD,
	    QAREA_FAILED };
	struct jout *doc = jout_object(), *msgs = jout_array(),
	    *bad = jout_array();
	struct holdsched hs;
	struct err lerr;
	size_t k;
	int rc = 0;

	(void)cf;
	err_clear(&lerr);
	if (holdsched_load(q, &hs, &lerr) == -1)
		memset(&hs, 0, sizeof(hs));	/* next tries unknown */
	for (k = 0; k < nitems(areas) && rc == 0; k++)
		rc = queue_area_json(q, areas[k], now, &hs, msgs, bad, err);
	holdsched_free(&hs);
	jout_set_int(doc, "schema_version", REPORT_SCHEMA_VERSION);
	jset_time(doc, "generated", now);
	jout_set_str(doc, "queue", q->dir);
	jout_set(doc, "messages", msgs);
	jout_set(doc, "unreadable", bad);
	if (rc == 0)
		rc = jout_print(doc, out, err);
	jout_free(doc);
	return rc;
}

/* ---- check --nagios ---- */

static const char *const nagios_words[] = {
	"OK", "WARNING", "CRITICAL", "UNKNOWN"
};

static int
worse(int a, int b)
{
	return a > b ? a : b;
}

/* Appends "; text" (or text first) to the summary. */
static void
say(char *sum, size_t size, const char *text)
{
	if (sum[0] != '\0')
		(void)strlcat(sum, "; ", size);
	(void)strlcat(sum, text, size);
}

/* One account's findings: its code, and what the summary says. */
static int
nagios_account(const struct acct_report *ar, char *sum, size_t size)
{
	char line[1024];
	int code = NAGIOS_OK;

	if (ar->state != AST_OK) {
		code = ar->state == AST_KEYRING ? NAGIOS_WARNING :
		    NAGIOS_CRITICAL;
		(void)snprintf(line, sizeof(line), "account %s %s: %s",
		    ar->a->name, state_names[ar->state], ar->detail);
		say(sum, size, line);
	}
	if (ar->n[MC_DEFERRED] > 0) {
		code = worse(code, NAGIOS_WARNING);
		(void)snprintf(line, sizeof(line), "account %s: %zu "
		    "deferred", ar->a->name, ar->n[MC_DEFERRED]);
		say(sum, size, line);
	}
	return code;
}

/* The summary as one line: no '|' (it starts the performance data). */
static void
one_line(char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '|')
			*s = '/';
		else if ((unsigned char)*s < 0x20)
			*s = ' ';
}

static int
nagios_print(FILE *out, int code, const char *sum, const size_t *n,
    long long oldest, long long warn, long long crit)
{
	fprintf(out, "OAUTHMAIL %s - %s | queued=%zu deferred=%zu held=%zu "
	    "failed=%zu oldest=%llds;%lld;%lld;0\n", nagios_words[code], sum,
	    n[MC_QUEUED], n[MC_DEFERRED], n[MC_HELD], n[MC_FAILED], oldest,
	    warn, crit);
	return fflush(out) == EOF ? NAGIOS_UNKNOWN : code;
}

int
report_nagios(const struct invocation *inv, const struct config *cf,
    FILE *out)
{
	long long warn = inv->warn_age > 0 ? inv->warn_age : REPORT_WARN_AGE;
	long long crit = inv->crit_age > 0 ? inv->crit_age : REPORT_CRIT_AGE;
	long long oldest = 0, age;
	size_t i, k, n[MC_N], waiting;
	char sum[1024], line[128];
	struct report r;
	struct err err;
	int code = NAGIOS_OK;

	err_clear(&err);
	if (collect(cf, inv->cmd_account, &r, &err) == -1)
		return report_nagios_unknown(out, err.msg);
	memset(n, 0, sizeof(n));
	sum[0] = '\0';
	for (i = 0; i < r.n; i++) {
		code = worse(code, nagios_account(&r.v[i], sum, sizeof(sum)));
		for (k = 0; k < MC_N; k++)
			n[k] += r.v[i].n[k];
		if ((age = oldest_age(&r.v[i], r.now)) > oldest)
			oldest = age;
	}
	if (oldest >= warn) {
		code = worse(code, oldest >= crit ? NAGIOS_CRITICAL :
		    NAGIOS_WARNING);
		util_fmt_dur(line, sizeof(line), oldest);
		(void)snprintf(line + strlen(line), sizeof(line) -
		    strlen(line), " old message waiting");
		say(sum, sizeof(sum), line);
	}
	if (code == NAGIOS_OK) {
		waiting = n[MC_QUEUED] + n[MC_HELD] + n[MC_DEFERRED];
		(void)snprintf(sum, sizeof(sum), "%zu account%s can send, "
		    "%zu message%s waiting", r.n, r.n == 1 ? "" : "s",
		    waiting, waiting == 1 ? "" : "s");
	}
	one_line(sum);
	report_free(&r);
	return nagios_print(out, code, sum, n, oldest, warn, crit);
}

int
report_nagios_unknown(FILE *out, const char *why)
{
	char sum[600];

	(void)strlcpy(sum, why, sizeof(sum));
	one_line(sum);
	fprintf(out, "OAUTHMAIL UNKNOWN - %s\n", sum);
	(void)fflush(out);
	return NAGIOS_UNKNOWN;
}
