/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* test_api.c -- the envelope rules of the HTTPS mail APIs (api.h). */
#include "unit.h"

#include "api.h"
#include "buf.h"
#include "envelope.h"
#include "status.h"

static void
env_of(struct envelope *env, const char *const *rcpts)
{
	envelope_init(env);
	for (; *rcpts != NULL; rcpts++)
		(void)envelope_add_rcpt(env, *rcpts, NULL);
}

static const char *
bcc_of(const char *const *rcpts, const char *hdr, struct buf *bcc)
{
	struct envelope env;
	struct err err;
	int r;

	env_of(&env, rcpts);
	buf_init(bcc, 65536, 0);
	err_clear(&err);
	r = api_recipients(&env, hdr, strlen(hdr), bcc, &err);
	envelope_free(&env);
	if (r == -1)
		fail_msg("unexpected: %s", err.msg);
	return buf_str(bcc);
}

static void
test_bcc(void **state)
{
	static const char *const one[] = { "bob@example.test", NULL };
	static const char *const two[] = { "bob@example.test",
	    "Carol@Example.test", NULL };
	static const char *const three[] = { "bob@example.test",
	    "carol@example.test", "dave@example.test", NULL };
	struct buf b;

	(void)state;
	assert_string_equal(bcc_of(one, "To: Bob <bob@example.test>\n"
	    "Subject: x\n\nbody To: eve@example.test\n", &b), "");
	buf_free(&b);
	/* Case-insensitive; a folded Cc; CRLF header. */
	assert_string_equal(bcc_of(two, "To: bob@example.test\r\n"
	    "Cc: \"C\" <carol@example.test>\r\n\r\n", &b), "");
	buf_free(&b);
	assert_string_equal(bcc_of(three, "To: bob@example.test,\n"
	    " carol@example.test\nSubject: s\n\n", &b),
	    "Bcc: <dave@example.test>\n");
	buf_free(&b);
	/* No recipient header at all: every recipient as Bcc, folded. */
	assert_string_equal(bcc_of(two, "Subject: s\n\n", &b),
	    "Bcc: <bob@example.test>,\n <Carol@Example.test>\n");
	buf_free(&b);
	/* A group with no members names nobody. */
	assert_string_equal(bcc_of(one, "To: undisclosed-recipients:;\n\n",
	    &b), "Bcc: <bob@example.test>\n");
	buf_free(&b);
}

static void
test_header_only(void **state)
{
	static const char *const one[] = { "bob@example.test", NULL };
	struct envelope env;
	struct buf bcc;
	struct err err;

	(void)state;
	env_of(&env, one);
	buf_init(&bcc, 1024, 0);
	assert_int_equal(api_recipients(&env, "To: bob@example.test\n"
	    "Cc: eve@example.test, bob@example.test\n\n", 60, &bcc, &err),
	    -1);
	assert_int_equal(err.class, ERR_AUTH);
	assert_non_null(strstr(err.msg, "not envelope recipients "
	    "(<eve@example.test>)"));
	/* A Bcc header naming someone else is just as bad. */
	assert_int_equal(api_recipients(&env, "To: bob@example.test\n"
	    "Bcc: mallory@example.test\n\n", 50, &bcc, &err), -1);
	assert_non_null(strstr(err.msg, "<mallory@example.test>"));
	/* An unreadable To: held, not guessed. */
	assert_int_equal(api_recipients(&env, "To: <<<\n\n", 9, &bcc, &err),
	    -1);
	assert_int_equal(err.class, ERR_AUTH);
	buf_free(&bcc);
	envelope_free(&env);
}

/* Recipients per message: refused at submission for an API-only account. */
static void
test_rcpts_limit(void **state)
{
	struct account a;
	struct err err;

	(void)state;
	memset(&a, 0, sizeof(a));
	a.name = "work";
	assert_int_equal(api_max_rcpts(TRANSPORT_GMAIL), 100);
	assert_int_equal(api_max_rcpts(TRANSPORT_GRAPH), 500);
	assert_int_equal(api_max_rcpts(TRANSPORT_SMTP), 0);
	a.transport = TRANSPORT_GMAIL;
	err_clear(&err);
	assert_int_equal(api_rcpts_check(&a, 100, &err), 0);
	assert_int_equal(api_rcpts_check(&a, 101, &err), -1);
	assert_int_equal(err.class, ERR_DATA);
	assert_non_null(strstr(err.msg, "101 recipients: the Gmail API takes "
	    "at most 100"));
	assert_non_null(strstr(err.msg, "'transport smtp'"));
	a.transport = TRANSPORT_GRAPH;
	assert_int_equal(api_rcpts_check(&a, 500, &err), 0);
	assert_int_equal(api_rcpts_check(&a, 501, &err), -1);
	/* auto and smtp: SMTP takes them; the API's check is at delivery. */
	a.transport = TRANSPORT_AUTO;
	assert_int_equal(api_rcpts_check(&a, 5000, &err), 0);
	a.transport = TRANSPORT_SMTP;
	assert_int_equal(api_rcpts_check(&a, 5000, &err), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bcc),
		cmocka_unit_test(test_header_only),
		cmocka_unit_test(test_rcpts_limit),
	};

	return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
