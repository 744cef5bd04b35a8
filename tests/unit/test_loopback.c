/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * test_loopback.c -- the loopback request parser and the parser of
 * what the user pastes (hostile input).
 */
#include "unit.h"

#include "loopback.h"

/* --- the loopback request parser ----------------------------------------- */

#define CRLF "\r\n"
#define OTHER(req)	{ (req), LOOPBACK_REQ_OTHER, NULL, NULL, NULL, NULL }
#define BAD(req)	{ (req), -1, NULL, NULL, NULL, NULL }

static const struct {
	const char	*req;
	int		 want;
	const char	*code, *state, *error, *desc;
} req_cases[] = {
	{ "GET /?code=abc&state=s1 HTTP/1.1" CRLF "Host: x" CRLF CRLF,
	    LOOPBACK_REQ_REDIRECT, "abc", "s1", NULL, NULL },
	/* Unknown parameters are ignored; order does not matter. */
	{ "GET /?state=s1&session_state=zz&code=M.C5_BAY.2%2Bx%2F%3D HTTP/1.1"
	    CRLF CRLF, LOOPBACK_REQ_REDIRECT, "M.C5_BAY.2+x/=", "s1", NULL,
	    NULL },
	{ "GET /?error=access_denied&error_description=User+said+no&state=q "
	    "HTTP/1.0" CRLF CRLF, LOOPBACK_REQ_REDIRECT, NULL, "q",
	    "access_denied", "User said no" },
	/* Bare LF line ends are accepted. */
	{ "GET /?code=1&state=2 HTTP/1.1\n\n", LOOPBACK_REQ_REDIRECT, "1", "2",
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
	struct loopback_redirect r;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < nitems(req_cases); i++) {
		rc = loopback_parse_request(req_cases[i].req,
		    strlen(req_cases[i].req), &r);
		if (rc != req_cases[i].want)
			fail_msg("case %zu (%s): rc %d, want %d", i,
			    req_cases[i].req, rc, req_cases[i].want);
		if (rc == LOOPBACK_REQ_REDIRECT) {
			check_str(i, "code", r.code, req_cases[i].code);
			check_str(i, "state", r.state, req_cases[i].state);
			check_str(i, "error", r.error, req_cases[i].error);
			check_str(i, "desc", r.error_description,
			    req_cases[i].desc);
		} else {
			assert_null(r.code);
			assert_null(r.state);
		}
		loopback_redirect_free(&r);
	}
}

/* A NUL inside the request and an oversized request are refused. */
static void
test_parse_request_bounds(void **state)
{
	static const char nul[] = "GET /?code=a\0b&state=s HTTP/1.1\r\n\r\n";
	struct loopback_redirect r;
	char *big;
	size_t n;

	(void)state;
	assert_int_equal(loopback_parse_request(nul, sizeof(nul) - 1, &r), -1);
	loopback_redirect_free(&r);

	n = LOOPBACK_REQ_MAX + 1;
	big = malloc(n);
	assert_non_null(big);
	memset(big, 'a', n);
	memcpy(big, "GET /?code=", 11);
	memcpy(big + n - 24, "&state=s HTTP/1.1\r\n\r\n", 21);
	assert_int_equal(loopback_parse_request(big, n, &r), -1);
	loopback_redirect_free(&r);
	/* Just under the limit, the same shape parses. */
	n = LOOPBACK_REQ_MAX;
	memset(big, 'a', n);
	memcpy(big, "GET /?code=", 11);
	memcpy(big + n - 21, "&state=s HTTP/1.1\r\n\r\n", 21);
	assert_int_equal(loopback_parse_request(big, n, &r),
	    LOOPBACK_REQ_REDIRECT);
	assert_string_equal(r.state, "s");
	assert_int_equal(strlen(r.code), n - 11 - 21);
	loopback_redirect_free(&r);
	free(big);
}

/* --- what the user pastes ----------------------------------------------- */

#define RU "http://127.0.0.1:4711/"

static const struct {
	const char	*text;
	int		 want;
	const char	*code, *state, *iss;
} paste_cases[] = {
	{ RU "?code=c1&state=s1", LOOPBACK_PASTE_URL, "c1", "s1", NULL },
	{ "  " RU "?state=s1&code=c%2F1&iss=https%3A%2F%2Fa.test\r\n",
	    LOOPBACK_PASTE_URL, "c/1", "s1", "https://a.test" },
	{ "127.0.0.1:4711/?code=c1&state=s1#frag", LOOPBACK_PASTE_URL, "c1",
	    "s1", NULL },
	{ "HTTP://127.0.0.1:4711/?code=c1", LOOPBACK_PASTE_URL, "c1", NULL,
	    NULL },
	{ "?code=c1&state=s1", LOOPBACK_PASTE_URL, "c1", "s1", NULL },
	{ "code=c1&state=s1", LOOPBACK_PASTE_URL, "c1", "s1", NULL },
	{ RU "?error=access_denied&state=s1", LOOPBACK_PASTE_URL, NULL, "s1",
	    NULL },
	{ "M.C5_BAY.2.U.abc", LOOPBACK_PASTE_CODE, "M.C5_BAY.2.U.abc", NULL,
	    NULL },
	{ "4%2F0AX4Xf", LOOPBACK_PASTE_CODE, "4/0AX4Xf", NULL, NULL },
	{ "", LOOPBACK_PASTE_EMPTY, NULL, NULL, NULL },
	{ " \t\n", LOOPBACK_PASTE_EMPTY, NULL, NULL, NULL },
	{ "http://127.0.0.1:4712/?code=c1", LOOPBACK_PASTE_ELSEWHERE, NULL,
	    NULL, NULL },
	{ "https://evil.test/?code=c1&state=s1", LOOPBACK_PASTE_ELSEWHERE,
	    NULL, NULL, NULL },
	{ "http://127.0.0.1:4711/x?code=c1", LOOPBACK_PASTE_ELSEWHERE, NULL,
	    NULL, NULL },
	{ RU "?state=s1", LOOPBACK_PASTE_NOCODE, NULL, NULL, NULL },
	{ RU "?code=1&code=2", LOOPBACK_PASTE_BAD, NULL, NULL, NULL },
	{ RU "?code=a%00b", LOOPBACK_PASTE_BAD, NULL, NULL, NULL },
	{ "two words", LOOPBACK_PASTE_BAD, NULL, NULL, NULL },
	{ "a%zz", LOOPBACK_PASTE_BAD, NULL, NULL, NULL },
	{ "4%1FX", LOOPBACK_PASTE_BAD, NULL, NULL, NULL },
	{ "a+b", LOOPBACK_PASTE_BAD, NULL, NULL, NULL },
	{ "4%2FX", LOOPBACK_PASTE_CODE, "4/X", NULL, NULL },
	{ "127", LOOPBACK_PASTE_CODE, "127", NULL, NULL },
	{ "caf\xc3\xa9", LOOPBACK_PASTE_BAD, NULL, NULL, NULL },
};

static void
test_parse_paste(void **state)
{
	struct loopback_redirect r;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < nitems(paste_cases); i++) {
		rc = loopback_parse_paste(paste_cases[i].text,
		    strlen(paste_cases[i].text), RU, &r);
		if (rc != paste_cases[i].want)
			fail_msg("paste %zu (%s): rc %d, want %d", i,
			    paste_cases[i].text, rc, paste_cases[i].want);
		check_str(i, "code", r.code, paste_cases[i].code);
		check_str(i, "state", r.state, paste_cases[i].state);
		check_str(i, "iss", r.iss, paste_cases[i].iss);
		loopback_redirect_free(&r);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_request),
		cmocka_unit_test(test_parse_request_bounds),
		cmocka_unit_test(test_parse_paste),
	};

	return cmocka_run_group_tests_name("loopback", tests, NULL, NULL);
}
