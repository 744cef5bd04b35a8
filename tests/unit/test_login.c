/*
 * test_login.c -- the pure parts of login.c: PKCE S256, the loopback
 * request parser (hostile input) and the device flow's polling loop
 * driven by a scripted poller and a fake clock.
 */
#include "unit.h"

#include "json.h"
#include "login.h"
#include "oauth.h"
#include "status.h"

/* --- PKCE (RFC 7636 Appendix B) ------------------------------------------ */

static void
test_pkce_vector(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(login_pkce_challenge(
	    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	/* Too small an output buffer is an error, not a truncation. */
	assert_int_equal(login_pkce_challenge("x", out, 20), -1);
}

/* --- the loopback request parser ----------------------------------------- */

#define CRLF "\r\n"
#define OTHER(req)	{ (req), LOGIN_REQ_OTHER, NULL, NULL, NULL, NULL }
#define BAD(req)	{ (req), -1, NULL, NULL, NULL, NULL }

static const struct {
	const char	*req;
	int		 want;
	const char	*code, *state, *error, *desc;
} req_cases[] = {
	{ "GET /?code=abc&state=s1 HTTP/1.1" CRLF "Host: x" CRLF CRLF,
	    LOGIN_REQ_REDIRECT, "abc", "s1", NULL, NULL },
	/* Unknown parameters are ignored; order does not matter. */
	{ "GET /?state=s1&session_state=zz&code=M.C5_BAY.2%2Bx%2F%3D HTTP/1.1"
	    CRLF CRLF, LOGIN_REQ_REDIRECT, "M.C5_BAY.2+x/=", "s1", NULL, NULL },
	{ "GET /?error=access_denied&error_description=User+said+no&state=q "
	    "HTTP/1.0" CRLF CRLF, LOGIN_REQ_REDIRECT, NULL, "q",
	    "access_denied", "User said no" },
	/* Bare LF line ends are accepted. */
	{ "GET /?code=1&state=2 HTTP/1.1\n\n", LOGIN_REQ_REDIRECT, "1", "2",
	    NULL, NULL },
	/* Not the redirect. */
	OTHER("GET /favicon.ico HTTP/1.1" CRLF CRLF),
	OTHER("GET / HTTP/1.1" CRLF CRLF),
	OTHER("GET /? HTTP/1.1" CRLF CRLF),
	OTHER("GET /?state=only HTTP/1.1" CRLF CRLF),
	OTHER("GET /x?code=1&state=2 HTTP/1.1" CRLF CRLF),
	OTHER("POST /?code=1&state=2 HTTP/1.1" CRLF CRLF),
	OTHER("HEAD /?code=1&state=2 HTTP/1.1" CRLF CRLF),
	/* Malformed or hostile. */
	BAD(""),
	BAD("GET /?code=1&state=2 HTTP/1.1"),		/* no line end */
	BAD("GET /?code=1&state=2" CRLF CRLF),		/* no version */
	BAD("GET /?code=1&state=2 HTTP/2.0" CRLF CRLF),
	BAD("GET  /?code=1 HTTP/1.1" CRLF CRLF),
	BAD(" GET /?code=1 HTTP/1.1" CRLF CRLF),
	BAD("G(T /?code=1 HTTP/1.1" CRLF CRLF),
	BAD("GET /?code=1&code=2&state=s HTTP/1.1" CRLF CRLF),
	BAD("GET /?code=1&state=s&state=t HTTP/1.1" CRLF CRLF),
	BAD("GET /?code=%zz&state=s HTTP/1.1" CRLF CRLF),
	BAD("GET /?code=ab%2&state=s HTTP/1.1" CRLF CRLF),
	BAD("GET /?code=ab%&state=s HTTP/1.1" CRLF CRLF),
	BAD("GET /?code=a%00b&state=s HTTP/1.1" CRLF CRLF),
	BAD("GET /?code=a%0Ab&state=s HTTP/1.1" CRLF CRLF),
	BAD("GET /?code=a\x01" "b&state=s HTTP/1.1" CRLF CRLF),
	BAD("GET /?code=a\x80&state=s HTTP/1.1" CRLF CRLF),
};

static void
check_str(size_t i, const char *what, const char *got, const char *want)
{
	if (want == NULL && got == NULL)
		return;
	if (want == NULL || got == NULL || strcmp(got, want) != 0)
		fail_msg("case %zu: %s: got '%s', want '%s'", i, what,
		    got ? got : "(null)", want ? want : "(null)");
}

static void
test_parse_request(void **state)
{
	struct login_redirect r;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < nitems(req_cases); i++) {
		rc = login_parse_request(req_cases[i].req,
		    strlen(req_cases[i].req), &r);
		if (rc != req_cases[i].want)
			fail_msg("case %zu (%s): rc %d, want %d", i,
			    req_cases[i].req, rc, req_cases[i].want);
		if (rc == LOGIN_REQ_REDIRECT) {
			check_str(i, "code", r.code, req_cases[i].code);
			check_str(i, "state", r.state, req_cases[i].state);
			check_str(i, "error", r.error, req_cases[i].error);
			check_str(i, "desc", r.error_description,
			    req_cases[i].desc);
		} else {
			assert_null(r.code);
			assert_null(r.state);
		}
		login_redirect_free(&r);
	}
}

/* A NUL inside the request and an oversized request are refused. */
static void
test_parse_request_bounds(void **state)
{
	static const char nul[] = "GET /?code=a\0b&state=s HTTP/1.1\r\n\r\n";
	struct login_redirect r;
	char *big;
	size_t n;

	(void)state;
	assert_int_equal(login_parse_request(nul, sizeof(nul) - 1, &r), -1);
	login_redirect_free(&r);

	n = LOGIN_REQ_MAX + 1;
	big = malloc(n);
	assert_non_null(big);
	memset(big, 'a', n);
	memcpy(big, "GET /?code=", 11);
	memcpy(big + n - 24, "&state=s HTTP/1.1\r\n\r\n", 21);
	assert_int_equal(login_parse_request(big, n, &r), -1);
	login_redirect_free(&r);
	/* Just under the limit, the same shape parses. */
	n = LOGIN_REQ_MAX;
	memset(big, 'a', n);
	memcpy(big, "GET /?code=", 11);
	memcpy(big + n - 21, "&state=s HTTP/1.1\r\n\r\n", 21);
	assert_int_equal(login_parse_request(big, n, &r), LOGIN_REQ_REDIRECT);
	assert_string_equal(r.state, "s");
	assert_int_equal(strlen(r.code), n - 11 - 21);
	login_redirect_free(&r);
	free(big);
}

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
	struct login_poller p;
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
		rc = login_device_wait(&p, wait_cases[i].interval,
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
		cmocka_unit_test(test_pkce_vector),
		cmocka_unit_test(test_parse_request),
		cmocka_unit_test(test_parse_request_bounds),
		cmocka_unit_test(test_device_wait),
	};

	return cmocka_run_group_tests_name("login", tests, NULL, NULL);
}
