/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* test_rfc5322.c -- the push/pull header scanner. */
#include "unit.h"

#include <errno.h>

#include "buf.h"
#include "rfc5322.h"

/*
 * Each case is input lines separated by '\n' (the last one with no '\n'
 * after it is still a line) and the expected event trace:
 * S<name>=<value> start, C<value> continuation, E end of field,
 * H / I end of headers (I: inserted), B<line> body.
 */
struct scan_case {
	const char	*in;
	const char	*want;
};

static const struct scan_case cases[] = {
	{ "Subject: hi\nTo: a@b\n\nbody\n.x",
	  "S[Subject]= hi|E|S[To]= a@b|E|H|B[body]|B[.x]|" },
	{ "Subject: one\n two\n\tthree\n\nb",
	  "S[Subject]= one|C[ two]|C[\tthree]|E|H|B[b]|" },
	/* no blank line: the first non-header line starts the body */
	{ "Subject: x\nthis is body\nmore",
	  "S[Subject]= x|E|I|B[this is body]|B[more]|" },
	/* no header at all */
	{ "hello world\nTo: not@header",
	  "I|B[hello world]|B[To: not@header]|" },
	{ " leading space\nx", "I|B[ leading space]|B[x]|" },
	{ "\nTo: a@b", "H|B[To: a@b]|" },
	/* obs: white space before the colon; empty value */
	{ "Subject : x\nX-Empty:\n\n", "S[Subject]= x|E|S[X-Empty]=|E|H|" },
	/* From_ is not a header field: body */
	{ "From a@b Mon Jan  1 00:00:00 2024\nTo: x",
	  "I|B[From a@b Mon Jan  1 00:00:00 2024]|B[To: x]|" },
	/* white space only line continues */
	{ "A: 1\n \nB: 2", "S[A]= 1|C[ ]|E|S[B]= 2|E|I|" },
	/* name with non-printable ends the headers */
	{ "A: 1\nB\x01: 2", "S[A]= 1|E|I|B[B\x01: 2]|" },
	{ ":novalue", "I|B[:novalue]|" },
	{ "", "I|" },
};

static void
drain(struct rfc5322_parser *p, struct buf *b)
{
	struct rfc5322_result r;

	while (rfc5322_next(p, &r) != RFC5322_NONE) {
		switch (r.ev) {
		case RFC5322_HDR_START:
			assert_int_equal(buf_addf(b, "S[%.*s]=%.*s|",
			    (int)r.name.len, r.name.p, (int)r.value.len,
			    r.value.p), 0);
			break;
		case RFC5322_HDR_CONT:
			assert_int_equal(buf_addf(b, "C[%.*s]|",
			    (int)r.value.len, r.value.p), 0);
			break;
		case RFC5322_HDR_END:
			assert_int_equal(buf_adds(b, "E|"), 0);
			break;
		case RFC5322_END_OF_HDRS:
			assert_int_equal(buf_adds(b, r.inserted ? "I|" : "H|"),
			    0);
			break;
		case RFC5322_BODY:
			assert_int_equal(buf_addf(b, "B[%.*s]|",
			    (int)r.value.len, r.value.p), 0);
			break;
		default:
			fail();
		}
	}
}

static void
test_scan_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		struct rfc5322_parser p;
		struct buf b;
		const char *s = cases[i].in, *nl;

		rfc5322_init(&p);
		buf_init(&b, 4096, 0);
		while (*s != '\0') {
			nl = strchr(s, '\n');
			if (nl == NULL)
				nl = s + strlen(s);
			assert_int_equal(rfc5322_push(&p, s, nl - s), 0);
			drain(&p, &b);
			s = *nl ? nl + 1 : nl;
		}
		assert_int_equal(rfc5322_push_eof(&p), 0);
		drain(&p, &b);
		assert_true(rfc5322_in_body(&p));
		if (strcmp(buf_str(&b), cases[i].want) != 0)
			fail_msg("case %zu:\n got '%s'\nwant '%s'", i,
			    buf_str(&b), cases[i].want);
		buf_free(&b);
	}
}

static void
test_is_field(void **state)
{
	size_t n = 0;

	(void)state;
	assert_true(rfc5322_is_field("To: x", 5, &n));
	assert_int_equal(n, 2);
	assert_true(rfc5322_is_field("X-A\t:", 5, &n));
	assert_int_equal(n, 3);
	assert_false(rfc5322_is_field("From x", 6, &n));
	assert_false(rfc5322_is_field("To", 2, &n));
	assert_false(rfc5322_is_field("T o: x", 6, &n));
	assert_false(rfc5322_is_field("T\xc3\xa9: x", 6, &n));
}

static void
test_limits(void **state)
{
	struct rfc5322_parser p;
	struct rfc5322_result r;
	char *line;
	size_t i;

	(void)state;
	line = malloc(LIM_HDR_VALUE + 16);
	assert_non_null(line);

	/* a name over LIM_HDR_NAME */
	rfc5322_init(&p);
	memset(line, 'X', LIM_HDR_NAME + 1);
	line[LIM_HDR_NAME + 1] = ':';
	errno = 0;
	assert_int_equal(rfc5322_push(&p, line, LIM_HDR_NAME + 2), -1);
	assert_int_equal(errno, E2BIG);
	/* stays in the error state */
	assert_int_equal(rfc5322_push(&p, "A: b", 4), -1);
	/* exactly LIM_HDR_NAME is fine */
	rfc5322_init(&p);
	line[LIM_HDR_NAME - 1] = ':';
	assert_int_equal(rfc5322_push(&p, line, LIM_HDR_NAME), 0);

	/* a field growing over LIM_HDR_VALUE through continuations */
	rfc5322_init(&p);
	assert_int_equal(rfc5322_push(&p, "A: b", 4), 0);
	while (rfc5322_next(&p, &r) != RFC5322_NONE)
		;
	memset(line, ' ', 1000);
	for (i = 0; i < LIM_HDR_VALUE / 1001; i++) {
		assert_int_equal(rfc5322_push(&p, line, 1000), 0);
		while (rfc5322_next(&p, &r) != RFC5322_NONE)
			;
	}
	assert_int_equal(rfc5322_push(&p, line, 1000), -1);
	assert_int_equal(errno, E2BIG);

	/* more than LIM_HDR_COUNT fields */
	rfc5322_init(&p);
	for (i = 0; i < LIM_HDR_COUNT; i++) {
		assert_int_equal(rfc5322_push(&p, "A: b", 4), 0);
		while (rfc5322_next(&p, &r) != RFC5322_NONE)
			;
	}
	assert_int_equal(rfc5322_push(&p, "A: b", 4), -1);
	assert_int_equal(errno, E2BIG);

	/* pushing with events pending is refused */
	rfc5322_init(&p);
	assert_int_equal(rfc5322_push(&p, "A: b", 4), 0);
	assert_int_equal(rfc5322_push(&p, "B: c", 4), -1);
	assert_int_equal(errno, EINVAL);
	free(line);
	assert_string_equal(rfc5322_event_str(RFC5322_BODY), "body");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scan_table),
		cmocka_unit_test(test_is_field),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests_name("rfc5322", tests, NULL, NULL);
}
