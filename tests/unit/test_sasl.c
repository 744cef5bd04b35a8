/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* test_sasl.c -- byte-exact SASL vectors, the 512-octet rule, challenges. */
#include "unit.h"

#include "buf.h"
#include "sasl.h"
#include "status.h"
#include "util.h"

/* Decodes out and compares with the hand-written raw bytes. */
static void
assert_decodes_to(const struct buf *out, const char *raw, size_t rawlen)
{
	struct buf dec;

	buf_init(&dec, 65536, BUF_SECRET);
	assert_int_equal(util_b64_decode(&dec, out->data, out->len), 0);
	assert_int_equal(dec.len, rawlen);
	assert_memory_equal(dec.data, raw, rawlen);
	buf_free(&dec);
}

static void
test_xoauth2_vectors(void **state)
{
	static const struct {
		const char *user, *token, *raw, *b64;
		size_t rawlen;
	} v[] = {
		/* Microsoft Learn, "Authenticate ... by using OAuth". */
		{ "test@contoso.onmicrosoft.com",
		  "EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA",
		  "user=test@contoso.onmicrosoft.com\001auth=Bearer "
		  "EwBAAl3BAAUFFpUAo7J3Ve0bjLBWZWCclRC3EoAA\001\001",
		  "dXNlcj10ZXN0QGNvbnRvc28ub25taWNyb3NvZnQuY29tAWF1dGg9QmVh"
		  "cmVyIEV3QkFBbDNCQUFVRkZwVUFvN0ozVmUwYmpMQldaV0NjbFJDM0Vv"
		  "QUEBAQ==", 0 },
		/* Google, "OAuth 2.0 Mechanism" (xoauth2-protocol). */
		{ "someuser@example.com",
		  "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg",
		  "user=someuser@example.com\001auth=Bearer "
		  "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg\001\001",
		  "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5"
		  "LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cB"
		  "AQ==", 0 },
	};
	struct buf out;
	struct err err;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(v); i++) {
		assert_int_equal(sasl_xoauth2(&out, v[i].user, v[i].token,
		    strlen(v[i].token), &err), 0);
		assert_true(out.flags & BUF_SECRET);
		assert_string_equal(out.data, v[i].b64);
		assert_decodes_to(&out, v[i].raw, strlen(v[i].raw));
		buf_free(&out);
	}
}

static void
test_oauthbearer_vectors(void **state)
{
	static const char raw1[] =
	    "n,a=user@example.com,\001host=server.example.com\001port=587"
	    "\001auth=Bearer vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg=="
	    "\001\001";
	/* ',' and '=' in the authzid are escaped (RFC 5801 saslname). */
	static const char raw2[] =
	    "n,a=a=2Cb=3Dc@example.com,\001host=smtp.gmail.com\001port=465"
	    "\001auth=Bearer T0K\001\001";
	static const char raw3[] =
	    "n,a=u@example.com,\001auth=Bearer T0K\001\001";
	struct buf out;
	struct err err;

	(void)state;
	assert_int_equal(sasl_oauthbearer(&out, "user@example.com",
	    "server.example.com", 587,
	    "vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg==", 42, &err), 0);
	assert_string_equal(out.data, "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9"
	    "c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9NTg3AWF1dGg9QmVhcmVyIHZGOWRm"
	    "dDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2c9PQEB");
	assert_decodes_to(&out, raw1, sizeof(raw1) - 1);
	buf_free(&out);

	assert_int_equal(sasl_oauthbearer(&out, "a,b=c@example.com",
	    "smtp.gmail.com", 465, "T0K", 3, &err), 0);
	assert_decodes_to(&out, raw2, sizeof(raw2) - 1);
	buf_free(&out);

	assert_int_equal(sasl_oauthbearer(&out, "u@example.com", NULL, 0,
	    "T0K", 3, &err), 0);
	assert_decodes_to(&out, raw3, sizeof(raw3) - 1);
	buf_free(&out);
}

static void
test_plain_login(void **state)
{
	static const char raw[] = "\0tim\0tanstaaftanstaaf";
	struct buf out;
	struct err err;

	(void)state;
	/* RFC 4616 §4 example. */
	assert_int_equal(sasl_plain(&out, "tim", "tanstaaftanstaaf", 16,
	    &err), 0);
	assert_string_equal(out.data, "AHRpbQB0YW5zdGFhZnRhbnN0YWFm");
	assert_decodes_to(&out, raw, sizeof(raw) - 1);
	buf_free(&out);

	assert_int_equal(sasl_login_piece(&out, "user", 4, &err), 0);
	assert_string_equal(out.data, "dXNlcg==");
	buf_free(&out);
}

static void
test_bad_input(void **state)
{
	struct buf out;
	struct err err;
	char *big;

	(void)state;
	assert_int_equal(sasl_xoauth2(&out, "", "tok", 3, &err), -1);
	assert_int_equal(err.class, ERR_DATA);
	buf_free(&out);
	assert_int_equal(sasl_xoauth2(&out, "u\001x", "tok", 3, &err), -1);
	buf_free(&out);
	/* \x01 in a token would forge a new key-value pair. */
	assert_int_equal(sasl_xoauth2(&out, "u", "to\001k", 4, &err), -1);
	assert_int_equal(err.class, ERR_DATA);
	buf_free(&out);
	assert_int_equal(sasl_oauthbearer(&out, "u", "h", 1, "a b", 3, &err),
	    -1);
	buf_free(&out);
	assert_int_equal(sasl_plain(&out, "u", "p\0w", 3, &err), -1);
	buf_free(&out);
	big = malloc(LIM_TOKEN + 2);
	assert_non_null(big);
	memset(big, 'A', LIM_TOKEN + 1);
	big[LIM_TOKEN + 1] = '\0';
	assert_int_equal(sasl_xoauth2(&out, "u", big, LIM_TOKEN + 1, &err),
	    -1);
	buf_free(&out);
	assert_int_equal(sasl_xoauth2(&out, "u", big, LIM_TOKEN, &err), 0);
	assert_true(out.len > LIM_TOKEN);
	buf_free(&out);
	free(big);
}

static void
test_inline_threshold(void **state)
{
	(void)state;
	/* "AUTH XOAUTH2 " (13) + resp + CRLF (2) <= 512 */
	assert_int_equal(sasl_auth_line_len("XOAUTH2", 497), 512);
	assert_true(sasl_inline_ok("XOAUTH2", 497));
	assert_false(sasl_inline_ok("XOAUTH2", 498));
	/* "AUTH OAUTHBEARER " (17) */
	assert_true(sasl_inline_ok("OAUTHBEARER", 493));
	assert_false(sasl_inline_ok("OAUTHBEARER", 494));
	assert_false(sasl_inline_ok("XOAUTH2", 4000));
}

static void
test_challenge(void **state)
{
	static const struct {
		const char *in, *want;
	} v[] = {
		{ "eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2NvcGUi"
		  "OiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ==",
		  "status=400 schemes=Bearer scope=https://mail.google.com/" },
		/* {"status":"invalid_token"} */
		{ "eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0=",
		  "status=invalid_token" },
		{ "", "empty challenge" },
		{ "!!!not base64!!!", "undecodable challenge" },
		/* "hello" is not JSON */
		{ "aGVsbG8=", "challenge: hello" },
		/* [1,2] is JSON but not an object */
		{ "WzEsMl0=", "challenge: [1,2]" },
		/* {"x":1}: an object without status */
		{ "eyJ4IjoxfQ==", "challenge without status" },
		/* {"status":"4\n0\u0000"}: control characters escaped */
		{ "eyJzdGF0dXMiOiI0XG4wIn0=", "status=4\\x0a0" },
	};
	char d[256];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(v); i++) {
		sasl_describe_challenge(v[i].in, strlen(v[i].in), d,
		    sizeof(d));
		assert_string_equal(d, v[i].want);
	}
}

static void
test_challenge_garbage(void **state)
{
	char d[64], *big;
	unsigned char raw[3000];
	struct buf b;
	size_t i;

	(void)state;
	/* Random bytes, base64-encoded: never crashes, always terminated. */
	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(i * 131 + 7);
	buf_init(&b, 8192, 0);
	assert_int_equal(util_b64_encode(&b, raw, sizeof(raw)), 0);
	sasl_describe_challenge(b.data, b.len, d, sizeof(d));
	assert_true(strlen(d) < sizeof(d));
	buf_free(&b);
	/* Oversized input is not decoded. */
	big = malloc(20000);
	assert_non_null(big);
	memset(big, 'A', 20000);
	sasl_describe_challenge(big, 20000, d, sizeof(d));
	assert_string_equal(d, "undecodable challenge");
	free(big);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_xoauth2_vectors),
		cmocka_unit_test(test_oauthbearer_vectors),
		cmocka_unit_test(test_plain_login),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_inline_threshold),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_challenge_garbage),
	};

	return cmocka_run_group_tests_name("sasl", tests, NULL, NULL);
}
