/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * runq.c -- the queue runner: selection of entries and one delivery run
 * grouped by account. The mailq listing is in runq_list.c, delivery
 * status notifications are in bounce.c.
 */
#include "common.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api.h"
#include "args.h"
#include "conf.h"
#include "deliver.h"
#include "envelope.h"
#include "holdsched.h"
#include "log.h"
#include "queue.h"
#include "runq.h"
#include "status.h"
#include "sysq.h"
#include "util.h"
#include "xmalloc.h"

static int
deliver_bouncing(const struct config *cf, const struct account *acct,
    struct queue *q, char **ids, size_t nids, enum deliver_outcome *outcomes,
    struct err *errs, struct err *err)
{
	return deliver_entries_ex(cf, acct, q, ids, nids, DELIVER_BOUNCE,
	    outcomes, errs, err);
}

/* The delivery call of a run: deliver_entries_ex, or a test's stand-in. */
static runq_deliver_fn *deliver_fn = deliver_bouncing;

void
runq_set_deliver(runq_deliver_fn *fn)
{
	deliver_fn = fn != NULL ? fn : deliver_bouncing;
}

struct sel_item {
	char	*id;
	char	*account;
};

struct sel_list {
	struct sel_item	*v;
	size_t		 n;
	size_t		 cap;
};

static int	select_area(struct queue *, enum queue_area,
		    enum inv_qselect, const char *, int, time_t,
		    struct sel_list *, struct err *);
static void	sel_free(struct sel_list *);
static int	matches(const struct envelope *, enum inv_qselect,
		    const char *);

static int
matches(const struct envelope *env, enum inv_qselect sel, const char *value)
{
	size_t i;

	if (sel == QSEL_ALL || value == NULL)
		return 1;
	switch (sel) {
	case QSEL_ID:
		return strcasestr(env->id, value) != NULL;
	case QSEL_RCPT:
		for (i = 0; i < env->nrcpts; i++)
			if (strcasestr(env->rcpts[i].addr, value) != NULL)
				return 1;
		return 0;
	case QSEL_SENDER:
		return strcasestr(env->sender, value) != NULL;
	default:
		return 1;
	}
}

static void
sel_free(struct sel_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].id);
		free(l->v[i].account);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void
sel_add(struct sel_list *l, const char *id, const char *account)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].id = xstrdup(id);
	l->v[l->n].account = xstrdup(account);
	l->n++;
}

static int
select_area(struct queue *q, enum queue_area a, enum inv_qselect sel,
    const char *value, int due_only, time_t now, struct sel_list *out,
    struct err *err)
{
	struct envelope env;
	struct err lerr;
	char **ids;
	size_t n, i;

	if (queue_list(q, a, &ids, &n, err) == -1)
		return -1;
	for (i = 0; i < n; i++) {
		/* Cheap first: the id test needs no envelope. */
		if (sel == QSEL_ID && value != NULL &&
		    strcasestr(ids[i], value) == NULL)
			continue;
		if (queue_load(q, a, ids[i], &env, &lerr) == -1) {
			envelope_free(&env);
			if (lerr.class != ERR_DATA) {
				/* Most likely delivered and removed. */
				log_debug("%s", lerr.msg);
				continue;
			}
			log_warnx("%s; moving entry %s to %s/corrupt",
			    lerr.msg, ids[i], q->dir);
			if (queue_quarantine(q, a, ids[i], &lerr) == -1)
				log_warnx("%s", lerr.msg);
			continue;
		}
		if (matches(&env, sel, value) &&
		    (!due_only || env.next_try <= now))
			sel_add(out, env.id, env.account);
		envelope_free(&env);
	}
	queue_free_ids(ids, n);
	return 0;
}

static int
select_ids(struct queue *q, enum queue_area a, enum inv_qselect sel,
    const char *value, int due_only, time_t now, char ***idsp, size_t *np,
    struct err *err)
{
	struct sel_list l;
	size_t i;

	memset(&l, 0, sizeof(l));
	*idsp = NULL;
	*np = 0;
	if (select_area(q, a, sel, value, due_only, now, &l, err) == -1) {
		sel_free(&l);
		return -1;
	}
	*idsp = xreallocarray(NULL, l.n ? l.n : 1, sizeof(**idsp));
	for (i = 0; i < l.n; i++) {
		(*idsp)[i] = l.v[i].id;
		free(l.v[i].account);
	}
	*np = l.n;
	free(l.v);
	return 0;
}

int
runq_select(struct queue *q, enum inv_qselect sel, const char *value,
    int due_only, time_t now, char ***idsp, size_t *np, struct err *err)
{
	return select_ids(q, QAREA_ACTIVE, sel, value, due_only, now, idsp,
	    np, err);
}

int
runq_select_held(struct queue *q, enum inv_qselect sel, const char *value,
    char ***idsp, size_t *np, struct err *err)
{
	return select_ids(q, QAREA_HOLD, sel, value, 0, 0, idsp, np, err);
}

/*
 * Moves a held entry back to q/ as due now. 0 if released, 1 if someone
 * else has it, -1 on error.
 */
static int
release_held(struct queue *q, const char *id, time_t now, struct err *err)
{
	struct envelope env;
	int fd, r;

	if ((r = queue_lock(q, QAREA_HOLD, id, &fd, err)) != 0)
		return r;
	if (queue_load(q, QAREA_HOLD, id, &env, err) == -1) {
		envelope_free(&env);
		queue_unlock(fd);
		return -1;
	}
	env.state = ENV_QUEUED;
	env.next_try = now;
	r = queue_update(q, QAREA_HOLD, &env, err);
	if (r == 0)
		r = queue_move(q, id, QAREA_HOLD, QAREA_ACTIVE, err);
	envelope_free(&env);
	queue_unlock(fd);
	return r;
}

/*
 * Sets an entry of q/ aside in hold/ without trying it: its account is
 * held and not due (its session would only be refused again). Moved
 * first, so that the envelope update does not land in q/ (the daemon
 * watches q/). 0 if parked, 1 if someone else has it, -1 on error.
 */
static int
park_entry(struct queue *q, const char *id, struct err *err)
{
	struct envelope env;
	int fd, r;

	if ((r = queue_lock(q, QAREA_ACTIVE, id, &fd, err)) != 0)
		return r;
	if (queue_load(q, QAREA_ACTIVE, id, &env, err) == -1) {
		envelope_free(&env);
		queue_unlock(fd);
		return -1;
	}
	r = queue_move(q, id, QAREA_ACTIVE, QAREA_HOLD, err);
	if (r == 0) {
		env.state = ENV_HELD;
		r = queue_update(q, QAREA_HOLD, &env, err);
	}
	envelope_free(&env);
	queue_unlock(fd);
	return r;
}

static const struct account *
find_account(const struct config *cf, const char *name)
{
	size_t i;

	for (i = 0; i < cf->naccounts; i++)
		if (strcmp(cf->accounts[i]->name, name) == 0)
			return cf->accounts[i];
	return NULL;
}

/* 1 if acct was already warned about; records it otherwise. */
static int
warned_before(struct sel_list *w, const char *acct)
{
	size_t i;

	for (i = 0; i < w->n; i++)
		if (strcmp(w->v[i].account, acct) == 0)
			return 1;
	sel_add(w, "", acct);
	return 0;
}

static void
missing_account(struct sel_list *warned, const char *acct, int *failed,
    struct err *err)
{
	if (!warned_before(warned, acct))
		log_warnx("queued mail for account \"%s\", which is not in "
		    "the configuration, is left in the queue", acct);
	if (!*failed)
		(void)err_set(err, ERR_CONFIG, "account \"%s\" of queued "
		    "mail is not configured", acct);
	*failed = 1;
}

/* "in 2m (16:04:05 UTC)" */
static void
fmt_when(char *dst, size_t size, time_t t, time_t now)
{
	char d[32], at[32];
	struct tm tm;

	util_fmt_dur(d, sizeof(d), (long long)(t - now));
	if (gmtime_r(&t, &tm) == NULL ||
	    strftime(at, sizeof(at), "%H:%M:%S UTC", &tm) == 0)
		at[0] = '\0';
	(void)snprintf(dst, size, "in %s%s%s%s", d, at[0] != '\0' ? " (" :
	    "", at, at[0] != '\0' ? ")" : "");
}

/* The distinct accounts of l (for holdsched_prune). */
static char **
sel_accounts(const struct sel_list *l, size_t *np)
{
	char **v = xreallocarray(NULL, l->n ? l->n : 1, sizeof(*v));
	size_t i, j, n = 0;

	for (i = 0; i < l->n; i++) {
		for (j = 0; j < n; j++)
			if (strcmp(v[j], l->v[i].account) == 0)
				break;
		if (j == n)
			v[n++] = l->v[i].account;
	}
	*np = n;
	return v;
}

/*
 * The account's turn (holdsched_claim) for its held entries, those of
 * held[i..] named like held[i].
 */
static int
claim_turn(struct queue *q, const struct account *acct,
    const struct sel_list *held, size_t i, time_t now, time_t *next)
{
	struct err lerr;
	char **ids;
	size_t j, n = 0;
	int go;

	ids = xreallocarray(NULL, held->n - i, sizeof(*ids));
	for (j = i; j < held->n; j++)
		if (held->v[j].account != NULL &&
		    strcmp(held->v[j].account, acct->name) == 0)
			ids[n++] = held->v[j].id;
	err_clear(&lerr);
	if ((go = holdsched_claim(q, acct, now, ids, n, next, &lerr)) == -1)
		log_warnx("account %s: %s; held mail stays held", acct->name,
		    lerr.msg);
	free(ids);
	return go;
}

/*
 * The held entries of one account (those of held[i..] named like
 * held[i]): released into l when the account may be tried (always,
 * unless RUNQ_SCHEDULE says it is not its turn); otherwise the due
 * entries of that account in l are set aside in hold/ with them, so the
 * account sees no session before its next step. When another runner
 * took them meanwhile, there is nothing to release and nothing to set
 * aside. Handled entries of held get a NULL account.
 */
static void
release_account(const struct config *cf, struct queue *q, struct sel_list *l,
    struct sel_list *held, size_t i, int flags, time_t now,
    struct sel_list *warned, int *failed, struct err *err)
{
	const struct account *acct;
	struct err lerr;
	char *name = held->v[i].account, when[64];
	time_t next = 0;
	size_t j, nparked = 0;
	int go = 1, r;

	if ((acct = find_account(cf, name)) == NULL)
		/* Left held: releasing it could not help. */
		missing_account(warned, name, failed, err);
	else if (flags & RUNQ_SCHEDULE)
		go = claim_turn(q, acct, held, i, now, &next);
	for (j = i; j < held->n; j++) {
		if (held->v[j].account == NULL ||
		    (j > i && strcmp(held->v[j].account, name) != 0))
			continue;
		err_clear(&lerr);
		if (acct != NULL && go == 1) {
			if (release_held(q, held->v[j].id, now, &lerr) == 0)
				sel_add(l, held->v[j].id, name);
			else if (lerr.class != ERR_NONE)
				log_warnx("cannot release held entry %s: %s",
				    held->v[j].id, lerr.msg);
		}
		if (j > i) {
			free(held->v[j].account);
			held->v[j].account = NULL;
		}
	}
	if (acct != NULL && (go == 0 || go == -1)) {
		for (j = 0; j < l->n; j++) {
			if (l->v[j].account == NULL ||
			    strcmp(l->v[j].account, name) != 0)
				continue;
			err_clear(&lerr);
			if ((r = park_entry(q, l->v[j].id, &lerr)) == 0)
				nparked++;
			else if (r == -1)
				log_warnx("cannot hold entry %s: %s",
				    l->v[j].id, lerr.msg);
			if (r != 1) {
				free(l->v[j].account);
				l->v[j].account = NULL;
			}
		}
		if (go == 0) {
			fmt_when(when, sizeof(when), next, now);
			if (nparked > 0)
				log_info("account %s is held: %zu new "
				    "message%s wait%s with the held mail; next "
				    "try %s", name, nparked, nparked == 1 ?
				    "" : "s", nparked == 1 ? "s" : "", when);
			else
				log_debug("account %s is held; next try %s",
				    name, when);
		}
	}
	free(held->v[i].account);
	held->v[i].account = NULL;
}

/*
 * Due entries of q/ (l[0..nactive)) whose account is held and not due
 * although none of its mail was in hold/ when this run looked: a runner
 * that tries held mail at once ("sendmail -q") had released it into q/
 * meanwhile. They are set aside as new mail of a held account is, so the
 * account still sees one session per step. Accounts this run took a turn
 * for (their released entries follow l[nactive - 1]) go on.
 */
static void
park_not_due(const struct config *cf, struct queue *q, struct sel_list *l,
    size_t nactive, time_t now)
{
	struct holdsched hs;
	const struct holdsched_rec *r;
	const struct account *acct;
	struct err lerr;
	const char *name;
	size_t i, j;

	err_clear(&lerr);
	if (holdsched_load(q, &hs, &lerr) == -1) {
		log_warnx("%s", lerr.msg);
		return;
	}
	for (i = 0; i < nactive; i++) {
		if ((name = l->v[i].account) == NULL ||
		    (r = holdsched_find(&hs, name)) == NULL ||
		    (acct = find_account(cf, name)) == NULL ||
		    holdsched_due(r, holdsched_fingerprint(acct), now))
			continue;
		for (j = nactive; j < l->n; j++)
			if (l->v[j].account != NULL &&
			    strcmp(l->v[j].account, name) == 0)
				break;
		if (j < l->n)
			continue;
		err_clear(&lerr);
		if (park_entry(q, l->v[i].id, &lerr) == -1)
			log_warnx("cannot hold entry %s: %s", l->v[i].id,
			    lerr.msg);
		free(l->v[i].account);
		l->v[i].account = NULL;
	}
	holdsched_free(&hs);
}

/*
 * 1 if the held entry id waits for something of its own, not for the
 * account: an API transport holds a message whose header names
 * recipients outside its envelope (api.h). Such an entry puts the
 * account on no hold schedule, so the account's other mail goes on.
 */
static int
held_on_its_own(struct queue *q, const char *id)
{
	struct envelope env;
	struct err e;
	int own;

	envelope_init(&env);
	if (queue_load(q, QAREA_HOLD, id, &env, &e) == -1) {
		envelope_free(&env);
		return 0;
	}
	own = env.last_error != NULL &&
	    strstr(env.last_error, API_HELD_MISMATCH) != NULL;
	envelope_free(&env);
	return own;
}

/*
 * One account's delivery (ids[0..n), one outcome and error each) and
 * what it taught the hold schedule: held again (one step more, said in
 * the log), through (the schedule forgets the account), or nothing when
 * every entry was skipped: another runner had them (or sent them), and
 * it records what it learnt itself. Only this run's own outcomes count:
 * an entry another runner holds, or is moving, says nothing of the
 * account, and an entry that run sent means the account works.
 */
static int
deliver_account(const struct config *cf, const struct account *acct,
    struct queue *q, char **ids, size_t n, struct err *err)
{
	enum deliver_outcome *out;
	struct err *errs, lerr;
	const char *why = NULL;
	char when[64];
	size_t i, nheld = 0, ntried = 0;
	time_t now, next = 0;
	int rc;

	out = xreallocarray(NULL, n ? n : 1, sizeof(*out));
	errs = xreallocarray(NULL, n ? n : 1, sizeof(*errs));
	for (i = 0; i < n; i++) {
		out[i] = DOUT_SKIPPED;
		err_clear(&errs[i]);
	}
	rc = deliver_fn(cf, acct, q, ids, n, out, errs, err);
	for (i = 0; i < n; i++) {
		if (out[i] == DOUT_SKIPPED)
			continue;
		ntried++;
		if (out[i] == DOUT_HELD && !held_on_its_own(q, ids[i]) &&
		    nheld++ == 0)
			why = errs[i].msg[0] != '\0' ? errs[i].msg : err->msg;
	}
	now = time(NULL);
	err_clear(&lerr);
	if (ntried > 0 && holdsched_record(q, acct, nheld > 0, why, now,
	    &next, &lerr) == -1)
		log_warnx("account %s: %s", acct->name, lerr.msg);
	else if (nheld > 0) {
		fmt_when(when, sizeof(when), next, now);
		log_warnx("account %s: %zu message%s held (%s); next try %s "
		    "('oauthmail flush' tries now)", acct->name, nheld,
		    nheld == 1 ? "" : "s", why, when);
	}
	free(errs);
	free(out);
	return rc;
}

int
runq_run(const struct config *cf, struct queue *q, enum inv_qselect sel,
    const char *value, int flags, struct err *err)
{
	struct sel_list l, held, warned;
	const struct account *acct;
	struct err lerr;
	char **ids, *name, **names;
	size_t i, j, n, nactive;
	time_t now = time(NULL);
	int failed = 0;

	memset(&l, 0, sizeof(l));
	memset(&held, 0, sizeof(held));
	memset(&warned, 0, sizeof(warned));
	err_clear(err);
	/* Debris of intakes killed mid-write (older than QUEUE_TMP_STALE). */
	err_clear(&lerr);
	if (queue_cleanup_tmp(q, now, &lerr) == -1)
		log_warnx("queue tmp/ cleanup: %s", lerr.msg);
	/* Entries a crash split between two renames are mended first. */
	err_clear(&lerr);
	if (queue_repair(q, now, &lerr) == -1)
		log_warnx("queue repair: %s", lerr.msg);
	/* System mode: mail dropped by local users joins the queue first. */
	err_clear(&lerr);
	if (cf->system_mode && sysq_pickup(cf, q, &lerr) == -1)
		log_warnx("maildrop: %s", lerr.msg);
	now = time(NULL);	/* what was picked up is due now */
	if (select_area(q, QAREA_ACTIVE, sel, value, !(flags & RUNQ_FORCE),
	    now, &l, err) == -1 ||
	    select_area(q, QAREA_HOLD, sel, value, 0, now, &held, err) == -1) {
		sel_free(&l);
		sel_free(&held);
		return -1;
	}
	if ((flags & RUNQ_SCHEDULE) && sel == QSEL_ALL) {
		names = sel_accounts(&held, &n);
		err_clear(&lerr);
		if (holdsched_prune(q, names, n, now, &lerr) == -1)
			log_warnx("%s", lerr.msg);
		free(names);
	}
	nactive = l.n;
	for (i = 0; i < held.n; i++)
		if (held.v[i].account != NULL)
			release_account(cf, q, &l, &held, i, flags, now,
			    &warned, &failed, err);
	if (flags & RUNQ_SCHEDULE)
		park_not_due(cf, q, &l, nactive, now);
	ids = xreallocarray(NULL, l.n ? l.n : 1, sizeof(*ids));
	/*
	 * One call per account, in the order accounts first appear (oldest
	 * entry first); entries taken are marked by a NULL account.
	 */
	for (i = 0; i < l.n; i++) {
		if ((name = l.v[i].account) == NULL)
			continue;
		n = 0;
		for (j = i; j < l.n; j++)
			if (l.v[j].account != NULL &&
			    strcmp(l.v[j].account, name) == 0)
				ids[n++] = l.v[j].id;
		if ((acct = find_account(cf, name)) == NULL)
			missing_account(&warned, name, &failed, err);
		else {
			err_clear(&lerr);
			if (deliver_account(cf, acct, q, ids, n,
			    &lerr) == -1) {
				if (!failed)
					*err = lerr;
				failed = 1;
			}
		}
		for (j = i + 1; j < l.n; j++)
			if (l.v[j].account != NULL &&
			    strcmp(l.v[j].account, name) == 0) {
				free(l.v[j].account);
				l.v[j].account = NULL;
			}
		free(name);
		l.v[i].account = NULL;
	}
	free(ids);
	sel_free(&l);
	sel_free(&held);
	sel_free(&warned);
	return failed ? -1 : 0;
}

int
runq_flush(const struct config *cf, struct queue *q, enum inv_qselect sel,
    const char *value, int force, struct err *err)
{
	return runq_run(cf, q, sel, value, force ? RUNQ_FORCE : 0, err);
}

/* 1 if the entry id is still in q/, hold/ or failed/: it did not go. */
static int
still_queued(struct queue *q, const char *id)
{
	char name[QUEUE_ID_LEN + 8];
	struct stat st;
	int a;

	if (snprintf(name, sizeof(name), "%s.env", id) >= (int)sizeof(name))
		return 1;
	for (a = QAREA_ACTIVE; a <= QAREA_FAILED; a++)
		if (fstatat(q->areafd[a], name, &st, AT_SYMLINK_NOFOLLOW) == 0)
			return 1;
	return 0;
}

int
runq_send_held(const struct config *cf, struct queue *q,
    const struct account *acct, size_t *nheld, size_t *nsent,
    struct err *err)
{
	struct sel_list held;
	char **ids;
	size_t i, n = 0;
	int rc = 0;

	*nheld = *nsent = 0;
	memset(&held, 0, sizeof(held));
	err_clear(err);
	if (select_area(q, QAREA_HOLD, QSEL_ALL, NULL, 0, 0, &held,
	    err) == -1) {
		sel_free(&held);
		return -1;
	}
	ids = xreallocarray(NULL, held.n ? held.n : 1, sizeof(*ids));
	for (i = 0; i < held.n; i++)
		if (strcmp(held.v[i].account, acct->name) == 0)
			ids[n++] = held.v[i].id;
	if (n > 0) {
		rc = deliver_account(cf, acct, q, ids, n, err);
		for (i = 0; i < n; i++)
			if (!still_queued(q, ids[i]))
				(*nsent)++;
	}
	*nheld = n;
	free(ids);
	sel_free(&held);
	return rc;
}
