/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * test_daemon.c -- the daemon's token keep-alive decision: when a refresh
 * is forced, when a sign-in is needed, when to warn ahead of a deadline
 * (Google testing apps: 7 days after sign-in; Microsoft: 90 days unused);
 * and the hold schedule (holdsched.c) on an injected clock: one attempt
 * per step, the step doubling to an hour, reset by a sign-in, a success
 * or a configuration change, kept in the queue directory; and the
 * service manager notifications (sdnotify.c) caught on a bound datagram
 * socket, by path and in the abstract namespace.
 */
#include "unit.h"

#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "envelope.h"
#include "holdsched.h"
#include "queue.h"
#include "runq.h"
#include "sdnotify.h"
#include "token.h"

#define NOW	((time_t)1800000000)
#define DAY	((time_t)86400)

static const struct {
	const char		*name;
	enum conf_provider	 provider;
	time_t			 issued_ago;	/* refresh_issued = NOW - this */
	time_t			 success_ago;	/* 0: never */
	time_t			 expires_in;	/* expires_at = NOW + this */
	int			 needs_login;
	enum daemon_tokact	 want;
	time_t			 warn_at;	/* 0: no warning */
} cases[] = {
	{ "fresh microsoft", PROVIDER_MICROSOFT, 1 * DAY, 0, 3000, 0,
	    TOKACT_NONE, 0 },
	{ "13 days idle: not yet", PROVIDER_MICROSOFT, 13 * DAY, 0,
	    -13 * DAY + 3600, 0, TOKACT_NONE, 0 },
	{ "14 days idle: refresh", PROVIDER_MICROSOFT, 14 * DAY, 0,
	    -14 * DAY + 3600, 0, TOKACT_REFRESH, 0 },
	{ "old issue but recent use", PROVIDER_MICROSOFT, 60 * DAY, 2 * DAY,
	    -60 * DAY + 3600, 0, TOKACT_NONE, 0 },
	{ "old issue but recent access token", PROVIDER_MICROSOFT, 60 * DAY,
	    0, 1800, 0, TOKACT_NONE, 0 },
	{ "88 days idle: refresh and warn", PROVIDER_MICROSOFT, 88 * DAY, 0,
	    -88 * DAY + 3600, 0, TOKACT_REFRESH, NOW + 2 * DAY },
	{ "outlook 88 days idle", PROVIDER_OUTLOOK, 88 * DAY, 0,
	    -88 * DAY + 3600, 0, TOKACT_REFRESH, NOW + 2 * DAY },
	{ "needs login", PROVIDER_MICROSOFT, 1 * DAY, 0, 3000, 1,
	    TOKACT_LOGIN, 0 },
	{ "google day 3: quiet", PROVIDER_GOOGLE, 3 * DAY, 0, 3000, 0,
	    TOKACT_NONE, 0 },
	{ "google day 5: warn", PROVIDER_GOOGLE, 5 * DAY, 0, 3000, 0,
	    TOKACT_NONE, NOW + 2 * DAY },
	{ "google day 7.5: warn (past)", PROVIDER_GOOGLE, 7 * DAY + DAY / 2,
	    0, 3000, 0, TOKACT_NONE, NOW - DAY / 2 },
	{ "google day 30: production app, quiet", PROVIDER_GOOGLE, 30 * DAY,
	    0, 3000, 0, TOKACT_NONE, 0 },
	{ "custom 100 days: refresh, no warning", PROVIDER_CUSTOM, 100 * DAY,
	    0, -100 * DAY + 3600, 0, TOKACT_REFRESH, 0 },
};

static void
test_token_check(void **state)
{
	struct token_record r;
	struct account a;
	time_t warn;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&a, 0, sizeof(a));
		memset(&r, 0, sizeof(r));
		a.name = (char *)"t";
		a.provider = cases[i].provider;
		r.refresh_issued = NOW - cases[i].issued_ago;
		r.last_success = cases[i].success_ago ?
		    NOW - cases[i].success_ago : 0;
		r.expires_at = NOW + cases[i].expires_in;
		r.needs_login = cases[i].needs_login;
		warn = -1;
		if (daemon_token_check(&a, &r, NOW, &warn) != cases[i].want)
			fail_msg("%s: wrong action", cases[i].name);
		if (cases[i].want != TOKACT_LOGIN && warn != cases[i].warn_at)
			fail_msg("%s: warn at %lld, want %lld", cases[i].name,
			    (long long)warn, (long long)cases[i].warn_at);
	}
	/* warn may be NULL. */
	assert_int_equal(daemon_token_check(&a, &r, NOW, NULL),
	    cases[i - 1].want);
}


/* ---- the hold schedule ---- */

static char topdir[256];

static int
sched_setup(void **state)
{
	struct queue *q = calloc(1, sizeof(*q));
	char qdir[300];
	struct err err;

	assert_non_null(q);
	(void)snprintf(topdir, sizeof(topdir), "/tmp/test_daemon.XXXXXX");
	assert_non_null(mkdtemp(topdir));
	(void)snprintf(qdir, sizeof(qdir), "%s/queue", topdir);
	if (queue_open(q, qdir, &err) == -1)
		fail_msg("queue_open: %s", err.msg);
	*state = q;
	return 0;
}

static int
sched_teardown(void **state)
{
	struct queue *q = *state;
	char cmd[400];

	queue_close(q);
	free(q);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", topdir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void
test_sched_step(void **state)
{
	(void)state;
	assert_int_equal(holdsched_step(0), 0);
	assert_int_equal(holdsched_step(-3), 0);
	assert_int_equal(holdsched_step(1), 60);
	assert_int_equal(holdsched_step(2), 120);
	assert_int_equal(holdsched_step(3), 240);
	assert_int_equal(holdsched_step(6), 1920);
	assert_int_equal(holdsched_step(7), 3600);	/* 3840 capped */
	assert_int_equal(holdsched_step(1000000), 3600);
}

static void
acct_init(struct account *a, const char *name)
{
	memset(a, 0, sizeof(*a));
	a->name = (char *)name;
	a->host = (char *)"smtp.office365.com";
	a->from = (char *)"alice@example.test";
	a->provider = PROVIDER_MICROSOFT;
}

static time_t
claim(struct queue *q, const struct account *a, time_t now, int want)
{
	struct err err;
	time_t next = -1;
	int r;

	err_clear(&err);
	r = holdsched_claim(q, a, now, NULL, 0, &next, &err);
	if (r != want)
		fail_msg("claim at +%lld: %d, want %d (%s)",
		    (long long)(now - NOW), r, want, err.msg);
	return next;
}

static void
held(struct queue *q, const struct account *a, time_t now, time_t want)
{
	struct err err;
	time_t next = -1;

	err_clear(&err);
	if (holdsched_record(q, a, 1, "535 5.7.139 Authentication "
	    "unsuccessful\tdisabled\n", now, &next, &err) == -1)
		fail_msg("record: %s", err.msg);
	assert_int_equal(next, want);
}

/* One attempt per step, whatever asks in between; the step doubles. */
static void
test_sched_steps(void **state)
{
	struct queue *q = *state;
	struct account a;
	struct err err;
	time_t t;
	int i;

	acct_init(&a, "ms");
	/* No record: due at once; the claim books the first step. */
	assert_int_equal(claim(q, &a, NOW, 1), NOW + 60);
	/* A second runner (or the daemon woken again) 1 s later: no. */
	assert_int_equal(claim(q, &a, NOW + 1, 0), NOW + 60);
	held(q, &a, NOW + 2, NOW + 62);
	for (t = NOW + 3; t < NOW + 62; t += 7)
		(void)claim(q, &a, t, 0);
	assert_int_equal(claim(q, &a, NOW + 62, 1), NOW + 62 + 120);
	held(q, &a, NOW + 63, NOW + 63 + 120);
	(void)claim(q, &a, NOW + 63 + 119, 0);
	t = NOW + 63 + 120;
	(void)claim(q, &a, t, 1);
	/* Refused again and again: the step stops growing at one hour. */
	for (i = 0; i < 10; i++) {
		held(q, &a, t, t + holdsched_step(3 + i));
		t += holdsched_step(3 + i);
		(void)claim(q, &a, t - 1, 0);
		(void)claim(q, &a, t, 1);
	}
	held(q, &a, t, t + 3600);
	/* A success forgets the account: the next refusal starts at 1 min. */
	err_clear(&err);
	assert_int_equal(holdsched_record(q, &a, 0, NULL, t + 5, NULL, &err),
	    0);
	(void)claim(q, &a, t + 6, 1);
	held(q, &a, t + 7, t + 67);
}

/* "oauthmail login", a new configuration, another account. */
static void
test_sched_resets(void **state)
{
	struct queue *q = *state;
	struct account a, b;
	struct err err;

	acct_init(&a, "ms");
	acct_init(&b, "other@x");
	(void)claim(q, &a, NOW, 1);
	held(q, &a, NOW, NOW + 60);
	(void)claim(q, &a, NOW + 60, 1);
	held(q, &a, NOW + 60, NOW + 180);
	(void)claim(q, &b, NOW + 61, 1);
	held(q, &b, NOW + 61, NOW + 121);
	(void)claim(q, &a, NOW + 62, 0);
	/* The sign-in resets only its account. */
	err_clear(&err);
	assert_int_equal(holdsched_reset(q, "ms", &err), 0);
	(void)claim(q, &a, NOW + 63, 1);
	(void)claim(q, &b, NOW + 63, 0);
	held(q, &a, NOW + 64, NOW + 124);
	/* A configuration change (another tenant) gives a turn at once. */
	a.tenant = (char *)"contoso.onmicrosoft.com";
	assert_int_equal(claim(q, &a, NOW + 65, 1), NOW + 125);
	(void)claim(q, &a, NOW + 66, 0);
	held(q, &a, NOW + 66, NOW + 126);
	/* Reset of an account without a record, and of everything. */
	assert_int_equal(holdsched_reset(q, "nobody", &err), 0);
	assert_int_equal(holdsched_reset(q, NULL, &err), 0);
	(void)claim(q, &a, NOW + 67, 1);
	(void)claim(q, &b, NOW + 67, 1);
}

/* The file: what survives a restart, what a broken file does. */
static void
test_sched_file(void **state)
{
	struct queue *q = *state;
	const struct holdsched_rec *r;
	struct holdsched hs;
	struct account a, b;
	struct err err;
	struct stat st;
	char *names[1];
	int fd;

	acct_init(&a, "ms");
	acct_init(&b, "gone");
	err_clear(&err);
	assert_int_equal(holdsched_load(q, &hs, &err), 0);	/* no file */
	assert_int_equal(hs.n, 0);
	holdsched_free(&hs);
	(void)claim(q, &a, NOW, 1);
	held(q, &a, NOW, NOW + 60);
	(void)claim(q, &b, NOW, 1);
	held(q, &b, NOW, NOW + 60);
	assert_int_equal(fstatat(q->dirfd, HOLDSCHED_FILE, &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(holdsched_load(q, &hs, &err), 0);
	assert_int_equal(hs.n, 2);
	r = holdsched_find(&hs, "ms");
	assert_non_null(r);
	assert_int_equal(r->fails, 1);
	assert_int_equal(r->next, NOW + 60);
	assert_int_equal(r->fp, holdsched_fingerprint(&a));
	/* The reason is kept on one line, without control characters. */
	assert_string_equal(r->reason, "535 5.7.139 Authentication "
	    "unsuccessful disabled\\x0a");
	assert_false(holdsched_due(r, holdsched_fingerprint(&a), NOW + 59));
	assert_true(holdsched_due(r, holdsched_fingerprint(&a), NOW + 60));
	assert_true(holdsched_due(NULL, 0, NOW));
	assert_int_equal(holdsched_next_wake(&hs, NOW), NOW + 60);
	assert_int_equal(holdsched_next_wake(&hs, NOW + 60), 0);
	holdsched_free(&hs);
	/* Due, and no held mail left for "gone": pruned; "ms" kept. */
	names[0] = (char *)"ms";
	assert_int_equal(holdsched_prune(q, names, 1, NOW + 59, &err), 0);
	assert_int_equal(holdsched_load(q, &hs, &err), 0);
	assert_int_equal(hs.n, 2);		/* not due yet: kept */
	holdsched_free(&hs);
	assert_int_equal(holdsched_prune(q, names, 1, NOW + 60, &err), 0);
	assert_int_equal(holdsched_load(q, &hs, &err), 0);
	assert_int_equal(hs.n, 1);
	assert_non_null(holdsched_find(&hs, "ms"));
	holdsched_free(&hs);
	/* Garbage lines are dropped, the good ones kept. */
	fd = openat(q->dirfd, HOLDSCHED_FILE, O_WRONLY | O_TRUNC);
	assert_true(fd != -1);
	{
		static const char text[] = "oauthmail-hold-schedule 1\n"
		    "bad name!\t1\t2\t3\t0000000000000000\tx\n"
		    "ms\t2\t1800000000\t1800000120\t0123456789abcdef\twhy\n"
		    "ms2\tx\t1\t2\t0000000000000000\tx\n"
		    "torn\t1\t2";

		assert_int_equal(write(fd, text, sizeof(text) - 1),
		    (ssize_t)sizeof(text) - 1);
	}
	(void)close(fd);
	assert_int_equal(holdsched_load(q, &hs, &err), 0);
	assert_int_equal(hs.n, 1);
	assert_int_equal(hs.v[0].fails, 2);
	assert_int_equal(hs.v[0].fp, 0x0123456789abcdefULL);
	holdsched_free(&hs);
	/* Not a schedule at all: empty, and the next change rewrites it. */
	fd = openat(q->dirfd, HOLDSCHED_FILE, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "garbage\n", 8), 8);
	(void)close(fd);
	assert_int_equal(holdsched_load(q, &hs, &err), 0);
	assert_int_equal(hs.n, 0);
	holdsched_free(&hs);
	(void)claim(q, &a, NOW, 1);
	assert_int_equal(holdsched_load(q, &hs, &err), 0);
	assert_int_equal(hs.n, 1);
	holdsched_free(&hs);
}

/* A held entry of account in q (hold/<id>). */
static void
held_entry(struct queue *q, const char *account, char id[QUEUE_ID_LEN + 1])
{
	struct envelope e;
	struct err err;
	int fd;

	envelope_init(&e);
	e.account = strdup(account);
	e.sender = strdup("alice@example.test");
	e.created = e.next_try = time(NULL);
	e.state = ENV_HELD;
	envelope_add_rcpt(&e, "bob@example.test", NULL);
	if (queue_create(q, &e, &fd, &err) == -1)
		fail_msg("queue_create: %s", err.msg);
	assert_int_equal(write(fd, "Subject: x\n\nbody\n", 17), 17);
	e.size = 17;
	if (queue_commit(q, &e, fd, &err) == -1 ||
	    queue_move(q, e.id, QAREA_ACTIVE, QAREA_HOLD, &err) == -1)
		fail_msg("held entry: %s", err.msg);
	memcpy(id, e.id, QUEUE_ID_LEN + 1);
	envelope_free(&e);
}

/* 1 if the schedule has a record of account. */
static int
has_record(struct queue *q, const char *account)
{
	struct holdsched hs;
	struct err err;
	int found;

	if (holdsched_load(q, &hs, &err) == -1)
		fail_msg("holdsched_load: %s", err.msg);
	found = holdsched_find(&hs, account) != NULL;
	holdsched_free(&hs);
	return found;
}

/*
 * A turn is taken for held mail that is still there: mail another runner
 * sent (or took) since the caller looked leaves the schedule alone, but
 * an account not due stays not due.
 */
static void
test_sched_claim_gone(void **state)
{
	struct queue *q = *state;
	struct account a;
	struct err err;
	char id[QUEUE_ID_LEN + 1], *ids[1] = { id };
	time_t next = -1;

	acct_init(&a, "ms");
	err_clear(&err);
	held_entry(q, "ms", id);
	assert_int_equal(holdsched_claim(q, &a, NOW, ids, 1, &next, &err), 1);
	assert_int_equal(next, NOW + 60);
	assert_true(has_record(q, "ms"));
	assert_int_equal(holdsched_reset(q, "ms", &err), 0);
	assert_int_equal(queue_remove(q, QAREA_HOLD, id, &err), 0);
	assert_int_equal(holdsched_claim(q, &a, NOW, ids, 1, &next, &err), 2);
	assert_false(has_record(q, "ms"));
	/* Refused at NOW: not due, whatever is left in hold/. */
	held(q, &a, NOW, NOW + 60);
	assert_int_equal(holdsched_claim(q, &a, NOW + 1, ids, 1, &next,
	    &err), 0);
	assert_int_equal(next, NOW + 60);
	assert_int_equal(holdsched_claim(q, &a, NOW + 60, ids, 1, &next,
	    &err), 2);
	assert_int_equal(next, 0);
}

static int
no_delivery(const struct config *cf, const struct account *acct,
    struct queue *q, char **ids, size_t nids, enum deliver_outcome *outcomes,
    struct err *errs, struct err *err)
{
	(void)cf;
	(void)acct;
	(void)q;
	(void)ids;
	(void)nids;
	(void)outcomes;
	(void)errs;
	(void)err;
	fail_msg("nothing should be delivered");
	return -1;
}

/*
 * The other side of the race: holding the schedule's lock (as a runner
 * recording its outcome does), waits until the daemon's run has read
 * hold/<id>.env, then sends the entry (removes it) and records the
 * success, which finds no record yet. Exits 0 if all went well.
 */
static void
sender_child(struct queue *q, const char *id, const struct account *a,
    int ready)
{
	char b[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	char path[400], want[QUEUE_ID_LEN + 8];
	const struct inotify_event *ev;
	struct err err;
	ssize_t n;
	size_t off;
	int ifd, lk, seen = 0;

	(void)snprintf(path, sizeof(path), "%s/hold", q->dir);
	(void)snprintf(want, sizeof(want), "%s.env", id);
	if ((ifd = inotify_init1(IN_CLOEXEC)) == -1 ||
	    inotify_add_watch(ifd, path, IN_OPEN) == -1 ||
	    (lk = openat(q->dirfd, HOLDSCHED_FILE, O_RDWR)) == -1 ||
	    flock(lk, LOCK_EX) == -1 || write(ready, "r", 1) != 1)
		_exit(2);
	while (!seen && (n = read(ifd, b, sizeof(b))) > 0)
		for (off = 0; off + sizeof(*ev) <= (size_t)n;
		    off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)(b + off);
			if (ev->len > 0 && strcmp(ev->name, want) == 0)
				seen = 1;
		}
	if (!seen || queue_remove(q, QAREA_HOLD, id, &err) == -1)
		_exit(3);
	(void)close(lk);
	if (holdsched_record(q, a, 0, NULL, time(NULL), NULL, &err) == -1)
		_exit(4);
	_exit(0);
}

/*
 * The daemon's run selects an account's held mail; before it takes the
 * account's turn, "oauthmail login" sends that mail and records the
 * success. The run must not leave a turn behind (it would set the
 * account's new mail aside as held for a step).
 */
static void
test_sched_run_after_send(void **state)
{
	struct queue *q = *state;
	struct account a, *accts[1] = { &a };
	struct config cf;
	struct err err;
	char id[QUEUE_ID_LEN + 1], c;
	int p[2], st;
	pid_t pid;

	acct_init(&a, "ms");
	memset(&cf, 0, sizeof(cf));
	cf.accounts = accts;
	cf.naccounts = 1;
	err_clear(&err);
	held_entry(q, "ms", id);
	/* An empty schedule for the child to lock. */
	(void)claim(q, &a, NOW, 1);
	assert_int_equal(holdsched_reset(q, "ms", &err), 0);
	assert_int_equal(pipe(p), 0);
	if ((pid = fork()) == 0) {
		(void)close(p[0]);
		sender_child(q, id, &a, p[1]);
	}
	assert_true(pid > 0);
	(void)close(p[1]);
	assert_int_equal(read(p[0], &c, 1), 1);
	(void)close(p[0]);
	runq_set_deliver(no_delivery);
	(void)runq_run(&cf, q, QSEL_ALL, NULL, RUNQ_SCHEDULE, &err);
	runq_set_deliver(NULL);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	assert_false(has_record(q, "ms"));
}

/* What the stand-in delivery reports: one outcome per id, in order. */
static enum deliver_outcome mock_out[4];

static int
mock_delivery(const struct config *cf, const struct account *acct,
    struct queue *q, char **ids, size_t nids, enum deliver_outcome *outcomes,
    struct err *errs, struct err *err)
{
	size_t i;
	int rc = 0;

	(void)cf;
	(void)acct;
	assert_true(nids <= 4);
	for (i = 0; i < nids; i++) {
		outcomes[i] = mock_out[i];
		if (mock_out[i] == DOUT_SENT) {
			assert_int_equal(queue_remove(q, QAREA_ACTIVE, ids[i],
			    &errs[i]), 0);
			continue;
		}
		if (mock_out[i] == DOUT_SKIPPED)
			(void)err_set(&errs[i], ERR_TEMP, "%s is being "
			    "delivered by another process", ids[i]);
		else
			(void)err_set(&errs[i], ERR_AUTH, "535 5.7.139 "
			    "refused");
		if (rc == 0)
			*err = errs[i];
		rc = -1;
	}
	return rc;
}

static void
empty_queue(struct queue *q)
{
	enum queue_area areas[2] = { QAREA_ACTIVE, QAREA_HOLD };
	struct err err;
	char **ids;
	size_t i, j, n;

	for (i = 0; i < 2; i++) {
		assert_int_equal(queue_list(q, areas[i], &ids, &n, &err), 0);
		for (j = 0; j < n; j++)
			assert_int_equal(queue_remove(q, areas[i], ids[j],
			    &err), 0);
		queue_free_ids(ids, n);
	}
}

/*
 * A daemon's run over two held entries of account a ("ms"), due again,
 * whose delivery reports o0 and o1: 1 and *out if the schedule has a
 * record of the account after it (fails negated if its reason is not
 * the refusal's), else 0.
 */
static int
run_ms(struct queue *q, struct account *a, enum deliver_outcome o0,
    enum deliver_outcome o1, struct holdsched_rec *out)
{
	struct account *accts[1] = { a };
	const struct holdsched_rec *r;
	char id[2][QUEUE_ID_LEN + 1];
	struct holdsched hs;
	struct config cf;
	struct err err;
	int found;

	memset(&cf, 0, sizeof(cf));
	cf.accounts = accts;
	cf.naccounts = 1;
	err_clear(&err);
	empty_queue(q);
	assert_int_equal(holdsched_reset(q, NULL, &err), 0);
	held_entry(q, "ms", id[0]);
	held_entry(q, "ms", id[1]);
	/* Refused 2 min ago: due again. */
	held(q, a, time(NULL) - 120, time(NULL) - 60);
	mock_out[0] = o0;
	mock_out[1] = o1;
	runq_set_deliver(mock_delivery);
	(void)runq_run(&cf, q, QSEL_ALL, NULL, RUNQ_SCHEDULE, &err);
	runq_set_deliver(NULL);
	assert_int_equal(holdsched_load(q, &hs, &err), 0);
	if ((found = (r = holdsched_find(&hs, "ms")) != NULL))
		*out = *r;
	out->account = out->reason = NULL;
	if (found && strstr(r->reason, "5.7.139") == NULL)
		out->fails = -out->fails;	/* not the refusal's reason */
	holdsched_free(&hs);
	return found;
}

/*
 * A run learns only from its own outcomes: an entry another runner had
 * (or is moving) says nothing, one that went says the account works.
 */
static void
test_sched_outcomes(void **state)
{
	struct queue *q = *state;
	struct holdsched_rec r;
	struct account a;

	acct_init(&a, "ms");
	/* One sent, one taken by "oauthmail login": the account works. */
	assert_false(run_ms(q, &a, DOUT_SENT, DOUT_SKIPPED, &r));
	/* Both taken: no news; the turn the run took stays. */
	assert_true(run_ms(q, &a, DOUT_SKIPPED, DOUT_SKIPPED, &r));
	assert_int_equal(r.fails, 1);
	assert_true(r.next > time(NULL));
	/* One refused, one taken: held again, for the refusal. */
	assert_true(run_ms(q, &a, DOUT_SKIPPED, DOUT_HELD, &r));
	assert_int_equal(r.fails, 2);
}

/* ---- service manager notifications ---- */

/* A datagram socket bound to name ("@x": abstract); returns its fd. */
static int
listener(const char *name)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	assert_true(strlen(name) < sizeof(sa.sun_path));
	memcpy(sa.sun_path, name, strlen(name));
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
	    strlen(name));
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	else
		len++;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd != -1);
	if (bind(fd, (struct sockaddr *)&sa, len) == -1)
		fail_msg("bind %s: %s", name, strerror(errno));
	return fd;
}

static void
expect(int fd, const char *want)
{
	char b[512];
	ssize_t n;

	n = recv(fd, b, sizeof(b) - 1, MSG_DONTWAIT);
	if (n < 0)
		fail_msg("no datagram, want \"%s\": %s", want, strerror(errno));
	b[n] = '\0';
	assert_string_equal(b, want);
}

static void
nothing(int fd)
{
	char b[64];

	assert_int_equal(recv(fd, b, sizeof(b), MSG_DONTWAIT), -1);
}

static void
test_sdnotify_path(void **state)
{
	char dir[] = "/tmp/test_sdnotify.XXXXXX", path[128];
	struct sdnotify n;
	struct err err;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	(void)snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listener(path);
	err_clear(&err);
	assert_int_equal(sdnotify_open_with(&n, path, NULL, NULL, &err), 1);
	assert_int_equal(sdnotify_send(&n, "READY=1"), 0);
	expect(fd, "READY=1");
	/* STATUS is one line: a newline in the text cannot add a variable. */
	assert_int_equal(sdnotify_status(&n, "Serving %s: %d held\nREADY=1",
	    "/q", 5), 0);
	expect(fd, "STATUS=Serving /q: 5 held READY=1");
	assert_int_equal(sdnotify_send(&n, "STOPPING=1\nSTATUS=Stopping"), 0);
	expect(fd, "STOPPING=1\nSTATUS=Stopping");
	/* No watchdog asked for: no timeout, no ping. */
	assert_int_equal(sdnotify_watchdog_ms(&n), -1);
	sdnotify_watchdog(&n);
	nothing(fd);
	sdnotify_close(&n);
	assert_int_equal(n.fd, -1);
	(void)close(fd);
	(void)unlink(path);
	(void)rmdir(dir);
}

static void
test_sdnotify_abstract(void **state)
{
	struct sdnotify n;
	struct err err;
	char name[64];
	int fd;

	(void)state;
	(void)snprintf(name, sizeof(name), "@oauthmail-test-%ld",
	    (long)getpid());
	fd = listener(name);
	err_clear(&err);
	assert_int_equal(sdnotify_open_with(&n, name, NULL, NULL, &err), 1);
	assert_int_equal(sdnotify_send(&n, "READY=1"), 0);
	expect(fd, "READY=1");
	sdnotify_close(&n);
	(void)close(fd);
}

static void
test_sdnotify_watchdog(void **state)
{
	char name[64], pid[32];
	struct sdnotify n;
	struct err err;
	long long ms;
	int fd;

	(void)state;
	(void)snprintf(name, sizeof(name), "@oauthmail-wd-%ld",
	    (long)getpid());
	(void)snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	fd = listener(name);
	err_clear(&err);
	/* WatchdogSec=4: a ping every 2 s, none before. */
	assert_int_equal(sdnotify_open_with(&n, name, "4000000", pid, &err),
	    1);
	ms = sdnotify_watchdog_ms(&n);
	assert_true(ms > 1900 && ms <= 2000);
	sdnotify_watchdog(&n);
	nothing(fd);
	n.wd_last.tv_sec -= 3;		/* 3 s later */
	assert_int_equal(sdnotify_watchdog_ms(&n), 0);
	sdnotify_watchdog(&n);
	expect(fd, "WATCHDOG=1");
	assert_true(sdnotify_watchdog_ms(&n) > 1900);
	sdnotify_close(&n);
	/* For another process, or nonsense: no watchdog. */
	assert_int_equal(sdnotify_open_with(&n, name, "4000000", "1", &err),
	    1);
	assert_int_equal(sdnotify_watchdog_ms(&n), -1);
	sdnotify_close(&n);
	assert_int_equal(sdnotify_open_with(&n, name, "4s", NULL, &err), 1);
	assert_int_equal(sdnotify_watchdog_ms(&n), -1);
	sdnotify_close(&n);
	/* A tiny interval is never a busy loop. */
	assert_int_equal(sdnotify_open_with(&n, name, "10", NULL, &err), 1);
	assert_true(sdnotify_watchdog_ms(&n) > 0);
	sdnotify_close(&n);
	(void)close(fd);
}

static void
test_sdnotify_none(void **state)
{
	struct sdnotify n;
	struct err err;
	char longname[200];

	(void)state;
	err_clear(&err);
	/* Not under a manager: nothing, quietly. */
	assert_int_equal(sdnotify_open_with(&n, NULL, "4000000", NULL, &err),
	    0);
	assert_int_equal(n.fd, -1);
	assert_int_equal(sdnotify_send(&n, "READY=1"), 0);
	assert_int_equal(sdnotify_status(&n, "x"), 0);
	assert_int_equal(sdnotify_watchdog_ms(&n), -1);
	assert_int_equal(sdnotify_open_with(&n, "", NULL, NULL, &err), 0);
	/* Names that cannot be a socket address: a clear error. */
	assert_int_equal(sdnotify_open_with(&n, "run/notify", NULL, NULL,
	    &err), -1);
	assert_int_equal(err.class, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "NOTIFY_SOCKET"));
	assert_int_equal(n.fd, -1);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(sdnotify_open_with(&n, longname, NULL, NULL, &err),
	    -1);
	assert_int_equal(n.fd, -1);
	/* Nobody listening: the send fails, the caller runs on. */
	assert_int_equal(sdnotify_open_with(&n, "/nonexistent/notify", NULL,
	    NULL, &err), 1);
	assert_int_equal(sdnotify_send(&n, "READY=1"), -1);
	sdnotify_close(&n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_check),
		cmocka_unit_test(test_sched_step),
		cmocka_unit_test_setup_teardown(test_sched_steps, sched_setup,
		    sched_teardown),
		cmocka_unit_test_setup_teardown(test_sched_resets, sched_setup,
		    sched_teardown),
		cmocka_unit_test_setup_teardown(test_sched_file, sched_setup,
		    sched_teardown),
		cmocka_unit_test_setup_teardown(test_sched_claim_gone,
		    sched_setup, sched_teardown),
		cmocka_unit_test_setup_teardown(test_sched_run_after_send,
		    sched_setup, sched_teardown),
		cmocka_unit_test_setup_teardown(test_sched_outcomes,
		    sched_setup, sched_teardown),
		cmocka_unit_test(test_sdnotify_path),
		cmocka_unit_test(test_sdnotify_abstract),
		cmocka_unit_test(test_sdnotify_watchdog),
		cmocka_unit_test(test_sdnotify_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
