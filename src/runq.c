/*
 * runq.c -- the queue runner: mailq listing, selection and one delivery
 * run grouped by account. Delivery status notifications are in bounce.c.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "args.h"
#include "conf.h"
#include "deliver.h"
#include "envelope.h"
#include "log.h"
#include "queue.h"
#include "runq.h"
#include "status.h"
#include "sysq.h"
#include "xmalloc.h"

struct sel_item {
	char	*id;
	char	*account;
};

struct sel_list {
	struct sel_item	*v;
	size_t		 n;
	size_t		 cap;
};

static void	fmt_dur(char *, size_t, long long);
static int	list_area(struct queue *, FILE *, enum queue_area, time_t,
		    unsigned long long *, size_t *, struct err *);
static int	select_area(struct queue *, enum queue_area,
		    enum inv_qselect, const char *, int, time_t,
		    struct sel_list *, struct err *);
static void	sel_free(struct sel_list *);
static int	matches(const struct envelope *, enum inv_qselect,
		    const char *);

/* Compact durations for the listing: 45s, 12m, 2h05m, 3d04h. */
static void
fmt_dur(char *dst, size_t size, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		(void)snprintf(dst, size, "%llds", s);
	else if (s < 3600)
		(void)snprintf(dst, size, "%lldm", s / 60);
	else if (s < 86400)
		(void)snprintf(dst, size, "%lldh%02lldm", s / 3600,
		    (s % 3600) / 60);
	else
		(void)snprintf(dst, size, "%lldd%02lldh", s / 86400,
		    (s % 86400) / 3600);
}

static const char *
section_title(enum queue_area a)
{
	switch (a) {
	case QAREA_ACTIVE:
		return "Queued or deferred";
	case QAREA_HOLD:
		return "Held, needs sign-in";
	case QAREA_FAILED:
		return "Failed";
	default:
		return "Corrupt";
	}
}

static void
print_entry(FILE *out, enum queue_area a, const struct envelope *env,
    time_t now)
{
	const struct rcpt *r;
	char age[32], next[32];
	size_t i;

	fmt_dur(age, sizeof(age), (long long)(now - env->created));
	fprintf(out, "%s  %lld bytes  age %s  from <%s>  account %s\n",
	    env->id, (long long)env->size, age, env->sender, env->account);
	switch (a) {
	case QAREA_ACTIVE:
		if (env->next_try <= now)
			fprintf(out, "    attempts %d, next try now\n",
			    env->attempts);
		else {
			fmt_dur(next, sizeof(next),
			    (long long)(env->next_try - now));
			fprintf(out, "    attempts %d, next try in %s\n",
			    env->attempts, next);
		}
		break;
	case QAREA_HOLD:
		fprintf(out, "    attempts %d, waiting for sign-in: "
		    "oauthmail login %s\n", env->attempts, env->account);
		break;
	default:
		fprintf(out, "    attempts %d, gave up\n", env->attempts);
		break;
	}
	if (env->last_error != NULL)
		fprintf(out, "    last error: %s\n", env->last_error);
	for (i = 0; i < env->nrcpts; i++) {
		r = &env->rcpts[i];
		fprintf(out, "    %-8s <%s>%s%s\n",
		    envelope_rcpt_state_str(r->state), r->addr,
		    r->reply != NULL ? "  " : "",
		    r->reply != NULL ? r->reply : "");
	}
}

static int
list_area(struct queue *q, FILE *out, enum queue_area a, time_t now,
    unsigned long long *bytes, size_t *count, struct err *err)
{
	struct envelope env;
	struct err lerr;
	char **ids;
	size_t n, i;

	if (queue_list(q, a, &ids, &n, err) == -1)
		return -1;
	if (n == 0) {
		queue_free_ids(ids, n);
		return 0;
	}
	if (*count > 0)
		fputc('\n', out);
	fprintf(out, "%s (%zu):\n", section_title(a), n);
	for (i = 0; i < n; i++) {
		if (queue_load(q, a, ids[i], &env, &lerr) == -1) {
			fprintf(out, "%s  (unreadable envelope: %s)\n",
			    ids[i], lerr.msg);
			envelope_free(&env);
			continue;
		}
		print_entry(out, a, &env, now);
		*bytes += (unsigned long long)env.size;
		envelope_free(&env);
	}
	*count += n;
	queue_free_ids(ids, n);
	return 0;
}

int
runq_list_at(struct queue *q, FILE *out, time_t now, struct err *err)
{
	static const enum queue_area areas[] = { QAREA_ACTIVE, QAREA_HOLD,
	    QAREA_FAILED };
	unsigned long long bytes = 0;
	size_t i, count = 0;

	for (i = 0; i < nitems(areas); i++)
		if (list_area(q, out, areas[i], now, &bytes, &count, err) ==
		    -1)
			return -1;
	if (count == 0)
		fprintf(out, "Mail queue is empty\n");
	else
		fprintf(out, "\n-- %llu Kbytes in %zu Request%s.\n",
		    (bytes + 1023) / 1024, count, count == 1 ? "" : "s");
	if (fflush(out) == EOF || ferror(out))
		return err_set(err, ERR_IO, "writing the queue listing: %s",
		    strerror(errno));
	return 0;
}

int
runq_list(struct queue *q, FILE *out, struct err *err)
{
	return runq_list_at(q, out, time(NULL), err);
}

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

int
runq_flush(const struct config *cf, struct queue *q, enum inv_qselect sel,
    const char *value, int force, struct err *err)
{
	struct sel_list l, held, warned;
	const struct account *acct;
	struct err lerr;
	char **ids, *name;
	size_t i, j, n;
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
	if (select_area(q, QAREA_ACTIVE, sel, value, !force, now, &l,
	    err) == -1 ||
	    select_area(q, QAREA_HOLD, sel, value, 0, now, &held, err) == -1) {
		sel_free(&l);
		sel_free(&held);
		return -1;
	}
	for (i = 0; i < held.n; i++) {
		if (find_account(cf, held.v[i].account) == NULL) {
			/* Left held: releasing it could not help. */
			missing_account(&warned, held.v[i].account, &failed,
			    err);
			continue;
		}
		err_clear(&lerr);
		if (release_held(q, held.v[i].id, now, &lerr) == 0)
			sel_add(&l, held.v[i].id, held.v[i].account);
		else if (lerr.class != ERR_NONE)
			log_warnx("cannot release held entry %s: %s",
			    held.v[i].id, lerr.msg);
	}
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
			if (deliver_entries(cf, acct, q, ids, n, &lerr) == -1) {
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
