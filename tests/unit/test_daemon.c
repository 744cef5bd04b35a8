/*
 * test_daemon.c -- the daemon's token keep-alive decision: when a refresh
 * is forced, when a sign-in is needed, when to warn ahead of a deadline
 * (Google testing apps: 7 days after sign-in; Microsoft: 90 days unused).
 */
#include "unit.h"

#include <time.h>

#include "conf.h"
#include "daemon.h"
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
