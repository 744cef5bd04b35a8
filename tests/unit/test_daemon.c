/*
 * test_daemon.c -- the daemon's token keep-alive decision: when a refresh
 * is forced, when a sign-in is needed, when to warn ahead of a deadline
 * (Google testing apps: 7 days after sign-in; Microsoft: 90 days unused);
 * and the hold schedule (holdsched.c) on an injected clock: one attempt
 * per step, the step doubling to an hour, reset by a sign-in, a success
 * or a configuration change, kept in the queue directory.
 */
#include "unit.h"

#include <sys/stat.h>

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"
#include "daemon.h"
#include "holdsched.h"
#include "queue.h"
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
	r = holdsched_claim(q, a, now, &next, &err);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
