/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * test_advice.c -- the catalogue of provider replies (advice.c), row by
 * row with the providers' own texts, the reaction each reply gets
 * (smtpreply_react, smtpreply_class), and the token endpoint's errors
 * (oauth_classify) with their fixes and whole words.
 */
#include "unit.h"

#include "advice.h"
#include "json.h"
#include "oauth.h"
#include "smtpreply.h"
#include "status.h"
#include "xmalloc.h"

/* Every row is complete, found by its own key, and fills cleanly. */
static void
test_rows(void **state)
{
	const struct advice *a, *b;
	char fix[512];
	size_t i;

	(void)state;
	for (i = 0; (a = advice_row(i)) != NULL; i++) {
		assert_non_null(a->key);
		assert_true(a->key[0] != '\0');
		assert_non_null(a->label);
		assert_true(a->label[0] != '\0');
		assert_non_null(a->fix);
		b = advice_find(a->key);
		if (b != a)
			fail_msg("row %zu (%s) is shadowed by '%s'", i, a->key,
			    b != NULL ? b->key : "(none)");
		advice_fill(a, "work", "me@example.test", fix, sizeof(fix));
		if (strchr(fix, '@') != NULL && strstr(fix, "me@example.test")
		    == NULL)
			fail_msg("row %zu: placeholder left in '%s'", i, fix);
		if (strstr(a->fix, "@ACCT@") != NULL &&
		    strstr(fix, "work") == NULL)
			fail_msg("row %zu: account not named: %s", i, fix);
		/* The whole fix must fit next to a provider's reply. */
		if (strlen(fix) > 360)
			fail_msg("row %zu: fix of %zu bytes", i, strlen(fix));
	}
	assert_true(i > 40);
	assert_null(advice_find(NULL));
	assert_null(advice_find(""));
	assert_null(advice_find("250 2.0.0 OK"));
	assert_null(advice_find("535 5.7.0 something new"));
}

/* Replies as Microsoft 365 and Gmail send them, and what they get. */
static const struct {
	const char		*text;
	enum advice_react	 react;
	enum err_class		 class;	/* smtpreply_class of the reply */
	const char		*want;	/* in the fix */
	const char		*label;	/* in the label; NULL: any */
} smtp_cases[] = {
	{ "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication "
	    "is disabled for the Tenant. Visit https://aka.ms/smtp_auth_"
	    "disabled for more information. [SN4PR0501CA0054.namprd05.prod."
	    "outlook.com]", ADV_HOLD, ERR_AUTH,
	    "Set-CASMailbox -Identity me@example.test "
	    "-SmtpClientAuthenticationDisabled $false",
	    "SMTP AUTH disabled by the tenant" },
	{ "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication "
	    "is disabled for the Tenant.", ADV_HOLD, ERR_AUTH,
	    "Set-TransportConfig -SmtpClientAuthenticationDisabled $false",
	    NULL },
	{ "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication "
	    "is disabled for the Mailbox. Visit https://aka.ms/smtp_auth_"
	    "disabled", ADV_HOLD, ERR_AUTH, "Set-CASMailbox", "mailbox" },
	{ "535 5.7.139 Authentication unsuccessful, user is locked by your "
	    "organization's security defaults policy. Contact your "
	    "administrator.", ADV_HOLD, ERR_AUTH, "security defaults", NULL },
	{ "535 5.7.139 Authentication unsuccessful, the request did not meet "
	    "the criteria to be authenticated successfully. Contact your "
	    "administrator.", ADV_HOLD, ERR_AUTH, "an admin must allow",
	    NULL },
	{ "535 5.7.139 Authentication unsuccessful, basic authentication is "
	    "disabled.", ADV_HOLD, ERR_AUTH, "auth xoauth2", NULL },
	{ "535 5.7.139 Authentication unsuccessful, the user credentials "
	    "were incorrect.", ADV_AUTH, ERR_AUTH, "oauthmail login work",
	    NULL },
	{ "550 5.7.30 Basic authentication is not supported for Client "
	    "Submission.", ADV_HOLD, ERR_AUTH, "auth xoauth2", NULL },
	{ "535 5.7.3 Authentication unsuccessful [BN9PR03CA0123.namprd03."
	    "prod.outlook.com]", ADV_AUTH, ERR_AUTH,
	    "aud must be https://outlook.office.com", NULL },
	{ "530 5.7.57 Client not authenticated to send mail. "
	    "[DM6PR02CA0048.namprd02.prod.outlook.com]", ADV_HOLD, ERR_AUTH,
	    "Add-MailboxPermission", NULL },
	{ "530 5.7.0 Authentication Required. Learn more at "
	    "https://support.google.com/mail/?p=WantAuthError", ADV_HOLD,
	    ERR_AUTH, "auth xoauth2", NULL },
	{ "554 5.2.252 SendAsDenied; me@example.test not allowed to send as "
	    "boss@example.test; STOREDRV.Submission.Exception:"
	    "SendAsDeniedException.MapiExceptionSendAsDenied", ADV_INFO,
	    ERR_PERM, "Add-RecipientPermission", "Send As" },
	{ "554 5.2.252 SendAsDenied", ADV_INFO, ERR_PERM,
	    "'from' of account work", NULL },
	{ "432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded "
	    "[Hostname=BY5PR11MB4311.namprd11.prod.outlook.com]",
	    ADV_THROTTLE, ERR_TEMP, "3 connections", "throttled" },
	{ "451 4.7.500 Server busy. Please try again later from "
	    "[203.0.113.7]. (AS761)", ADV_THROTTLE, ERR_TEMP, "max_rate",
	    "throttled" },
	{ "421 4.7.0 Try again later, closing connection. (EHLO) "
	    "d9443c01a7336-21f4a2b3c4dsm123456pla.0 - gsmtp", ADV_THROTTLE,
	    ERR_TEMP, "retried with backoff", "throttled" },
	{ "421 4.7.0 Try again later, closing connection.", ADV_THROTTLE,
	    ERR_TEMP, "retried with backoff", NULL },
	{ "454 4.7.0 Too many login attempts, please try again later. "
	    "5b1f17b1804b1-43...", ADV_THROTTLE, ERR_TEMP, "sign-ins", NULL },
	{ "421 4.7.28 Gmail has detected an unusual rate of unsolicited mail",
	    ADV_THROTTLE, ERR_TEMP, "max_rate", NULL },
	{ "421 4.4.2 BN8NAM12FT067.mail.protection.outlook.com Connection "
	    "dropped due to timeout", ADV_RECONNECT, ERR_TEMP, "reconnects",
	    NULL },
	{ "550 5.4.5 Daily user sending limit exceeded. For more "
	    "information on Gmail sending limits go to / 5.4.5 "
	    "https://support.google.com/a/answer/166852 - gsmtp", ADV_LIMIT,
	    ERR_TEMP, "24-hour window", "daily sending limit" },
	{ "550 5.4.5 Daily SMTP relay limit exceeded for user.", ADV_LIMIT,
	    ERR_TEMP, "nothing is bounced", NULL },
	{ "550 5.7.233 Your message can't be sent because your organization "
	    "has exceeded its limit for sending email to external recipients "
	    "(tenant external recipient rate limit).", ADV_LIMIT, ERR_TEMP,
	    "TERRL", "external recipient" },
	{ "554 5.2.0 STOREDRV.Submission.Exception:"
	    "SubmissionQuotaExceededException; Failed to process message "
	    "due to a permanent exception", ADV_LIMIT, ERR_TEMP,
	    "10,000 recipients", NULL },
	{ "550 5.1.90 Your message can't be sent because you've reached "
	    "your daily limit for message recipients.", ADV_LIMIT, ERR_TEMP,
	    "24-hour window", NULL },
	{ "550 5.7.708 Service unavailable. Access denied, traffic not "
	    "accepted from this IP.", ADV_TEMP, ERR_TEMP, "Microsoft support",
	    NULL },
	{ "535-5.7.8 Username and Password not accepted. Learn more at / "
	    "5.7.8 https://support.google.com/mail/?p=BadCredentials",
	    ADV_AUTH, ERR_AUTH, "https://mail.google.com/", NULL },
	{ "421 4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade",
	    ADV_INFO, ERR_TEMP, "TLS 1.2", NULL },
	{ "555 5.5.2 Syntax error, command line too long", ADV_INFO,
	    ERR_PERM, "too long", NULL },
	/* Unknown texts: the code decides. */
	{ "451 4.3.0 Temporary server error. Please try again later",
	    ADV_INFO, ERR_TEMP, NULL, NULL },
	{ "550 5.1.1 <x@example.test>: Recipient address rejected",
	    ADV_INFO, ERR_PERM, NULL, NULL },
};

static void
test_smtp_replies(void **state)
{
	const struct advice *a;
	char fix[512];
	size_t i;
	int code;

	(void)state;
	for (i = 0; i < nitems(smtp_cases); i++) {
		const char *t = smtp_cases[i].text;

		code = (t[0] - '0') * 100 + (t[1] - '0') * 10 + (t[2] - '0');
		if (smtpreply_react(t) != smtp_cases[i].react)
			fail_msg("case %zu (%s): react %d, want %d", i, t,
			    smtpreply_react(t), smtp_cases[i].react);
		if (smtpreply_class(code, t) != smtp_cases[i].class)
			fail_msg("case %zu (%s): class %s, want %s", i, t,
			    err_class_str(smtpreply_class(code, t)),
			    err_class_str(smtp_cases[i].class));
		a = advice_find(t);
		if (smtp_cases[i].want == NULL) {
			if (a != NULL)
				fail_msg("case %zu: unexpected row %s", i,
				    a->key);
			continue;
		}
		if (a == NULL)
			fail_msg("case %zu (%s): no advice", i, t);
		advice_fill(a, "work", "me@example.test", fix, sizeof(fix));
		if (strstr(fix, smtp_cases[i].want) == NULL)
			fail_msg("case %zu (%s): '%s' lacks '%s'", i, t, fix,
			    smtp_cases[i].want);
		if (smtp_cases[i].label != NULL &&
		    strstr(a->label, smtp_cases[i].label) == NULL)
			fail_msg("case %zu: label '%s' lacks '%s'", i,
			    a->label, smtp_cases[i].label);
	}
}

/* Tenant disabled: the fix never says to sign in again. */
/* What the HTTPS mail APIs say (api.c's texts), and what they get. */
static void
test_api_replies(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;
	} cases[] = {
		{ "held: Microsoft Graph refused to send (HTTP 403 "
		    "ErrorAccessDenied: Access is denied. Check credentials "
		    "and try again.)", "Mail.Send" },
		{ "held: Microsoft Graph refused to send (HTTP 403 "
		    "ErrorAccessDenied: Access to OData is disabled: [RAOP] : "
		    "Blocked by tenant configured AppOnly AccessPolicy "
		    "settings.)", "Test-ApplicationAccessPolicy -Identity "
		    "me@example.test" },
		{ "held: Microsoft Graph refused to send (HTTP 404 "
		    "MailboxNotEnabledForRESTAPI: The mailbox is either "
		    "inactive, soft-deleted, or is hosted on-premise.)",
		    "transport smtp" },
		{ "held: Microsoft Graph found the request malformed (HTTP "
		    "400 ErrorMimeContentInvalidBase64String: Invalid base64 "
		    "string for MIME content.)", "a bug in oauthmail" },
		{ "held: the Gmail API refused to send (HTTP 403 "
		    "PERMISSION_DENIED insufficientPermissions: Request had "
		    "insufficient authentication scopes.)", "gmail.send" },
		{ "held: the Gmail API refused to send (HTTP 400 "
		    "FAILED_PRECONDITION failedPrecondition: Mail service not "
		    "enabled)", "enable Gmail" },
		{ "held: the message's header names recipients that are not "
		    "envelope recipients (<eve@example.test>)", "-t" },
	};
	const struct advice *a;
	char fix[512];
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		a = advice_find(cases[i].text);
		if (a == NULL)
			fail_msg("case %zu: no row", i);
		assert_int_equal(a->react, ADV_HOLD);
		advice_fill(a, "work", "me@example.test", fix, sizeof(fix));
		if (strstr(fix, cases[i].want) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, fix,
			    cases[i].want);
	}
}

/*
 * The APIs' limits: Gmail's daily limit (its 429 names "Mail sending";
 * reason dailyLimitExceeded) is a limit with the SMTP 5.4.5's words; the
 * per-minute throttling is not.
 */
static void
test_api_limits(void **state)
{
	static const struct {
		const char		*text;
		enum advice_react	 react;
		const char		*want;
	} cases[] = {
		{ "the Gmail API: sending limit reached (HTTP 429 "
		    "RESOURCE_EXHAUSTED rateLimitExceeded: User-rate limit "
		    "exceeded.  Retry after 2026-01-02T03:04:05.678Z (Mail "
		    "sending))", ADV_LIMIT, "24-hour window" },
		{ "the Gmail API: sending limit reached (HTTP 403 "
		    "PERMISSION_DENIED dailyLimitExceeded: Daily Limit "
		    "Exceeded)", ADV_LIMIT, "500 for gmail.com" },
		{ "the Gmail API is busy or throttling (HTTP 429 "
		    "RESOURCE_EXHAUSTED userRateLimitExceeded: User-rate limit "
		    "exceeded.)", ADV_THROTTLE, "max_rate for account work" },
		{ "the Gmail API is busy or throttling (HTTP 403 "
		    "PERMISSION_DENIED rateLimitExceeded: Quota exceeded)",
		    ADV_THROTTLE, "max_rate" },
		{ "Microsoft Graph is busy or throttling (HTTP 429 "
		    "ApplicationThrottled: Application is over its "
		    "MailboxConcurrency limit.)", ADV_THROTTLE, "max_rate" },
	};
	const struct advice *a, *smtp;
	char fix[512], fix545[512];
	size_t i;

	(void)state;
	smtp = advice_find("550 5.4.5 Daily user sending limit exceeded.");
	assert_non_null(smtp);
	advice_fill(smtp, "work", "me@example.test", fix545, sizeof(fix545));
	for (i = 0; i < nitems(cases); i++) {
		a = advice_find(cases[i].text);
		if (a == NULL)
			fail_msg("case %zu: no row", i);
		if (a->react != cases[i].react)
			fail_msg("case %zu: react %d", i, (int)a->react);
		advice_fill(a, "work", "me@example.test", fix, sizeof(fix));
		if (strstr(fix, cases[i].want) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, fix,
			    cases[i].want);
		if (a->react == ADV_LIMIT)
			assert_string_equal(fix, fix545);
	}
}

static void
test_tenant_disabled_not_login(void **state)
{
	char fix[512];

	(void)state;
	assert_int_equal(advice_explain("535 5.7.139 Authentication "
	    "unsuccessful, SmtpClientAuthentication is disabled for the "
	    "Tenant.", "work", "me@example.test", fix, sizeof(fix)), 1);
	assert_null(strstr(fix, "run 'oauthmail login"));
	assert_non_null(strstr(fix, "cannot help"));
	assert_int_equal(advice_explain("nothing known", "w", NULL, fix,
	    sizeof(fix)), 0);
	assert_string_equal(fix, "");
}

/* Specific keys first, and no key glued to other digits. */
static void
test_boundaries(void **state)
{
	(void)state;
	assert_string_equal(advice_find("550 5.7.30 Basic auth")->key,
	    "5.7.30");
	assert_string_equal(advice_find("535 5.7.3 x")->key, "5.7.3");
	assert_string_equal(advice_find("535 5.7.3")->key, "5.7.3");
	assert_null(advice_find("550 5.7.31 x"));
	assert_null(advice_find("550 15.4.5 x"));
	assert_null(advice_find("AADSTS700112: x"));
	/* Addresses are not status codes. */
	assert_null(advice_find("connect to 10.5.5.2:587: timed out"));
	assert_null(advice_find("connect to 5.7.3.9:587: refused"));
	assert_string_equal(advice_find("(5.7.3.) x")->key, "5.7.3");
	assert_string_equal(advice_find("AADSTS7000112: x")->key,
	    "AADSTS7000112");
	assert_string_equal(advice_find("x AADSTS70011: y")->key,
	    "AADSTS70011");
	/* Gmail's 421 4.7.0 vs its 454 4.7.0 sign-in throttle */
	assert_string_equal(advice_find("454 4.7.0 Too many login "
	    "attempts")->key, "Too many login attempts");
}

/* The redirect URI advice names what login listens on. */
static void
test_redirect_uri(void **state)
{
	char fix[512];

	(void)state;
	assert_int_equal(advice_explain("AADSTS50011: The redirect URI "
	    "'http://127.0.0.1:41234/' specified in the request does not "
	    "match", "work", NULL, fix, sizeof(fix)), 1);
	assert_non_null(strstr(fix, "http://127.0.0.1"));
	assert_null(strstr(fix, "localhost"));
}

/* The placeholders: account and mailbox, with defaults. */
static void
test_fill(void **state)
{
	static const struct advice row = { "k", ADV_INFO, ERR_NONE, "l",
	    "a=@ACCT@ u=@USER@ at@example @ACCT@" };
	char out[64];

	(void)state;
	advice_fill(&row, "w", "u@x", out, sizeof(out));
	assert_string_equal(out, "a=w u=u@x at@example w");
	advice_fill(&row, NULL, NULL, out, sizeof(out));
	assert_string_equal(out, "a=ACCOUNT u=MAILBOX at@example ACCOUNT");
	advice_fill(&row, "w", "u", out, 8);
	assert_string_equal(out, "a=w ...");
}

/* Shortened at a word boundary, marked, first line only. */
static void
test_shorten(void **state)
{
	char out[64];

	(void)state;
	advice_shorten(out, sizeof(out), "short", 100);
	assert_string_equal(out, "short");
	advice_shorten(out, sizeof(out), "first line\r\nTrace ID: 1", 100);
	assert_string_equal(out, "first line");
	advice_shorten(out, sizeof(out), "Tenant 'x' not found. Check to "
	    "make sure", 24);
	assert_string_equal(out, "Tenant 'x' not found...");
	advice_shorten(out, sizeof(out), "one two, three", 12);
	assert_string_equal(out, "one two...");
	advice_shorten(out, sizeof(out), "averyveryverylongword", 10);
	assert_string_equal(out, "...");
	advice_shorten(out, 10, "one two three four", 100);
	assert_string_equal(out, "one...");
	advice_shorten(out, sizeof(out), NULL, 10);
	assert_string_equal(out, "");
}

/* The fix is added whole; the provider's words give way, at a word. */
static void
test_add_fix(void **state)
{
	struct err e;
	const struct advice *a;
	char words[600];
	size_t i;

	(void)state;
	err_clear(&e);
	(void)err_set(&e, ERR_AUTH, "AUTH XOAUTH2 refused by "
	    "smtp.office365.com:587: 535 5.7.139 Authentication "
	    "unsuccessful, SmtpClientAuthentication is disabled for the "
	    "Tenant. Visit https://aka.ms/smtp_auth_disabled for more "
	    "information. [SN4PR0501CA0054.namprd05.prod.outlook.com]");
	a = advice_add_fix(&e, "work", "me@example.test");
	assert_non_null(a);
	assert_non_null(strstr(e.msg, "5.7.139"));
	assert_non_null(strstr(e.msg, "Set-TransportConfig "
	    "-SmtpClientAuthenticationDisabled $false"));
	assert_non_null(strstr(e.msg, "held mail is retried"));
	/* Idempotent. */
	(void)strlcpy(words, e.msg, sizeof(words));
	(void)advice_add_fix(&e, "work", "me@example.test");
	assert_string_equal(e.msg, words);
	/* A long reply is shortened to make room, never mid-word. */
	(void)strlcpy(words, "550 5.4.5 Daily user sending limit exceeded.",
	    sizeof(words));
	for (i = 0; i < 60; i++)
		(void)strlcat(words, " padding", sizeof(words));
	(void)err_set(&e, ERR_TEMP, "%s", words);
	assert_non_null(advice_add_fix(&e, "work", "me@example.test"));
	assert_non_null(strstr(e.msg, "padding...; Gmail's daily"));
	assert_non_null(strstr(e.msg, "nothing is bounced"));
	/* Unknown: untouched. */
	(void)err_set(&e, ERR_TEMP, "451 4.3.0 try later");
	assert_null(advice_add_fix(&e, "work", NULL));
	assert_string_equal(e.msg, "451 4.3.0 try later");
}

/* Token endpoint errors: the catalogue's fix and class, whole words. */
static void
test_token_errors(void **state)
{
	static const struct {
		long		 status;
		const char	*error;
		const char	*desc;
		long long	 code;
		enum err_class	 class;
		const char	*want;
		const char	*unwanted;
	} cases[] = {
		{ 400, "invalid_request", "AADSTS90002: Tenant "
		    "'contoso.example' not found. Check to make sure you have "
		    "the correct tenant ID and are signing into the correct "
		    "cloud. Check with your subscription administrator, this "
		    "may happen if there are no active subscriptions for the "
		    "tenant.\r\nTrace ID: 0f1e\r\nCorrelation ID: 4d3c",
		    90002, ERR_CONFIG, "set 'tenant' for account acct1",
		    "token_endpoint" },
		{ 400, "invalid_grant", "AADSTS65001: The user or administrator "
		    "has not consented to use the application with ID "
		    "'1b2c3d4e-0000-4000-8000-000000000000' named 'oauthmail'. "
		    "Send an interactive authorization request for this user "
		    "and resource.", 65001, ERR_AUTH, "Grant admin consent",
		    NULL },
		{ 400, "unauthorized_client", "AADSTS700016: Application with "
		    "identifier '1b2c3d4e-0000-4000-8000-000000000000' was not "
		    "found in the directory 'Contoso'. This can happen if the "
		    "application has not been installed by the administrator "
		    "of the tenant or consented to by any user in the tenant. "
		    "You may have sent your authentication request to the "
		    "wrong tenant.", 700016, ERR_CONFIG,
		    "Application (client) ID", "check 'flow'" },
		{ 400, "invalid_request", "AADSTS50011: The redirect URI "
		    "'http://127.0.0.1:43111/' specified in the request does "
		    "not match the redirect URIs configured for the "
		    "application", 50011, ERR_CONFIG, "http://127.0.0.1",
		    "localhost" },
		{ 400, "invalid_grant", "AADSTS53003: Access has been blocked "
		    "by Conditional Access policies. The access policy does "
		    "not allow token issuance.", 53003, ERR_AUTH,
		    "oauthmail login acct1 --paste", NULL },
		{ 400, "invalid_grant", "AADSTS50199: For security reasons, "
		    "user confirmation is required for this request. Please "
		    "repeat the request allowing user interaction.", 50199,
		    ERR_AUTH, "oauthmail login acct1 --paste", NULL },
		{ 400, "invalid_request", "AADSTS500113: No reply address is "
		    "registered for the application.", 500113, ERR_CONFIG,
		    "oauthmail login acct1 --paste", NULL },
		{ 400, "invalid_grant", "Token has been expired or revoked.",
		    0, ERR_AUTH, "oauthmail login acct1", NULL },
		{ 401, "deleted_client", "The OAuth client was deleted.", 0,
		    ERR_CONFIG, "set client_id", NULL },
	};
	struct json_token t;
	struct err err;
	const char *p, *end;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		json_token_init(&t);
		t.error = xstrdup(cases[i].error);
		t.error_description = xstrdup(cases[i].desc);
		if (cases[i].code != 0) {
			t.error_codes[0] = cases[i].code;
			t.nerror_codes = 1;
		}
		err_clear(&err);
		assert_int_equal(oauth_classify("acct1", cases[i].status, &t,
		    &err), -1);
		if (err.class != cases[i].class)
			fail_msg("case %zu: class %s: %s", i,
			    err_class_str(err.class), err.msg);
		if (strstr(err.msg, cases[i].want) == NULL)
			fail_msg("case %zu: '%s' lacks '%s'", i, err.msg,
			    cases[i].want);
		if (cases[i].unwanted != NULL &&
		    strstr(err.msg, cases[i].unwanted) != NULL)
			fail_msg("case %zu: '%s' has '%s'", i, err.msg,
			    cases[i].unwanted);
		assert_null(strstr(err.msg, "Trace ID"));
		/* The description is whole, or cut after a whole word. */
		p = strstr(err.msg, cases[i].error);
		assert_non_null(p);
		end = err.msg + strlen(err.msg) - 1;
		assert_int_equal(*end, ')');
		if (end - 3 > p && strncmp(end - 3, "...", 3) == 0) {
			size_t n = (size_t)(end - 3 - (p + strlen(
			    cases[i].error) + 2));

			assert_memory_equal(p + strlen(cases[i].error) + 2,
			    cases[i].desc, n);
			if (cases[i].desc[n] != ' ' && cases[i].desc[n] != ','
			    && cases[i].desc[n] != '.')
				fail_msg("case %zu: cut mid-word: %s", i,
				    err.msg);
		}
		json_token_free(&t);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_smtp_replies),
		cmocka_unit_test(test_api_replies),
		cmocka_unit_test(test_api_limits),
		cmocka_unit_test(test_tenant_disabled_not_login),
		cmocka_unit_test(test_boundaries),
		cmocka_unit_test(test_redirect_uri),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_shorten),
		cmocka_unit_test(test_add_fix),
		cmocka_unit_test(test_token_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
