/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * test_dynload.c -- loading a library at first use: the symbols resolved
 * into the table, the soname list, and the one-line errors (not
 * installed, too old), remembered.
 */
#include "unit.h"

#include "dynload.h"
#include "status.h"

struct libc_api {
	__typeof__(&strlen)	 strlen;
	__typeof__(&strcmp)	 strcmp;
};

#define LC_SYM(f)	DYNLOAD_SYM(libc_api, "", f)
static const struct dynload_sym libc_syms[] = { LC_SYM(strlen),
    LC_SYM(strcmp) };
static const struct dynload_sym bad_syms[] = { LC_SYM(strlen),
    { "om_no_such_symbol", 0 } };

static void
test_load(void **state)
{
	static const char *const sonames[] = { "libom-missing.so.9",
	    "libc.so.6", NULL };
	struct libc_api api;
	struct dynload d = { .name = "libc", .package = "libc6",
	    .sonames = sonames, .syms = libc_syms, .nsyms = 2,
	    .table = &api, .tablesize = sizeof(api) };
	struct err err;

	(void)state;
	memset(&api, 0, sizeof(api));
	err_clear(&err);
	/* the first soname is missing: the next one is taken */
	assert_int_equal(dynload_open(&d, &err), 0);
	assert_int_equal(api.strlen("four"), 4);
	assert_int_equal(api.strcmp("a", "a"), 0);
	assert_int_equal(dynload_open(&d, &err), 0);
}

static void
test_missing(void **state)
{
	static const char *const sonames[] = { "libom-missing.so.9", NULL };
	struct libc_api api;
	struct dynload d = { .name = "libommissing", .package = "libom9",
	    .sonames = sonames, .syms = libc_syms, .nsyms = 2,
	    .table = &api, .tablesize = sizeof(api),
	    .missing_cure = "; install it or set 'x'" };
	struct err err;

	(void)state;
	err_clear(&err);
	assert_int_equal(dynload_open(&d, &err), -1);
	assert_int_equal(err.class, ERR_TEMP);
	assert_non_null(strstr(err.msg, "libommissing is not installed "
	    "(Debian: libom9): "));
	assert_non_null(strstr(err.msg, "libom-missing.so.9"));
	assert_non_null(strstr(err.msg, "; install it or set 'x'"));
	assert_null(strchr(err.msg, '\n'));
	/* remembered: the same answer */
	err_clear(&err);
	assert_int_equal(dynload_open(&d, &err), -1);
	assert_non_null(strstr(err.msg, "is not installed"));
}

static void
test_too_old(void **state)
{
	static const char *const sonames[] = { "libc.so.6", NULL };
	struct libc_api api;
	struct dynload d = { .name = "libc", .package = "libc6",
	    .sonames = sonames, .syms = bad_syms, .nsyms = 2,
	    .table = &api, .tablesize = sizeof(api),
	    .old_cure = " (libc 9 or later is needed)", .keep = 1 };
	struct err err;

	(void)state;
	err_clear(&err);
	assert_int_equal(dynload_open(&d, &err), -1);
	assert_int_equal(err.class, ERR_TEMP);
	assert_string_equal(err.msg, "libc.so.6 is too old: it has no "
	    "om_no_such_symbol (libc 9 or later is needed)");
	/* the table is cleared: nothing half-loaded is ever called */
	assert_null(api.strlen);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_too_old),
	};

	return cmocka_run_group_tests_name("dynload", tests, NULL, NULL);
}
