/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* advice.c -- the catalogue of provider replies; see advice.h. Pure. */
#include "common.h"

#include <string.h>

#include "advice.h"
#include "buf.h"
#include "status.h"
#include "util.h"

#define SET_CAS	"Set-CASMailbox -Identity @USER@ " \
	"-SmtpClientAuthenticationDisabled $false"
#define SET_ORG	"Set-TransportConfig -SmtpClientAuthenticationDisabled $false"
#define NO_LOGIN "; signing in again cannot help, held mail is retried"
#define SEND_AS	"@USER@ may not send as this From address: an Exchange " \
	"admin must grant it (Add-RecipientPermission -Identity FROM-ADDRESS " \
	"-Trustee @USER@ -AccessRights SendAs), or send from @USER@ itself " \
	"(the From: header and 'from' of account @ACCT@)"
#define NOT_AUTHED "the server took no AUTH as leave to send: check that " \
	"account @ACCT@ uses auth xoauth2 with tls on and that user is the " \
	"mailbox that signed in (@USER@); app-only sign-in (flow " \
	"client_credentials) also needs New-ServicePrincipal and " \
	"Add-MailboxPermission -Identity @USER@ -AccessRights FullAccess in " \
	"Exchange"
#define GMAIL_TOKEN "Gmail refused the token: the scope must be " \
	"https://mail.google.com/ and user must be the Gmail address that " \
	"signed in; run 'oauthmail login @ACCT@' again"
#define LIMIT_WAIT "mail waits until the 24-hour window passes; nothing " \
	"is bounced"
#define GMAIL_DAILY "Gmail's daily sending limit for @USER@ is reached " \
	"(2,000 messages a day for Workspace, 500 for gmail.com): " LIMIT_WAIT
#define API_SLOW_DOWN "the run stops and the rest waits for the time the " \
	"API asked for, or the usual backoff; set max_rate for account " \
	"@ACCT@ to send fewer messages a minute"
#define SLOW_DOWN "the run stops and the rest is retried with backoff; " \
	"set max_rate for account @ACCT@ to send fewer messages a minute"

/*
 * First match wins: the specific texts come before the bare codes they
 * carry. Microsoft's texts are from Exchange Online's replies, Google's
 * from Gmail's and accounts.google.com's.
 */
static const struct advice catalogue[] = {
	/* --- SMTP AUTH refused by policy: only an admin can help --- */
	{ "disabled for the Tenant", ADV_HOLD,
	    ERR_AUTH, "SMTP AUTH disabled by the tenant",
	    "an Exchange admin must allow SMTP AUTH for the mailbox: "
	    SET_CAS " (or for the whole tenant: " SET_ORG ")" NO_LOGIN },
	{ "disabled for the Mailbox", ADV_HOLD,
	    ERR_AUTH, "SMTP AUTH disabled for the mailbox",
	    "an Exchange admin must allow SMTP AUTH for the mailbox: "
	    SET_CAS NO_LOGIN },
	{ "security defaults", ADV_HOLD, ERR_AUTH,
	    "SMTP AUTH blocked by security defaults",
	    "the tenant's security defaults block SMTP AUTH: an admin must "
	    "turn security defaults off or allow SMTP AUTH through "
	    "Conditional Access" NO_LOGIN },
	{ "basic authentication is disabled", ADV_HOLD, ERR_AUTH,
	    "basic authentication disabled",
	    "use OAuth: set 'auth xoauth2' and 'provider microsoft' for "
	    "account @ACCT@, then run 'oauthmail login @ACCT@'" },
	{ "user credentials were incorrect", ADV_AUTH, ERR_AUTH,
	    "token refused", "run 'oauthmail login @ACCT@' and check that "
	    "user is the mailbox that signs in (@USER@)" },
	{ "5.7.139", ADV_HOLD, ERR_AUTH, "SMTP AUTH refused by tenant policy",
	    "the tenant refuses SMTP AUTH for @USER@ (disabled, security "
	    "defaults or Conditional Access): an admin must allow it ("
	    SET_CAS ") and check the sign-in logs" NO_LOGIN },
	{ "5.7.30", ADV_HOLD, ERR_AUTH, "basic authentication retired",
	    "use OAuth: set 'auth xoauth2' and 'provider microsoft' for "
	    "account @ACCT@, then run 'oauthmail login @ACCT@'" },
	{ "5.7.57", ADV_HOLD, ERR_AUTH, "not allowed to send after AUTH",
	    NOT_AUTHED },
	{ "5.7.0 Authentication Required", ADV_HOLD, ERR_AUTH,
	    "not allowed to send after AUTH", NOT_AUTHED },
	/* --- the HTTPS mail APIs (transport graph, gmail-api) --- */
	{ "Access to OData is disabled", ADV_HOLD, ERR_AUTH,
	    "Graph blocked by an application access policy",
	    "an application access policy (or RBAC for Applications scope) "
	    "keeps the app from @USER@: an Exchange admin must add the "
	    "mailbox to the policy's group (Test-ApplicationAccessPolicy "
	    "-Identity @USER@ -AppId CLIENT-ID shows it)" NO_LOGIN },
	{ "ErrorAccessDenied", ADV_HOLD, ERR_AUTH,
	    "Graph refused: no Mail.Send",
	    "the app needs Microsoft Graph Mail.Send: an admin grants it in "
	    "Entra ID (App registrations > API permissions: Mail.Send, "
	    "delegated, or application with admin consent) and checks that "
	    "no access policy excludes @USER@; then 'oauthmail login @ACCT@'"
	},
	{ "MailboxNotEnabledForRESTAPI", ADV_HOLD, ERR_AUTH,
	    "mailbox cannot use Graph",
	    "@USER@ is not an Exchange Online mailbox Graph can send from "
	    "(inactive, unlicensed or on-premises): fix the mailbox, or use "
	    "'transport smtp' for account @ACCT@" NO_LOGIN },
	{ "ErrorMimeContentInvalidBase64String", ADV_HOLD, ERR_AUTH,
	    "API request malformed (a bug)",
	    "a bug in oauthmail: report it with the log line; the message "
	    "stays held and 'oauthmail flush' tries it again" },
	{ "insufficientPermissions", ADV_HOLD, ERR_AUTH,
	    "Gmail API refused: scope missing",
	    "the token lacks https://www.googleapis.com/auth/gmail.send: "
	    "enable the Gmail API for the Google Cloud project, add the "
	    "scope to its consent screen, then 'oauthmail login @ACCT@'" },
	{ "failedPrecondition", ADV_HOLD, ERR_AUTH,
	    "Gmail not enabled for the account",
	    "the Google account @USER@ has no Gmail (or it is turned off "
	    "for it in the Admin console): enable Gmail for it" NO_LOGIN },
	{ "not envelope recipients", ADV_HOLD, ERR_AUTH,
	    "header names recipients outside the envelope",
	    "an HTTPS API delivers to every To/Cc/Bcc address, so this "
	    "message would reach people it was not addressed to: resend it "
	    "with -t or with those recipients named, and remove it from the "
	    "queue (the message stays held, it is never sent as it is)" },
	/* --- the sender --- */
	{ "SendAsDenied", ADV_INFO, ERR_PERM, "no Send As permission",
	    SEND_AS },
	{ "5.2.252", ADV_INFO, ERR_PERM, "no Send As permission", SEND_AS },
	/* --- throttling: stop the run --- */
	{ "sender thread limit exceeded", ADV_THROTTLE, ERR_TEMP,
	    "throttled: too many connections",
	    "Exchange Online allows 3 connections at once per mailbox: "
	    "the run stops and the rest is retried with backoff; run fewer "
	    "senders at once for account @ACCT@" },
	{ "432 4.3.2", ADV_THROTTLE, ERR_TEMP, "throttled by the server",
	    SLOW_DOWN },
	{ "4.7.500", ADV_THROTTLE, ERR_TEMP, "throttled: server busy",
	    SLOW_DOWN },
	{ "Too many login attempts", ADV_THROTTLE, ERR_TEMP,
	    "throttled: too many sign-ins",
	    "Gmail saw too many sign-ins: the run stops and the rest is "
	    "retried with backoff; run fewer senders at once for account "
	    "@ACCT@" },
	{ "4.7.28", ADV_THROTTLE, ERR_TEMP, "throttled: unusual rate",
	    SLOW_DOWN },
	{ "421 4.7.0", ADV_THROTTLE, ERR_TEMP, "throttled: try again later",
	    SLOW_DOWN },
	{ "421 4.4.2", ADV_RECONNECT, ERR_TEMP,
	    "connection closed by the server",
	    "the server closed an idle session: oauthmail reconnects once "
	    "and goes on" },
	/* --- sending limits: wait for the window --- */
	{ "5.4.5", ADV_LIMIT, ERR_TEMP, "Gmail daily sending limit reached",
	    GMAIL_DAILY },
	/* The Gmail API: its 429 for the daily limit names "Mail sending". */
	{ "(Mail sending)", ADV_LIMIT, ERR_TEMP,
	    "Gmail daily sending limit reached", GMAIL_DAILY },
	{ "dailyLimitExceeded", ADV_LIMIT, ERR_TEMP,
	    "Gmail daily sending limit reached", GMAIL_DAILY },
	/* The APIs' per-minute throttling (after the daily limit above). */
	{ "userRateLimitExceeded", ADV_THROTTLE, ERR_TEMP,
	    "throttled by the Gmail API", API_SLOW_DOWN },
	{ "rateLimitExceeded", ADV_THROTTLE, ERR_TEMP,
	    "throttled by the Gmail API", API_SLOW_DOWN },
	{ "HTTP 429", ADV_THROTTLE, ERR_TEMP, "throttled by the API",
	    API_SLOW_DOWN },
	{ "5.7.233", ADV_LIMIT, ERR_TEMP,
	    "tenant external recipient limit reached",
	    "the tenant reached Microsoft's daily limit of external "
	    "recipients (TERRL): " LIMIT_WAIT "; an admin sees the limit in "
	    "the Exchange admin center" },
	{ "SubmissionQuotaExceeded", ADV_LIMIT, ERR_TEMP,
	    "Microsoft sending limit reached",
	    "the mailbox reached Exchange Online's sending limits (10,000 "
	    "recipients a day, 30 messages a minute): " LIMIT_WAIT },
	{ "5.1.90", ADV_LIMIT, ERR_TEMP, "daily recipient limit reached",
	    "the mailbox reached its daily recipient limit: " LIMIT_WAIT },
	{ "5.7.708", ADV_TEMP, ERR_TEMP, "Microsoft refuses the tenant's mail",
	    "Microsoft does not accept mail from this tenant (new or "
	    "low-reputation tenant): an admin must add and verify a custom "
	    "domain and ask Microsoft support to lift it; mail is retried" },
	/* --- tokens refused at AUTH --- */
	{ "graph.microsoft.com", ADV_INFO, ERR_CONFIG, "token for Graph",
	    "the token is for Microsoft Graph, not Exchange: request only "
	    "https://outlook.office.com/SMTP.Send offline_access (set "
	    "'scope' and run 'oauthmail login @ACCT@')" },
	{ "5.7.3", ADV_AUTH, ERR_AUTH, "token refused",
	    "token refused: the token's aud must be "
	    "https://outlook.office.com or https://outlook.office365.com; "
	    "check that user (@USER@) is the mailbox the token was issued "
	    "for and that SMTP AUTH is enabled for it (" SET_CAS ")" },
	{ "BadCredentials", ADV_AUTH, ERR_AUTH, "token refused", GMAIL_TOKEN },
	{ "5.7.8", ADV_AUTH, ERR_AUTH, "token refused", GMAIL_TOKEN },
	{ "4.7.66", ADV_INFO, ERR_CONFIG, "TLS too old",
	    "the server refuses TLS 1.0/1.1: use TLS 1.2 or newer (check "
	    "the system OpenSSL configuration)" },
	{ "5.5.2", ADV_INFO, ERR_PROTO, "AUTH line too long",
	    "the server found a line too long (AUTH initial response): the "
	    "two-step AUTH form is needed; report this as a bug" },
	{ "certificate verify failed", ADV_INFO, ERR_CONFIG,
	    "certificate not trusted",
	    "the server certificate is not trusted: fix the system CA store "
	    "or set tls_trust_file" },
	/* --- Microsoft Entra token endpoint --- */
	{ "AADSTS90002", ADV_INFO, ERR_CONFIG, "tenant not found",
	    "the tenant does not exist: set 'tenant' for account @ACCT@ to "
	    "the Directory (tenant) ID on the app registration's Overview "
	    "page or a verified domain (contoso.onmicrosoft.com)" },
	{ "AADSTS65001", ADV_INFO, ERR_AUTH, "admin consent missing",
	    "the app has no consent in this tenant: an admin must grant it "
	    "(Entra admin center, Enterprise applications, the app, "
	    "Permissions, Grant admin consent), then run 'oauthmail login "
	    "@ACCT@'" },
	{ "AADSTS700016", ADV_INFO, ERR_CONFIG, "unknown client_id",
	    "no app with this client_id in the tenant: copy the Application "
	    "(client) ID from the app registration's Overview page into "
	    "client_id for account @ACCT@, and set 'tenant' to the app's "
	    "tenant if it is single-tenant" },
	{ "AADSTS50194", ADV_INFO, ERR_CONFIG, "single-tenant app",
	    "the app is single-tenant: set 'tenant' for account @ACCT@ to "
	    "its Directory (tenant) ID instead of common" },
	{ "AADSTS50020", ADV_INFO, ERR_CONFIG, "user not in the tenant",
	    "the user is not in this tenant: set 'tenant' for account "
	    "@ACCT@ to the user's tenant (or 'organizations'), then run "
	    "'oauthmail login @ACCT@'" },
	{ "AADSTS7000218", ADV_INFO, ERR_CONFIG, "not a public client",
	    "the app registration is not a public client: set 'Allow public "
	    "client flows' to Yes (Authentication page), or store a client "
	    "secret with 'oauthmail secret @ACCT@'" },
	{ "AADSTS7000215", ADV_INFO, ERR_CONFIG, "invalid client secret",
	    "invalid client secret: store the secret's Value (not its ID), "
	    "or a new one if it expired, with 'oauthmail secret @ACCT@'" },
	{ "AADSTS7000112", ADV_INFO, ERR_CONFIG, "application disabled",
	    "the application is disabled in the tenant: an admin must "
	    "enable it (Enterprise applications; account @ACCT@)" },
	{ "AADSTS700082", ADV_INFO, ERR_AUTH, "sign-in needed",
	    "the refresh token expired after inactivity: run 'oauthmail "
	    "login @ACCT@'" },
	{ "AADSTS70043", ADV_INFO, ERR_AUTH, "sign-in needed",
	    "the refresh token expired under a Conditional Access sign-in "
	    "frequency policy: run 'oauthmail login @ACCT@'" },
	{ "AADSTS50076", ADV_INFO, ERR_AUTH, "sign-in needed",
	    "multi-factor authentication is required: run 'oauthmail login "
	    "@ACCT@'" },
	{ "AADSTS53003", ADV_INFO, ERR_AUTH,
	    "sign-in blocked by Conditional Access",
	    "a Conditional Access policy blocks this sign-in: when it blocks "
	    "the device code flow, sign in with 'oauthmail login @ACCT@ "
	    "--paste'; otherwise an admin must allow it (see the Entra "
	    "sign-in logs), then run 'oauthmail login @ACCT@'" },
	{ "AADSTS50199", ADV_INFO, ERR_AUTH, "confirmation needed",
	    "Microsoft wants a confirmation that the device code flow cannot "
	    "give: sign in with 'oauthmail login @ACCT@ --paste'" },
	{ "AADSTS500113", ADV_INFO, ERR_CONFIG, "no redirect URI",
	    "the app registration has no redirect URI: add http://127.0.0.1 "
	    "as a Mobile and desktop applications redirect URI, then sign in "
	    "with 'oauthmail login @ACCT@ --paste'" },
	{ "AADSTS70011", ADV_INFO, ERR_CONFIG, "invalid scope",
	    "invalid scope: use 'scope https://outlook.office.com/SMTP.Send "
	    "offline_access' for account @ACCT@ (client credentials: "
	    "https://outlook.office365.com/.default)" },
	{ "AADSTS50011", ADV_INFO, ERR_CONFIG, "redirect URI mismatch",
	    "redirect URI mismatch: add http://127.0.0.1 (the address "
	    "oauthmail listens on) as a 'Mobile and desktop applications' "
	    "redirect URI of the app registration, or use 'oauthmail login "
	    "@ACCT@ --device'" },
	/* --- Google token endpoint --- */
	{ "Invalid device flow scope", ADV_INFO, ERR_USAGE,
	    "device flow not allowed",
	    "Google does not allow the device flow for Gmail scopes: use "
	    "'oauthmail login @ACCT@ --browser'" },
	{ "deleted_client", ADV_INFO, ERR_CONFIG, "OAuth client deleted",
	    "the OAuth client was deleted in Google Cloud: create a new one, "
	    "set client_id for account @ACCT@ and store its secret with "
	    "'oauthmail secret @ACCT@'" },
	{ "org_internal", ADV_INFO, ERR_CONFIG, "app limited to its "
	    "organisation", "the app's consent screen is Internal: only "
	    "users of its Workspace organisation may sign in; make it "
	    "External or use an account of that organisation" },
	{ "Token has been expired or revoked", ADV_INFO, ERR_AUTH,
	    "sign-in needed",
	    "Google refused the refresh token (revoked, password changed, "
	    "or the app is in Testing, where tokens last 7 days): run "
	    "'oauthmail login @ACCT@'" },
	/* --- configuration carried over from msmtp --- */
	{ "passwordeval", ADV_INFO, ERR_CONFIG, "passwordeval not used",
	    "remove the passwordeval line: for an OAuth account oauthmail "
	    "gets and refreshes tokens itself (run 'oauthmail login @ACCT@' "
	    "once); a password goes in the keyring with 'oauthmail password "
	    "@ACCT@'" },
};

static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* key occurs in text, not glued to a digit at either end (see .h). */
static int
key_in(const char *text, const char *key)
{
	size_t klen = strlen(key);
	const char *p = text;

	if (klen == 0)
		return 0;
	while ((p = strstr(p, key)) != NULL) {
		/* An address such as 10.5.5.2 is no status code "5.5.2". */
		int before = p > text && is_digit(key[0]) &&
		    (is_digit(p[-1]) || p[-1] == '.');
		int after = is_digit(key[klen - 1]) && (is_digit(p[klen]) ||
		    (p[klen] == '.' && is_digit(p[klen + 1])));

		if (!before && !after)
			return 1;
		p++;
	}
	return 0;
}

const struct advice *
advice_find(const char *text)
{
	size_t i;

	if (text == NULL || *text == '\0')
		return NULL;
	for (i = 0; i < nitems(catalogue); i++)
		if (key_in(text, catalogue[i].key))
			return &catalogue[i];
	return NULL;
}

const struct advice *
advice_row(size_t i)
{
	return i < nitems(catalogue) ? &catalogue[i] : NULL;
}

void
advice_fill(const struct advice *a, const char *account, const char *user,
    char *dst, size_t size)
{
	const char *t = a->fix, *p, *what;
	struct buf b;

	if (size == 0)
		return;
	if (account == NULL)
		account = "ACCOUNT";
	if (user == NULL)
		user = "MAILBOX";
	buf_init(&b, 4096, 0);
	while ((p = strchr(t, '@')) != NULL) {
		if (strncmp(p, "@ACCT@", 6) == 0)
			what = account;
		else if (strncmp(p, "@USER@", 6) == 0)
			what = user;
		else {
			if (buf_add(&b, t, (size_t)(p - t) + 1) == -1)
				break;
			t = p + 1;
			continue;
		}
		if (buf_add(&b, t, (size_t)(p - t)) == -1 ||
		    buf_adds(&b, what) == -1)
			break;
		t = p + 6;
	}
	if (p == NULL)
		(void)buf_adds(&b, t);
	util_sanitize(dst, size, buf_str(&b), b.len);
	buf_free(&b);
}

int
advice_explain(const char *text, const char *account, const char *user,
    char *dst, size_t size)
{
	const struct advice *a = advice_find(text);

	if (size > 0)
		dst[0] = '\0';
	if (a == NULL)
		return 0;
	advice_fill(a, account, user, dst, size);
	return 1;
}

void
advice_shorten(char *dst, size_t size, const char *text, size_t max)
{
	size_t n, cut;

	if (size == 0)
		return;
	if (text == NULL) {
		dst[0] = '\0';
		return;
	}
	n = strcspn(text, "\r\n");
	if (max + 4 > size)	/* util_sanitize keeps room for "..." */
		max = size > 4 ? size - 4 : 0;
	if (n <= max) {
		util_sanitize(dst, size, text, n);
		return;
	}
	/* Room for "..."; cut after the last whole word that fits. */
	cut = max > 3 ? max - 3 : 0;
	while (cut > 0 && text[cut] != ' ' && text[cut] != '\t')
		cut--;
	while (cut > 0 && (text[cut - 1] == ' ' || text[cut - 1] == '\t' ||
	    text[cut - 1] == ',' || text[cut - 1] == ';' ||
	    text[cut - 1] == ':' || text[cut - 1] == '.'))
		cut--;
	{
		char tmp[1024];

		if (cut > sizeof(tmp) - 4)
			cut = sizeof(tmp) - 4;
		memcpy(tmp, text, cut);
		memcpy(tmp + cut, "...", 4);
		util_sanitize(dst, size, tmp, cut + 3);
	}
}

int
advice_in(const struct advice *a, const char *text)
{
	const char *t = a->fix, *best = t;
	size_t bestlen = 0, n;
	char seg[512];

	if (text == NULL)
		return 0;
	/* The longest literal run of the fix, between placeholders. */
	for (;;) {
		const char *pa = strstr(t, "@ACCT@"), *pu = strstr(t, "@USER@");
		const char *end = pa;

		if (pu != NULL && (end == NULL || pu < end))
			end = pu;
		n = end != NULL ? (size_t)(end - t) : strlen(t);
		if (n > bestlen) {
			bestlen = n;
			best = t;
		}
		if (end == NULL)
			break;
		t = end + 6;
	}
	if (bestlen >= sizeof(seg))
		bestlen = sizeof(seg) - 1;
	memcpy(seg, best, bestlen);
	seg[bestlen] = '\0';
	return bestlen > 0 && strstr(text, seg) != NULL;
}

const struct advice *
advice_add_fix(struct err *e, const char *account, const char *user)
{
	const struct advice *a;
	char fix[sizeof(e->msg)], words[sizeof(e->msg)];
	size_t room;

	if (e == NULL || (a = advice_find(e->msg)) == NULL)
		return NULL;
	if (advice_in(a, e->msg))
		return a;
	advice_fill(a, account, user, fix, sizeof(fix));
	if (strlen(fix) + 40 > sizeof(e->msg))
		return a;	/* no room to say both; keep the provider's */
	room = sizeof(e->msg) - 1 - strlen(fix) - 2;
	advice_shorten(words, sizeof(words), e->msg, room);
	(void)strlcpy(e->msg, words, sizeof(e->msg));
	(void)strlcat(e->msg, "; ", sizeof(e->msg));
	(void)strlcat(e->msg, fix, sizeof(e->msg));
	return a;
}

const char *
advice_account(const struct account *acct, const char *text, char *dst,
    size_t size)
{
	if (!advice_explain(text, acct->name, acct->user != NULL ? acct->user :
	    acct->from, dst, size))
		return NULL;
	return dst;
}
