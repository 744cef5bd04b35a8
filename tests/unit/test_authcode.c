/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * test_authcode.c -- the pure parts of authcode.c: PKCE S256 and the
 * RFC 9207 issuer check.
 */
#include "unit.h"

#include "authcode.h"
#include "status.h"

/* --- PKCE (RFC 7636 Appendix B) ------------------------------------------ */

static void
test_pkce_vector(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(authcode_pkce_challenge(
	    "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
	/* Too small an output buffer is an error, not a truncation. */
	assert_int_equal(authcode_pkce_challenge("x", out, 20), -1);
}

/* --- RFC 9207 iss ------------------------------------------------------- */

static void
test_iss(void **state)
{
	static const char *ep = "https://login.example.test:8443/o/authorize";

	(void)state;
	assert_true(authcode_iss_ok(ep, NULL));
	assert_true(authcode_iss_ok(ep, "https://login.example.test:8443"));
	assert_true(authcode_iss_ok(ep,
	    "https://login.example.test:8443/tenant/v2.0"));
	assert_true(authcode_iss_ok("https://accounts.google.com/o/oauth2/"
	    "v2/auth", "https://accounts.google.com"));
	assert_false(authcode_iss_ok(ep, "https://login.example.test"));
	assert_false(authcode_iss_ok(ep, "https://login.example.test:84"));
	assert_false(authcode_iss_ok(ep,
	    "https://login.example.test:8443.evil.test"));
	assert_false(authcode_iss_ok(ep, "http://login.example.test:8443"));
	assert_false(authcode_iss_ok(ep, "https://evil.test"));
	assert_false(authcode_iss_ok(ep, ""));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkce_vector),
		cmocka_unit_test(test_iss),
	};

	return cmocka_run_group_tests_name("authcode", tests, NULL, NULL);
}
