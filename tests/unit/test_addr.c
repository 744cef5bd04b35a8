/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* test_addr.c -- RFC 5322 address lists and envelope addresses. */
#include "unit.h"

#include "addr.h"
#include "buf.h"
#include "status.h"

/*
 * Each parsed mailbox renders as "spec|name|span|flags" where name is "-"
 * when absent, span is the input text of the mailbox and flags are
 * letters: u (UTF-8), l (no domain), n (null), g (in a group).
 */
struct list_case {
	const char	*in;
	const char	*want;	/* lines joined with '\n', NULL: error */
};

static const struct list_case list_cases[] = {
	{ "a@example.com", "a@example.com|-|a@example.com|" },
	{ "  a@example.com  ", "a@example.com|-|a@example.com|" },
	{ "Joe <joe@x.org>, b@y.org",
	  "joe@x.org|Joe|Joe <joe@x.org>|\nb@y.org|-|b@y.org|" },
	{ "\"Doe, John\" <jd@x.org>",
	  "jd@x.org|Doe, John|\"Doe, John\" <jd@x.org>|" },
	{ "\"a;b\" <q@x>, c@x",
	  "q@x|a;b|\"a;b\" <q@x>|\nc@x|-|c@x|" },
	{ "root (Cron Daemon)", "root|Cron Daemon|root (Cron Daemon)|l" },
	{ "Logwatch", "Logwatch|-|Logwatch|l" },
	{ "mdadm monitoring <root>",
	  "root|mdadm monitoring|mdadm monitoring <root>|l" },
	{ "<root>", "root|-|<root>|l" },
	{ "root@localhost", "root@localhost|-|root@localhost|" },
	{ "undisclosed-recipients:;", "" },
	{ "undisclosed-recipients: ;, x@y", "x@y|-|x@y|" },
	{ "team: a@x, B <b@y>;, c@z",
	  "a@x|-|a@x|g\nb@y|B|B <b@y>|g\nc@z|-|c@z|" },
	{ "team: a@x", "a@x|-|a@x|g" },
	{ "a@x (one (nested) comment)",
	  "a@x|one (nested) comment|a@x (one (nested) comment)|" },
	{ "(lead) a@x", "a@x|lead|(lead) a@x|" },
	{ "a(c1)@(c2)x(c3).org", "a@x.org|c3|a(c1)@(c2)x(c3).org|" },
	{ "<@r1,@r2:user@host>", "user@host|-|<@r1,@r2:user@host>|" },
	{ "Name <@r1:user@host> (c)",
	  "user@host|Name|Name <@r1:user@host> (c)|" },
	{ "<>", "|-|<>|n" },
	{ "\"john\"@x.org", "john@x.org|-|\"john\"@x.org|" },
	{ "\"john smith\"@x.org",
	  "\"john smith\"@x.org|-|\"john smith\"@x.org|" },
	{ "\"a\\\"b\"@x", "\"a\\\"b\"@x|-|\"a\\\"b\"@x|" },
	{ "\"a..b\"@x", "\"a..b\"@x|-|\"a..b\"@x|" },
	{ "john . smith @ x . org", "john.smith@x.org|-|john . smith @ x . org|" },
	{ "=?UTF-8?B?w6lsaXNl?= <e@x>",
	  "e@x|=?UTF-8?B?w6lsaXNl?=|=?UTF-8?B?w6lsaXNl?= <e@x>|" },
	{ "Joe Q. Public <jqp@x>", "jqp@x|Joe Q. Public|Joe Q. Public <jqp@x>|" },
	{ "a@x,,, ,b@y", "a@x|-|a@x|\nb@y|-|b@y|" },
	{ "a@x,\r\n b@y", "a@x|-|a@x|\nb@y|-|b@y|" },
	{ "Jo\r\n Doe <jd@x>", "jd@x|Jo Doe|Jo\r\n Doe <jd@x>|" },
	{ "u@[192.0.2.1]", "u@[192.0.2.1]|-|u@[192.0.2.1]|" },
	{ "j\xc3\xb6rg@b\xc3\xbc" "cher.de",
	  "j\xc3\xb6rg@b\xc3\xbc" "cher.de|-|j\xc3\xb6rg@b\xc3\xbc" "cher.de|u" },
	{ "joe@x.com <joe@x.com>", "joe@x.com|joe@x.com|joe@x.com <joe@x.com>|" },
	{ "", "" },
	{ "(only a comment)", "" },
	/* errors */
	{ "a@", NULL },
	{ "@x", NULL },
	{ "a@x b@y", NULL },
	{ "<a@x", NULL },
	{ "\"unterminated@x", NULL },
	{ "a@x (unterminated", NULL },
	{ "a@[1.2.3.4", NULL },
	{ "a@x)", NULL },
	{ "a@x\x01", NULL },
	{ "<@r1 user@host>", NULL },
	{ "a..b@x", NULL },
	{ ".a@x", NULL },
	{ "a@x..y", NULL },
	{ "Name <a@x> junk", NULL },
	{ "team: a@x, b: c@d;;", NULL },
};

static void
render(const char *in, const struct addr_list *l, struct buf *b)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		const struct addr *a = &l->v[i];

		if (i > 0)
			assert_int_equal(buf_addc(b, '\n'), 0);
		assert_int_equal(buf_addf(b, "%s|%s|%.*s|%s%s%s%s", a->spec,
		    a->name ? a->name : "-", (int)a->len, in + a->off,
		    (a->flags & ADDR_UTF8) ? "u" : "",
		    (a->flags & ADDR_NODOMAIN) ? "l" : "",
		    (a->flags & ADDR_NULL) ? "n" : "",
		    (a->flags & ADDR_INGROUP) ? "g" : ""), 0);
	}
}

static void
test_list_table(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nitems(list_cases); i++) {
		const struct list_case *c = &list_cases[i];
		struct addr_list l;
		struct err err;
		struct buf b;
		int rc;

		rc = addr_parse_list(c->in, strlen(c->in), &l, &err);
		if (c->want == NULL) {
			if (rc != -1)
				fail_msg("case %zu '%s': parsed, want error",
				    i, c->in);
			assert_int_equal(err.class, ERR_ADDR);
			assert_int_equal(l.n, 0);
			assert_non_null(strstr(err.msg, "invalid address") ?
			    err.msg : NULL);
			continue;
		}
		if (rc != 0)
			fail_msg("case %zu '%s': %s", i, c->in, err.msg);
		buf_init(&b, 65536, 0);
		render(c->in, &l, &b);
		if (strcmp(buf_str(&b), c->want) != 0)
			fail_msg("case %zu '%s':\n got '%s'\nwant '%s'", i,
			    c->in, buf_str(&b), c->want);
		buf_free(&b);
		addr_list_free(&l);
	}
}

static void
test_list_limits(void **state)
{
	struct addr_list l;
	struct err err;
	struct buf b;
	int i;

	(void)state;
	/* comment nesting deeper than the cap fails, at the cap it works */
	buf_init(&b, 1 << 20, 0);
	assert_int_equal(buf_adds(&b, "a@x "), 0);
	for (i = 0; i < ADDR_MAX_NESTING; i++)
		assert_int_equal(buf_addc(&b, '('), 0);
	for (i = 0; i < ADDR_MAX_NESTING; i++)
		assert_int_equal(buf_addc(&b, ')'), 0);
	assert_int_equal(addr_parse_list(b.data, b.len, &l, &err), 0);
	assert_int_equal(l.n, 1);
	addr_list_free(&l);
	buf_reset(&b);
	assert_int_equal(buf_adds(&b, "a@x "), 0);
	for (i = 0; i < 1000; i++)
		assert_int_equal(buf_addc(&b, '('), 0);
	assert_int_equal(addr_parse_list(b.data, b.len, &l, &err), -1);
	assert_non_null(strstr(err.msg, "nested"));
	/* an address longer than LIM_ADDR */
	buf_reset(&b);
	for (i = 0; i < LIM_ADDR; i++)
		assert_int_equal(buf_addc(&b, 'a'), 0);
	assert_int_equal(buf_adds(&b, "@x"), 0);
	assert_int_equal(addr_parse_list(b.data, b.len, &l, &err), -1);
	assert_int_equal(err.class, ERR_ADDR);
	/* the error message is bounded and sanitised */
	assert_true(strlen(err.msg) < sizeof(err.msg));
	/* more than LIM_RCPTS addresses */
	buf_reset(&b);
	for (i = 0; i <= LIM_RCPTS; i++)
		assert_int_equal(buf_adds(&b, "a@x,"), 0);
	assert_int_equal(addr_parse_list(b.data, b.len, &l, &err), -1);
	assert_non_null(strstr(err.msg, "more than"));
	buf_free(&b);
}

struct one_case {
	const char	*in;
	const char	*spec;	/* NULL: error */
	int		 flags;
};

static const struct one_case one_cases[] = {
	{ "user@example.com", "user@example.com", 0 },
	{ " <user@example.com> ", "user@example.com", 0 },
	{ "Name <user@example.com>", "user@example.com", 0 },
	{ "root", "root", ADDR_NODOMAIN },
	{ "<>", "", ADDR_NULL },
	{ "", "", ADDR_NULL },
	{ "\"john smith\"@x.org", "\"john smith\"@x.org", 0 },
	{ "u@[192.0.2.1]", "u@[192.0.2.1]", 0 },
	{ "u@[IPv6:2001:db8::1]", "u@[IPv6:2001:db8::1]", 0 },
	{ "j\xc3\xb6rg@b\xc3\xbc" "cher.de", "j\xc3\xb6rg@b\xc3\xbc" "cher.de",
	  ADDR_UTF8 },
	{ "a-b.c@sub-1.example.com", "a-b.c@sub-1.example.com", 0 },
	{ "x@y.org (comment)", "x@y.org", 0 },
	{ "\"a<b>\\\"c\"@x.org", "\"a<b>\\\"c\"@x.org", 0 },
	{ "\"a.b\"@x.org", "a.b@x.org", 0 },
	/* errors */
	{ "\"a\tb\"@x.org", NULL, 0 },
	{ "\"a\\\x01\"@x.org", NULL, 0 },
	{ "a@b@c", NULL, 0 },
	{ "a@-x.org", NULL, 0 },
	{ "a@x-.org", NULL, 0 },
	{ "a@x_y.org", NULL, 0 },
	{ "a@x.org.", NULL, 0 },
	{ "a@[1.2.3]", NULL, 0 },
	{ "a@[IPv6:zz]", NULL, 0 },
	{ "a@[foo]", NULL, 0 },
	{ "a@x, b@y", NULL, 0 },
	{ "team: a@x;", NULL, 0 },
	{ "\xff@x.org", NULL, 0 },
	{ "a\xc3@x.org", NULL, 0 },
	{ "a@\xed\xa0\x80.org", NULL, 0 },
	{ "0123456789012345678901234567890123456789012345678901234567890123"
	  "4@x.org", NULL, 0 },
};

static void
test_parse_one(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nitems(one_cases); i++) {
		const struct one_case *c = &one_cases[i];
		struct addr a;
		struct err err;
		int rc;

		rc = addr_parse_one(c->in, &a, &err);
		if (c->spec == NULL) {
			if (rc != -1)
				fail_msg("case %zu '%s': accepted as '%s'", i,
				    c->in, a.spec);
			assert_int_equal(err.class, ERR_ADDR);
			assert_null(a.spec);
			continue;
		}
		if (rc != 0)
			fail_msg("case %zu '%s': %s", i, c->in, err.msg);
		assert_string_equal(a.spec, c->spec);
		assert_int_equal(a.flags & (ADDR_UTF8 | ADDR_NODOMAIN |
		    ADDR_NULL), c->flags);
		addr_clear(&a);
	}
}

/* What MAIL FROM / RCPT TO may carry (RFC 5321 §4.1.2). */
static void
test_smtp_ok(void **state)
{
	static const struct {
		const char	*spec;
		int		 ok;
	} c[] = {
		{ "", 1 },
		{ "a@x.org", 1 },
		{ "root", 1 },
		{ "\"a b\"@x.org", 1 },
		{ "\"a\\\"b\\\\\"@x.org", 1 },
		{ "\"<a> (b)\"@x.org", 1 },
		{ "\"\xc3\xa4 b\"@x.org", 1 },
		{ "\"\"@x.org", 1 },
		{ "a b@x.org", 0 },
		{ "\"a\tb\"@x.org", 0 },
		{ "\"a\x7f\"@x.org", 0 },
		{ "\"a b@x.org", 0 },
		{ "\"a\\\"@x.org", 0 },
		{ "\"a\"b@x.org", 0 },
		{ "\"a\"@x y.org", 0 },
		{ "a@<x>.org", 0 },
	};
	size_t i;

	(void)state;
	for (i = 0; i < nitems(c); i++)
		if (addr_smtp_ok(c[i].spec) != c[i].ok)
			fail_msg("case %zu '%s': want %d", i, c[i].spec,
			    c[i].ok);
}

static void
test_parse_one_limits(void **state)
{
	char big[400];
	struct addr a;
	struct err err;

	(void)state;
	/* 64-octet local part is fine, domain over 255 is not */
	memset(big, 'a', 64);
	memcpy(big + 64, "@x.org", 7);
	assert_int_equal(addr_parse_one(big, &a, &err), 0);
	addr_clear(&a);
	big[0] = 'u';
	big[1] = '@';
	for (size_t i = 2; i < 300; i += 2) {
		big[i] = 'a';
		big[i + 1] = '.';
	}
	memcpy(big + 300, "org", 4);
	assert_int_equal(addr_parse_one(big, &a, &err), -1);
	assert_non_null(strstr(err.msg, "domain longer"));
	/* the name in the message is sanitised */
	assert_int_equal(addr_parse_one("a\x1b[31m@x", &a, &err), -1);
	assert_null(strchr(err.msg, '\x1b'));
}

struct fmt_case {
	const char	*name;
	const char	*want;
};

static const struct fmt_case fmt_cases[] = {
	{ NULL, "a@x.org" },
	{ "", "a@x.org" },
	{ "Cron Daemon", "Cron Daemon <a@x.org>" },
	{ "Logwatch", "Logwatch <a@x.org>" },
	{ "Doe, John", "\"Doe, John\" <a@x.org>" },
	{ "Joe Q. Public", "\"Joe Q. Public\" <a@x.org>" },
	{ "say \"hi\"\\", "\"say \\\"hi\\\"\\\\\" <a@x.org>" },
	{ "two  spaces", "\"two  spaces\" <a@x.org>" },
	{ "evil\r\nBcc: x@y", "\"evil  Bcc: x@y\" <a@x.org>" },
	{ "J\xc3\xb6rg", "=?UTF-8?B?SsO2cmc=?= <a@x.org>" },
};

static void
test_format(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < nitems(fmt_cases); i++) {
		char *s = addr_format(fmt_cases[i].name, "a@x.org");

		assert_non_null(s);
		assert_string_equal(s, fmt_cases[i].want);
		free(s);
	}
}

static void
test_format_roundtrip(void **state)
{
	static const char *names[] = { "Doe, John", "a;b:c", "x \"y\" z",
	    "back\\slash", "Plain Name" };
	size_t i;

	(void)state;
	for (i = 0; i < nitems(names); i++) {
		char *s = addr_format(names[i], "u@x.org");
		struct addr_list l;
		struct err err;

		assert_int_equal(addr_parse_list(s, strlen(s), &l, &err), 0);
		assert_int_equal(l.n, 1);
		assert_string_equal(l.v[0].name, names[i]);
		assert_string_equal(l.v[0].spec, "u@x.org");
		addr_list_free(&l);
		free(s);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_list_table),
		cmocka_unit_test(test_list_limits),
		cmocka_unit_test(test_parse_one),
		cmocka_unit_test(test_parse_one_limits),
		cmocka_unit_test(test_smtp_ok),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_roundtrip),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
