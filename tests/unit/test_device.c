/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * test_device.c -- the device flow's polling loop driven by a scripted
 * poller and a fake clock.
 */
#include "unit.h"

#include "device.h"
#include "json.h"
#include "oauth.h"
#include "status.h"

/* --- the device flow's polling loop -------------------------------------- */

#define MAXSTEPS 16

struct script {
	/* What each poll answers: 0, OAUTH_POLL_*, or -1 with error. */
	int		 rc[MAXSTEPS];
	const char	*error[MAXSTEPS];
	size_t		 nrc;
	size_t		 npolls;
	unsigned	 sleeps[MAXSTEPS];
	size_t		 nsleeps;
	int		 interrupt_at;	/* failing sleep; -1: none */
	time_t		 clock;
};

static int
fake_poll(void *arg, struct json_token *out, struct err *err)
{
	struct script *s = arg;
	int rc;

	assert_true(s->npolls < s->nrc);
	rc = s->rc[s->npolls];
	if (rc == 0)
		out->access_token = strdup("AT");
	if (rc == -1) {
		if (s->error[s->npolls] != NULL)
			out->error = strdup(s->error[s->npolls]);
		(void)err_set(err, ERR_CONFIG, "from poll: %s",
		    s->error[s->npolls] ? s->error[s->npolls] : "?");
	}
	s->npolls++;
	return rc;
}

static int
fake_sleep(void *arg, unsigned int secs)
{
	struct script *s = arg;

	if (s->interrupt_at == (int)s->nsleeps)
		return -1;
	assert_true(s->nsleeps < MAXSTEPS);
	s->sleeps[s->nsleeps++] = secs;
	s->clock += secs;
	return 0;
}

static time_t
fake_now(void *arg)
{
	struct script *s = arg;

	return s->clock;
}

static const struct {
	const char	*name;
	long long	 interval, expires_in;
	int		 rc[MAXSTEPS];
	const char	*error[MAXSTEPS];
	size_t		 nrc;
	int		 interrupt_at;
	int		 want_rc;
	enum err_class	 want_class;
	const char	*want_msg;
	unsigned	 want_sleeps[MAXSTEPS];
	size_t		 nsleeps;
} wait_cases[] = {
	{ "approved after two pendings", 5, 900,
	    { OAUTH_POLL_PENDING, OAUTH_POLL_PENDING, 0 }, { NULL }, 3, -1,
	    0, ERR_NONE, NULL, { 5, 5, 5 }, 3 },
	{ "slow_down adds 5 s for all later polls", 5, 900,
	    { OAUTH_POLL_PENDING, OAUTH_POLL_SLOW_DOWN, OAUTH_POLL_PENDING,
	    OAUTH_POLL_SLOW_DOWN, 0 }, { NULL }, 5, -1,
	    0, ERR_NONE, NULL, { 5, 5, 10, 10, 15 }, 5 },
	{ "no interval from the server: 5 s", 0, 900,
	    { 0 }, { NULL }, 1, -1, 0, ERR_NONE, NULL, { 5 }, 1 },
	{ "huge interval is clamped", 100000, 100000,
	    { 0 }, { NULL }, 1, -1, 0, ERR_NONE, NULL, { 300 }, 1 },
	{ "expired_token", 5, 900,
	    { OAUTH_POLL_PENDING, -1 }, { NULL, "expired_token" }, 2, -1,
	    -1, ERR_AUTH, "the code expired", { 5, 5 }, 2 },
	{ "the clock runs out before the server says so", 5, 12,
	    { OAUTH_POLL_PENDING, OAUTH_POLL_PENDING }, { NULL }, 2, -1,
	    -1, ERR_AUTH, "the code expired", { 5, 5, 5 }, 3 },
	{ "authorization_declined (Microsoft)", 5, 900,
	    { -1 }, { "authorization_declined" }, 1, -1,
	    -1, ERR_AUTH, "sign-in was declined", { 5 }, 1 },
	{ "access_denied (RFC 8628)", 5, 900,
	    { OAUTH_POLL_PENDING, -1 }, { NULL, "access_denied" }, 2, -1,
	    -1, ERR_AUTH, "sign-in was declined", { 5, 5 }, 2 },
	{ "other errors keep the poller's classification", 5, 900,
	    { -1 }, { "invalid_client" }, 1, -1,
	    -1, ERR_CONFIG, "from poll: invalid_client", { 5 }, 1 },
	{ "Ctrl-C while waiting", 5, 900,
	    { OAUTH_POLL_PENDING }, { NULL }, 1, 1,
	    -1, ERR_AUTH, "interrupted", { 5 }, 1 },
};

static void
test_device_wait(void **state)
{
	struct device_poller p;
	struct json_token out;
	struct script s;
	struct err err;
	size_t i, j;
	int rc;

	(void)state;
	for (i = 0; i < nitems(wait_cases); i++) {
		memset(&s, 0, sizeof(s));
		memcpy(s.rc, wait_cases[i].rc, sizeof(s.rc));
		memcpy(s.error, wait_cases[i].error, sizeof(s.error));
		s.nrc = wait_cases[i].nrc;
		s.interrupt_at = wait_cases[i].interrupt_at;
		s.clock = 1000000;
		p.poll = fake_poll;
		p.sleep = fake_sleep;
		p.now = fake_now;
		p.arg = &s;
		p.account = "acct";
		err_clear(&err);
		rc = device_wait(&p, wait_cases[i].interval,
		    wait_cases[i].expires_in, &out, &err);
		if (rc != wait_cases[i].want_rc)
			fail_msg("%s: rc %d (%s)", wait_cases[i].name, rc,
			    err.msg);
		if (rc == 0) {
			assert_non_null(out.access_token);
			assert_string_equal(out.access_token, "AT");
		} else {
			assert_null(out.access_token);
			assert_int_equal(err.class, wait_cases[i].want_class);
			if (strstr(err.msg, wait_cases[i].want_msg) == NULL)
				fail_msg("%s: message '%s'", wait_cases[i].name,
				    err.msg);
		}
		if (s.nsleeps != wait_cases[i].nsleeps)
			fail_msg("%s: %zu sleeps, want %zu", wait_cases[i].name,
			    s.nsleeps, wait_cases[i].nsleeps);
		for (j = 0; j < s.nsleeps; j++)
			if (s.sleeps[j] != wait_cases[i].want_sleeps[j])
				fail_msg("%s: sleep %zu was %u s, want %u s",
				    wait_cases[i].name, j, s.sleeps[j],
				    wait_cases[i].want_sleeps[j]);
		json_token_free(&out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_wait),
	};

	return cmocka_run_group_tests_name("device", tests, NULL, NULL);
}
