/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* test_msmtprc.c -- an msmtprc converted (msmtprc.h): what maps, what is
 * refused with its line, and that what is written loads. */
#include "unit.h"

#include "conf.h"
#include "msmtprc.h"
#include "status.h"

/* Converts text; the result must load when it has an account. */
static void
convert_ok(const char *text, struct msmtprc_out *out, struct config *cf)
{
	struct err err;

	err_clear(&err);
	if (msmtprc_convert("rc", text, strlen(text), out, &err) == -1)
		fail_msg("convert: %s", err.msg);
	memset(cf, 0, sizeof(*cf));
	if (out->naccounts > 0 && conf_load_buffer("out", out->conf.data,
	    out->conf.len, cf, &err) == -1)
		fail_msg("the output does not load: %s\n%s", err.msg,
		    out->conf.data);
}

static void
test_inheritance(void **state)
{
	struct msmtprc_out out;
	struct config cf;
	struct account *a;

	(void)state;
	convert_ok("defaults\nauth on\ntls on\nport 587\n"
	    "account base\nhost mail.example.net\nfrom b@example.net\n"
	    "account child : base\nfrom c@example.net\n"
	    "account default : child\n", &out, &cf);
	assert_int_equal(out.naccounts, 2);
	a = conf_account(&cf, "child");
	assert_non_null(a);
	assert_string_equal(a->host, "mail.example.net");
	assert_string_equal(a->from, "c@example.net");
	assert_int_equal(conf_port(a), 587);
	assert_int_equal(a->auth, AUTH_AUTO);
	assert_ptr_equal(cf.def, a);
	conf_free(&cf);
	msmtprc_out_free(&out);
}

static void
test_providers(void **state)
{
	struct msmtprc_out out;
	struct config cf;
	struct account *a;

	(void)state;
	convert_ok("account w\nhost smtp.office365.com\nport 587\nauth xoauth2\n"
	    "from j@contoso.example\npasswordeval \"helper --secret x\"\n"
	    "account h\nhost smtp.office365.com\nauth xoauth2\n"
	    "from me@hotmail.com\n"
	    "account g\nhost smtp.gmail.com\nauth plain\nfrom g@gmail.com\n"
	    "password hunter2\n", &out, &cf);
	a = conf_account(&cf, "w");
	assert_int_equal(a->provider, PROVIDER_MICROSOFT);
	assert_string_equal(a->tenant, "contoso.example");
	a = conf_account(&cf, "h");
	assert_int_equal(a->provider, PROVIDER_OUTLOOK);
	/* Gmail with a password: an app password account. */
	a = conf_account(&cf, "g");
	assert_int_equal(a->provider, PROVIDER_NONE);
	assert_int_equal(a->auth, AUTH_PLAIN);
	assert_string_equal(a->host, "smtp.gmail.com");
	assert_null(strstr(out.conf.data, "hunter2"));
	assert_null(strstr(out.conf.data, "helper"));
	assert_null(strstr(out.steps.data, "helper"));
	assert_non_null(strstr(out.steps.data, "'oauthmail login w'"));
	assert_non_null(strstr(out.steps.data, "'oauthmail password g'"));
	conf_free(&cf);
	msmtprc_out_free(&out);
}

static void
test_quoting(void **state)
{
	struct msmtprc_out out;
	struct config cf;
	struct account *a;

	(void)state;
	/* msmtp has no trailing comments: "#" is part of the value. */
	convert_ok("account q\nhost h.example\nauth off\n"
	    "from \"a#b@example.com\"\ndomain x # y\n", &out, &cf);
	a = conf_account(&cf, "q");
	assert_string_equal(a->from, "a#b@example.com");
	assert_string_equal(a->domain, "x # y");
	conf_free(&cf);
	msmtprc_out_free(&out);
}

static void
test_commented_out(void **state)
{
	struct msmtprc_out out;
	struct config cf;

	(void)state;
	convert_ok("account ok\nhost h\nfrom a@h.example\n"
	    "account c\nhost h\nauth cram-md5\nfrom c@h.example\n"
	    "account o\nhost mail.example.org\nauth xoauth2\n"
	    "from o@example.org\naccount n\nhost h\n", &out, &cf);
	assert_int_equal(out.naccounts, 1);
	assert_int_equal(out.ndisabled, 3);
	assert_null(conf_account(&cf, "c"));
	assert_non_null(strstr(out.conf.data, "# account c: auth cram-md5"));
	assert_non_null(strstr(out.conf.data, "# account o: OAuth at"));
	assert_non_null(strstr(out.conf.data, "# account n: no from"));
	conf_free(&cf);
	msmtprc_out_free(&out);
}

static void
test_errors(void **state)
{
	static const struct {
		const char	*text;
		const char	*msg;
	} bad[] = {
		{ "account a\nfrom \"x\n", "rc:2: from: missing closing" },
		{ "account a : b\n", "rc:1: account a inherits from 'b'" },
		{ "account a\naccount a\n", "rc:2: account a is defined twice" },
		{ "defaults x\n", "rc:1: defaults takes no argument" },
		{ "port 0\n", "rc:1: port: invalid port '0'" },
		{ "host a\x01\n", "rc:1: a control character" },
		{ "account\n", "rc:1: account needs a name" },
	};
	struct msmtprc_out out;
	struct err err;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(bad); i++) {
		err_clear(&err);
		if (msmtprc_convert("rc", bad[i].text, strlen(bad[i].text),
		    &out, &err) != -1)
			fail_msg("accepted: %s", bad[i].text);
		assert_int_equal(err.class, ERR_DATA);
		if (strstr(err.msg, bad[i].msg) == NULL)
			fail_msg("'%s': got '%s'", bad[i].text, err.msg);
	}
	err_clear(&err);
	assert_int_equal(msmtprc_convert("rc", "host a\0b", 8, &out, &err),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inheritance),
		cmocka_unit_test(test_providers),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_commented_out),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests_name("msmtprc", tests, NULL, NULL);
}
