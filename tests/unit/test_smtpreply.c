/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* test_smtpreply.c -- reply lines, multi-line caps, enhanced codes, EHLO. */
#include "unit.h"

#include "buf.h"
#include "smtpreply.h"
#include "status.h"

static void
test_lines(void **state)
{
	static const struct {
		const char *line;
		int ok, code, last;
		const char *text;
	} v[] = {
		{ "250 OK", 1, 250, 1, "OK" },
		{ "250-smtp.example.com", 1, 250, 0, "smtp.example.com" },
		{ "220", 1, 220, 1, "" },
		{ "354 ", 1, 354, 1, "" },
		{ "550-", 1, 550, 0, "" },
		{ "535 5.7.8 bad\tcreds", 1, 535, 1, "5.7.8 bad\tcreds" },
		{ "250 caf\xc3\xa9", 1, 250, 1, "caf\xc3\xa9" },
		{ "", 0, 0, 0, NULL },
		{ "25", 0, 0, 0, NULL },
		{ "250OK", 0, 0, 0, NULL },	/* missing space */
		{ "250_OK", 0, 0, 0, NULL },
		{ "150 old", 0, 0, 0, NULL },	/* 1yz is not a reply */
		{ "650 no", 0, 0, 0, NULL },
		{ "260 no", 0, 0, 0, NULL },	/* second digit 0..5 */
		{ "2x0 no", 0, 0, 0, NULL },
		{ " 250 no", 0, 0, 0, NULL },
		{ "abc", 0, 0, 0, NULL },
		{ "250 bell\a", 0, 0, 0, NULL },	/* control character */
		{ "250 esc\033[2J", 0, 0, 0, NULL },
		{ "250 cr\rinside", 0, 0, 0, NULL },
		{ "250 del\177", 0, 0, 0, NULL },
	};
	struct smtpreply_line l;
	struct err err;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(v); i++) {
		int r = smtpreply_parse_line(v[i].line, strlen(v[i].line), &l,
		    &err);

		if (!v[i].ok) {
			assert_int_equal(r, -1);
			assert_int_equal(err.class, ERR_PROTO);
			continue;
		}
		assert_int_equal(r, 0);
		assert_int_equal(l.code, v[i].code);
		assert_int_equal(l.last, v[i].last);
		assert_int_equal(l.text.len, strlen(v[i].text));
		assert_memory_equal(l.text.p, v[i].text, l.text.len);
	}
}

static int
feed(struct smtpreply *r, const char *const *lines, size_t n,
    struct err *err)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (smtpreply_add_line(r, lines[i], strlen(lines[i]),
		    err) == -1)
			return -1;
	return 0;
}

static void
test_multiline(void **state)
{
	static const char *const ok[] = {
		"535-5.7.8 Username and Password not accepted. Learn more at",
		"535 5.7.8 https://support.google.com/mail/?p=BadCredentials",
	};
	static const char *const mixed[] = { "250-a", "251 b" };
	static const char *const after[] = { "250 a", "250 b" };
	struct smtpreply r;
	struct err err;
	char one[512];

	(void)state;
	smtpreply_init(&r);
	assert_int_equal(feed(&r, ok, 2, &err), 0);
	assert_true(r.done);
	assert_int_equal(r.code, 535);
	assert_int_equal(r.nlines, 2);
	assert_string_equal(r.esc, "5.7.8");
	smtpreply_oneline(&r, one, sizeof(one));
	assert_string_equal(one, "535 5.7.8 Username and Password not "
	    "accepted. Learn more at / 5.7.8 https://support.google.com/"
	    "mail/?p=BadCredentials");
	smtpreply_text(&r, one, sizeof(one));
	assert_string_equal(one, "Username and Password not accepted. Learn "
	    "more at https://support.google.com/mail/?p=BadCredentials");

	smtpreply_reset(&r);
	assert_int_equal(feed(&r, mixed, 2, &err), -1);
	assert_int_equal(err.class, ERR_PROTO);
	smtpreply_reset(&r);
	assert_int_equal(feed(&r, after, 2, &err), -1);
	assert_int_equal(err.class, ERR_PROTO);
	smtpreply_free(&r);
}

static void
test_line_cap(void **state)
{
	struct smtpreply r;
	struct err err;
	size_t i;
	int rc = 0;

	(void)state;
	smtpreply_init(&r);
	/* 1000 continuation lines pass, the 1001st line fails. */
	for (i = 0; i < LIM_SMTP_REPLY_LINES && rc == 0; i++)
		rc = smtpreply_add_line(&r, "250-x", 5, &err);
	assert_int_equal(rc, 0);
	assert_int_equal(r.nlines, LIM_SMTP_REPLY_LINES);
	assert_int_equal(smtpreply_add_line(&r, "250 x", 5, &err), -1);
	assert_int_equal(err.class, ERR_PROTO);
	assert_int_equal(r.nlines, 0);
	smtpreply_free(&r);
}

static void
test_byte_cap(void **state)
{
	struct smtpreply r;
	struct err err;
	char line[1000];
	size_t i;
	int rc = 0;

	(void)state;
	memset(line, 'y', sizeof(line));
	memcpy(line, "250-", 4);
	smtpreply_init(&r);
	/* 100 lines of ~1 KB exceed LIM_SMTP_REPLY (64 KiB) early. */
	for (i = 0; i < 100 && rc == 0; i++)
		rc = smtpreply_add_line(&r, line, sizeof(line), &err);
	assert_int_equal(rc, -1);
	assert_int_equal(err.class, ERR_PROTO);
	assert_true(i <= 70);
	smtpreply_free(&r);
}

static void
test_esc(void **state)
{
	static const struct {
		const char *text, *want;
	} v[] = {
		{ "5.7.8 Username", "5.7.8" },
		{ "2.0.0 OK", "2.0.0" },
		{ "4.7.0", "4.7.0" },
		{ "5.2.252 SendAsDenied", "5.2.252" },
		{ "5.7.139 Authentication unsuccessful", "5.7.139" },
		{ "3.0.0 x", "" },		/* class 2/4/5 only */
		{ "5.7 x", "" },
		{ "5.7.8x", "" },
		{ "5.1234.1 x", "" },
		{ "OK 5.7.8", "" },
		{ "", "" },
	};
	char esc[16];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(v); i++) {
		size_t n = smtpreply_esc(v[i].text, strlen(v[i].text), esc,
		    sizeof(esc));

		assert_string_equal(esc, v[i].want);
		assert_int_equal(n, strlen(v[i].want));
	}
}

static void
caps_of(const char *const *lines, size_t n, struct smtpreply_caps *c)
{
	struct smtpreply r;
	struct err err;

	smtpreply_init(&r);
	assert_int_equal(feed(&r, lines, n, &err), 0);
	assert_true(r.done);
	smtpreply_caps(&r, c);
	smtpreply_free(&r);
}

static void
test_caps(void **state)
{
	static const char *const gmail[] = {
		"250-smtp.gmail.com at your service, [192.0.2.1]",
		"250-SIZE 35882577",
		"250-8BITMIME",
		"250-AUTH LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN OAUTHBEARER "
		    "XOAUTH",
		"250-ENHANCEDSTATUSCODES",
		"250-PIPELINING",
		"250-CHUNKING",
		"250 SMTPUTF8",
	};
	static const char *const pretls[] = {
		"250-smtp.office365.com Hello",
		"250-SIZE 157286400",
		"250-PIPELINING",
		"250-DSN",
		"250-STARTTLS",
		"250 ENHANCEDSTATUSCODES",
	};
	static const char *const old[] = {
		"250-old.example.com",
		"250-AUTH=login xoauth2",
		"250-AUTH LOGIN PLAIN",
		"250-size",
		"250-STARTTLSX",	/* not STARTTLS */
		"250 AUTH=bad/mech OK",
	};
	static const char *const greet_only[] = {
		"250 STARTTLS AUTH PIPELINING",	/* the domain line only */
	};
	struct smtpreply_caps c;

	(void)state;
	caps_of(gmail, nitems(gmail), &c);
	assert_int_equal(c.flags, SMTPREPLY_CAP_SIZE | SMTPREPLY_CAP_8BITMIME |
	    SMTPREPLY_CAP_AUTH | SMTPREPLY_CAP_ENHANCED |
	    SMTPREPLY_CAP_PIPELINING | SMTPREPLY_CAP_SMTPUTF8);
	assert_int_equal(c.size_max, 35882577);
	assert_string_equal(c.auth, "LOGIN PLAIN XOAUTH2 PLAIN-CLIENTTOKEN "
	    "OAUTHBEARER XOAUTH");
	assert_true(smtpreply_has_mech(c.auth, "XOAUTH2"));
	assert_true(smtpreply_has_mech(c.auth, "oauthbearer"));
	assert_false(smtpreply_has_mech(c.auth, "PLAIN-CLIENT"));
	assert_false(smtpreply_has_mech(c.auth, "CRAM-MD5"));

	caps_of(pretls, nitems(pretls), &c);
	assert_true(c.flags & SMTPREPLY_CAP_STARTTLS);
	assert_true(c.flags & SMTPREPLY_CAP_DSN);
	assert_false(c.flags & SMTPREPLY_CAP_AUTH);
	assert_int_equal(c.size_max, 157286400);
	assert_string_equal(c.auth, "");

	caps_of(old, nitems(old), &c);
	assert_true(c.flags & SMTPREPLY_CAP_AUTH);
	assert_true(c.flags & SMTPREPLY_CAP_SIZE);
	assert_int_equal(c.size_max, 0);
	assert_false(c.flags & SMTPREPLY_CAP_STARTTLS);
	assert_string_equal(c.auth, "LOGIN XOAUTH2 PLAIN OK");

	caps_of(greet_only, 1, &c);
	assert_int_equal(c.flags, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_multiline),
		cmocka_unit_test(test_line_cap),
		cmocka_unit_test(test_byte_cap),
		cmocka_unit_test(test_esc),
		cmocka_unit_test(test_caps),
	};

	return cmocka_run_group_tests_name("smtpreply", tests, NULL, NULL);
}
