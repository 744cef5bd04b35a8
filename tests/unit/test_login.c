/*
 * test_login.c -- the pure parts of login.c: PKCE S256.
 */
#include "unit.h"

#include "login.h"
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pkce_vector),
	};

	return cmocka_run_group_tests_name("login", tests, NULL, NULL);
}
