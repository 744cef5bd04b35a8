/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* test_json.c -- token endpoint replies, JWT claims and output documents. */
#include "unit.h"

#include "buf.h"
#include "json.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

static void
test_token_ok(void **state)
{
	static const char body[] = "{\"token_type\":\"Bearer\","
	    "\"scope\":\"https://outlook.office.com/SMTP.Send\","
	    "\"expires_in\":3599,\"ext_expires_in\":3599,"
	    "\"access_token\":\"AT-1\",\"refresh_token\":\"RT-1\","
	    "\"id_token\":\"ID\"}";
	struct json_token t;
	struct err err;

	(void)state;
	assert_int_equal(json_token_parse(&t, body, strlen(body), &err), 0);
	assert_string_equal(t.access_token, "AT-1");
	assert_string_equal(t.refresh_token, "RT-1");
	assert_string_equal(t.token_type, "Bearer");
	assert_string_equal(t.scope, "https://outlook.office.com/SMTP.Send");
	assert_string_equal(t.id_token, "ID");
	assert_int_equal(t.expires_in, 3599);
	assert_null(t.error);
	assert_int_equal(t.interval, -1);
	json_token_free(&t);
	assert_null(t.access_token);
	json_token_free(&t);	/* twice is fine */
}

static void
test_expires_in_forms(void **state)
{
	static const struct {
		const char	*body;
		int		 rc;
		long long	 expires_in;
	} cases[] = {
		{ "{\"access_token\":\"a\",\"expires_in\":\"3600\"}", 0, 3600 },
		{ "{\"access_token\":\"a\",\"expires_in\":3600.0}", 0, 3600 },
		{ "{\"access_token\":\"a\"}", 0, -1 },
		{ "{\"access_token\":\"a\",\"expires_in\":null}", 0, -1 },
		{ "{\"access_token\":\"a\",\"expires_in\":\"soon\"}", -1, 0 },
		{ "{\"access_token\":\"a\",\"expires_in\":\"-5\"}", -1, 0 },
		{ "{\"access_token\":\"a\",\"expires_in\":-5}", -1, 0 },
		{ "{\"access_token\":\"a\",\"expires_in\":true}", -1, 0 },
		{ "{\"access_token\":\"a\",\"expires_in\":[1]}", -1, 0 },
		{ "{\"access_token\":\"a\",\"expires_in\":99999999999999}",
		    -1, 0 },
	};
	struct json_token t;
	struct err err;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		int rc = json_token_parse(&t, cases[i].body,
		    strlen(cases[i].body), &err);

		assert_int_equal(rc, cases[i].rc);
		if (rc == 0)
			assert_int_equal(t.expires_in, cases[i].expires_in);
		else {
			assert_int_equal(err.class, ERR_PROTO);
			assert_null(t.access_token);
		}
		json_token_free(&t);
	}
}

static void
test_error_body(void **state)
{
	static const char body[] = "{\"error\":\"invalid_grant\","
	    "\"error_description\":\"AADSTS700082: The refresh token has "
	    "expired due to inactivity.\\r\\nTrace ID: x\","
	    "\"error_codes\":[700082, 50000],\"timestamp\":\"2024\","
	    "\"trace_id\":\"t\",\"correlation_id\":\"c\"}";
	struct json_token t;
	struct err err;

	(void)state;
	assert_int_equal(json_token_parse(&t, body, strlen(body), &err), 0);
	assert_string_equal(t.error, "invalid_grant");
	assert_non_null(strstr(t.error_description, "AADSTS700082"));
	assert_int_equal(t.nerror_codes, 2);
	assert_int_equal(t.error_codes[0], 700082);
	assert_int_equal(t.error_codes[1], 50000);
	assert_null(t.access_token);
	json_token_free(&t);
}

static void
test_device_body(void **state)
{
	static const char ms[] = "{\"user_code\":\"ABCD-EFGH\","
	    "\"device_code\":\"DC\",\"verification_uri\":"
	    "\"https://microsoft.com/devicelogin\",\"expires_in\":\"900\","
	    "\"interval\":\"5\",\"message\":\"To sign in...\"}";
	static const char google[] = "{\"device_code\":\"DC2\","
	    "\"user_code\":\"X\",\"verification_url\":"
	    "\"https://www.google.com/device\",\"expires_in\":1800,"
	    "\"interval\":5}";
	struct json_token t;
	struct err err;

	(void)state;
	assert_int_equal(json_token_parse(&t, ms, strlen(ms), &err), 0);
	assert_string_equal(t.device_code, "DC");
	assert_string_equal(t.user_code, "ABCD-EFGH");
	assert_string_equal(t.verification_uri,
	    "https://microsoft.com/devicelogin");
	assert_null(t.verification_uri_complete);
	assert_int_equal(t.expires_in, 900);
	assert_int_equal(t.interval, 5);
	assert_non_null(t.message);
	json_token_free(&t);

	assert_int_equal(json_token_parse(&t, google, strlen(google), &err), 0);
	assert_string_equal(t.verification_uri, "https://www.google.com/device");
	assert_int_equal(t.expires_in, 1800);
	json_token_free(&t);
}

static void
test_rejects(void **state)
{
	static const char *bad[] = {
		"",
		"not json",
		"[\"access_token\"]",
		"\"access_token\"",
		"42",
		"{\"access_token\":\"a\",\"access_token\":\"b\"}",
		"{\"access_token\":42}",
		"{\"access_token\":\"\"}",
		"{\"refresh_token\":{}}",
		"{\"error\":[\"x\"]}",
		"{\"error_codes\":\"700082\"}",
		"{\"error_codes\":[\"x\"]}",
		"{\"interval\":\"fast\"}",
		"{\"access_token\":\"a\"} trailing",
		"<html><body>502 Bad Gateway</body></html>",
	};
	struct json_token t;
	struct err err;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		err_clear(&err);
		assert_int_equal(json_token_parse(&t, bad[i], strlen(bad[i]),
		    &err), -1);
		assert_int_equal(err.class, ERR_PROTO);
		assert_null(t.access_token);
		assert_null(t.error);
	}
}

static void
test_oversize(void **state)
{
	struct buf b;
	struct json_token t;
	struct err err;

	(void)state;
	buf_init(&b, 2 * LIM_HTTP_BODY, 0);
	assert_int_equal(buf_adds(&b, "{\"access_token\":\""), 0);
	while (b.len < LIM_HTTP_BODY)
		assert_int_equal(buf_adds(&b, "aaaaaaaaaaaaaaaa"), 0);
	assert_int_equal(buf_adds(&b, "\"}"), 0);
	assert_int_equal(json_token_parse(&t, b.data, b.len, &err), -1);
	assert_int_equal(err.class, ERR_PROTO);
	assert_non_null(strstr(err.msg, "too large"));
	/* Under the body limit but over LIM_TOKEN: refused too. */
	buf_reset(&b);
	assert_int_equal(buf_adds(&b, "{\"access_token\":\""), 0);
	while (b.len < LIM_TOKEN + 64)
		assert_int_equal(buf_adds(&b, "aaaaaaaaaaaaaaaa"), 0);
	assert_int_equal(buf_adds(&b, "\"}"), 0);
	assert_int_equal(json_token_parse(&t, b.data, b.len, &err), -1);
	buf_free(&b);
}

static char *
make_jwt(const char *payload)
{
	struct buf b;

	buf_init(&b, 8192, 0);
	assert_int_equal(buf_adds(&b, "eyJhbGciOiJSUzI1NiJ9."), 0);
	assert_int_equal(util_b64url_encode(&b, payload, strlen(payload)), 0);
	assert_int_equal(buf_adds(&b, ".c2lnbmF0dXJl"), 0);
	return buf_detach(&b, NULL);
}

static void
test_jwt(void **state)
{
	struct json_jwt j;
	struct err err;
	char *tok;

	(void)state;
	tok = make_jwt("{\"aud\":\"https://outlook.office.com\","
	    "\"scp\":\"SMTP.Send\",\"upn\":\"alice@example.com\","
	    "\"tid\":\"t-1\",\"exp\":1700000000}");
	assert_int_equal(json_jwt_claims(tok, &j, &err), 0);
	assert_string_equal(j.aud, "https://outlook.office.com");
	assert_string_equal(j.scp, "SMTP.Send");
	assert_string_equal(j.upn, "alice@example.com");
	assert_string_equal(j.tid, "t-1");
	assert_null(j.roles);
	assert_int_equal(j.exp, 1700000000LL);
	json_jwt_free(&j);
	free(tok);

	tok = make_jwt("{\"aud\":[\"a\",\"b\"],\"roles\":[\"SMTP.SendAsApp\","
	    "\"Mail.Send\"],\"preferred_username\":\"bob\"}");
	assert_int_equal(json_jwt_claims(tok, &j, &err), 0);
	assert_string_equal(j.aud, "a b");
	assert_string_equal(j.roles, "SMTP.SendAsApp Mail.Send");
	assert_string_equal(j.upn, "bob");
	assert_null(j.scp);
	assert_int_equal(j.exp, -1);
	json_jwt_free(&j);
	free(tok);

	tok = make_jwt("{\"unique_name\":\"carol\"}");
	assert_int_equal(json_jwt_claims(tok, &j, &err), 0);
	assert_string_equal(j.upn, "carol");
	json_jwt_free(&j);
	free(tok);

	/* Opaque and malformed tokens. */
	assert_int_equal(json_jwt_claims("EwBwA8l6BAAU-opaque", &j, &err), -1);
	assert_int_equal(err.class, ERR_DATA);
	assert_int_equal(json_jwt_claims("a..b", &j, &err), -1);
	assert_int_equal(json_jwt_claims("a.!!!!.b", &j, &err), -1);
	tok = make_jwt("[1,2]");
	assert_int_equal(json_jwt_claims(tok, &j, &err), -1);
	free(tok);
}

/* jout: members in order, null for NULL, invalid UTF-8 made printable. */
static void
test_jout(void **state)
{
	struct jout *doc = jout_object(), *arr = jout_array(), *o;
	struct err err;
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	jout_set_int(doc, "b", -3);
	jout_set_str(doc, "a", "caf\xc3\xa9 \"q\"");
	jout_set_str(doc, "bad", "x\xff\xfey");
	jout_set_str(doc, "none", NULL);
	jout_set_null(doc, "nul");
	o = jout_object();
	jout_set_int(o, "n", 1LL << 40);
	jout_append(arr, o);
	jout_set(doc, "list", arr);
	assert_non_null(f = open_memstream(&text, &len));
	assert_int_equal(jout_print(doc, f, &err), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(text, "{\n  \"b\": -3,\n  \"a\": \"caf\xc3\xa9 "
	    "\\\"q\\\"\",\n  \"bad\": \"x??y\",\n  \"none\": null,\n  "
	    "\"nul\": null,\n  \"list\": [\n    {\n      \"n\": "
	    "1099511627776\n    }\n  ]\n}\n");
	free(text);
	jout_free(doc);
	jout_free(NULL);
}

/* The member reader and the compact writer (the token record's form). */
static void
test_jin_jout_dump(void **state)
{
	static const char doc[] = "{\"s\":\"v\",\"i\":-3,\"b\":true,"
	    "\"n\":null}";
	struct jin *j;
	struct jout *o;
	struct buf b;
	const char *sv;
	long long iv;
	int bv, line;

	(void)state;
	assert_non_null(j = jin_parse(doc, strlen(doc), &line));
	assert_int_equal(jin_str(j, "s", &sv), 1);
	assert_string_equal(sv, "v");
	assert_int_equal(jin_int(j, "i", &iv), 1);
	assert_int_equal(iv, -3);
	assert_int_equal(jin_bool(j, "b", &bv), 1);
	assert_int_equal(bv, 1);
	assert_int_equal(jin_str(j, "n", &sv), 0);	/* null */
	assert_int_equal(jin_int(j, "absent", &iv), 0);
	assert_int_equal(jin_int(j, "s", &iv), -1);	/* wrong type */
	assert_int_equal(jin_bool(j, "i", &bv), -1);
	assert_int_equal(jin_str(j, "b", &sv), -1);
	jin_free(j);
	assert_null(jin_parse("[1]", 3, &line));
	assert_null(jin_parse("{\"a\":1,\"a\":2}", 13, &line));
	assert_null(jin_parse("{\n\"a\":", 7, &line));
	assert_int_equal(line, 2);

	o = jout_object();
	assert_int_equal(jout_set_exact(o, "z", "x"), 0);
	assert_int_equal(jout_set_exact(o, "bad", "\xff"), -1);
	jout_set_int(o, "a", 7);
	jout_set_bool(o, "f", 0);
	buf_init(&b, 64, BUF_SECRET);
	assert_int_equal(jout_dump(o, 64, &b), 0);
	assert_string_equal(buf_str(&b), "{\"z\":\"x\",\"a\":7,\"f\":false}");
	assert_int_equal(jout_dump(o, 10, &b), -1);	/* longer than max */
	jout_free(o);
	buf_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_ok),
		cmocka_unit_test(test_expires_in_forms),
		cmocka_unit_test(test_error_body),
		cmocka_unit_test(test_device_body),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_oversize),
		cmocka_unit_test(test_jwt),
		cmocka_unit_test(test_jout),
		cmocka_unit_test(test_jin_jout_dump),
	};

	return cmocka_run_group_tests_name("json", tests, NULL, NULL);
}
