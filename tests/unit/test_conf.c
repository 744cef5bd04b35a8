/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* test_conf.c -- configuration keys, presets, errors, permissions, lookup. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "status.h"

#define MS_BASE	"https://login.microsoftonline.com/"

static int
load(const char *text, struct config *cf, struct err *err)
{
	err_clear(err);
	return conf_load_buffer("t.conf", text, strlen(text), cf, err);
}

static struct account *
must_load(const char *text, struct config *cf, const char *name)
{
	struct err err;
	struct account *a;

	if (load(text, cf, &err) != 0)
		fail_msg("unexpected error: %s", err.msg);
	if ((a = conf_account(cf, name)) == NULL)
		fail_msg("no account %s", name);
	return a;
}

static void
test_microsoft_preset(void **state)
{
	struct config cf;
	struct account *a;

	(void)state;
	a = must_load("account work\nprovider microsoft\n"
	    "client_id 11111111-2222-3333-4444-555555555555\n"
	    "from me@contoso.com\n", &cf, "work");
	assert_string_equal(a->host, "smtp.office365.com");
	assert_int_equal(conf_port(a), 587);
	assert_int_equal(a->tls, 1);
	assert_int_equal(a->tls_starttls, 1);
	assert_int_equal(a->auth, AUTH_XOAUTH2);
	assert_string_equal(a->tenant, "common");
	assert_string_equal(a->auth_endpoint,
	    MS_BASE "common/oauth2/v2.0/authorize");
	assert_string_equal(a->token_endpoint,
	    MS_BASE "common/oauth2/v2.0/token");
	assert_string_equal(a->device_endpoint,
	    MS_BASE "common/oauth2/v2.0/devicecode");
	assert_null(a->revoke_endpoint);
	assert_string_equal(a->scope,
	    "https://outlook.office.com/SMTP.Send offline_access");
	assert_string_equal(a->user, "me@contoso.com");
	assert_int_equal(a->syslog, 1);
	assert_int_equal(a->refresh_margin, 300);
	assert_int_equal(a->keyring, KEYRING_AUTO);
	assert_int_equal(a->token_cache, 1);
	assert_int_equal(a->delivery, CONF_DELIV_FOREGROUND);
	assert_int_equal(a->allow_from_override, 0);
	assert_int_equal(a->from_line, 1);
	assert_true(conf_is_oauth(a));
	assert_ptr_equal(cf.accounts[0], a);
	assert_string_equal(cf.path, "t.conf");
	conf_free(&cf);
}

static void
test_microsoft_app_only(void **state)
{
	struct config cf;
	struct account *a;

	(void)state;
	a = must_load("account app\nprovider microsoft\nflow client_credentials\n"
	    "tenant contoso.onmicrosoft.com\nclient_id abc\n"
	    "from robot@contoso.com\nuser shared@contoso.com\n", &cf, "app");
	assert_int_equal(a->flow, FLOW_CLIENT_CREDENTIALS);
	assert_string_equal(a->scope, "https://outlook.office365.com/.default");
	assert_string_equal(a->token_endpoint,
	    MS_BASE "contoso.onmicrosoft.com/oauth2/v2.0/token");
	assert_string_equal(a->user, "shared@contoso.com");
	conf_free(&cf);
}

/* App-only without a secret: a certificate, or a federated token. */
static void
test_client_assertion_keys(void **state)
{
	struct config cf;
	struct account *a;

	(void)state;
	a = must_load("account app\nprovider microsoft\nflow client_credentials\n"
	    "tenant contoso.onmicrosoft.com\nclient_id abc\n"
	    "from robot@contoso.com\nclient_certificate /etc/om/app.pem\n"
	    "client_assertion_alg ps256\n"
	    "account fed : app\nclient_certificate\nclient_assertion_alg\n"
	    "client_assertion_file /run/token\n", &cf, "app");
	assert_string_equal(a->client_certificate, "/etc/om/app.pem");
	assert_string_equal(a->client_assertion_alg, "ps256");
	assert_null(a->client_assertion_file);
	a = conf_account(&cf, "fed");
	assert_non_null(a);
	assert_null(a->client_certificate);
	assert_null(a->client_assertion_alg);
	assert_string_equal(a->client_assertion_file, "/run/token");
	assert_int_equal(a->flow, FLOW_CLIENT_CREDENTIALS);
	conf_free(&cf);
}

static void
test_outlook_preset(void **state)
{
	struct config cf;
	struct account *a;

	(void)state;
	a = must_load("account home\nprovider outlook\nclient_id abc\n"
	    "from me@outlook.com\nflow device\n", &cf, "home");
	assert_string_equal(a->host, "smtp-mail.outlook.com");
	assert_int_equal(conf_port(a), 587);
	assert_string_equal(a->tenant, "consumers");
	assert_string_equal(a->device_endpoint,
	    MS_BASE "consumers/oauth2/v2.0/devicecode");
	assert_int_equal(a->provider, PROVIDER_OUTLOOK);
	assert_string_equal(conf_provider_name(a->provider), "outlook");
	conf_free(&cf);
}

static void
test_google_preset(void **state)
{
	struct config cf;
	struct account *a;

	(void)state;
	a = must_load("account g\nprovider google\nclient_id x.apps\n"
	    "from me@gmail.com\n", &cf, "g");
	assert_string_equal(a->host, "smtp.gmail.com");
	assert_int_equal(conf_port(a), 465);
	assert_int_equal(a->tls_starttls, 0);
	assert_int_equal(a->auth, AUTH_XOAUTH2);
	assert_string_equal(a->auth_endpoint,
	    "https://accounts.google.com/o/oauth2/v2/auth");
	assert_string_equal(a->token_endpoint,
	    "https://oauth2.googleapis.com/token");
	assert_string_equal(a->revoke_endpoint,
	    "https://oauth2.googleapis.com/revoke");
	assert_string_equal(a->scope, "https://mail.google.com/");
	conf_free(&cf);

	/* An explicit port 587 keeps STARTTLS. */
	a = must_load("account g\nprovider google\nclient_id x\nport 587\n"
	    "from me@gmail.com\nauth oauthbearer\n", &cf, "g");
	assert_int_equal(conf_port(a), 587);
	assert_int_equal(a->tls_starttls, 1);
	assert_int_equal(a->auth, AUTH_OAUTHBEARER);
	conf_free(&cf);
}

static void
test_custom_and_plain(void **state)
{
	struct config cf;
	struct account *a;

	(void)state;
	a = must_load("account c\nprovider custom\nhost 127.0.0.1\nport 2525\n"
	    "token_endpoint http://127.0.0.1:8443/token\n"
	    "auth_endpoint http://localhost:8443/auth\n"
	    "device_endpoint http://[::1]:8443/dev\n"
	    "client_id test\nfrom t@example.test\n"
	    "tls_trust_file /tmp/ca.pem\nflow authcode\n", &cf, "c");
	assert_int_equal(a->provider, PROVIDER_CUSTOM);
	assert_int_equal(a->auth, AUTH_AUTO);
	assert_int_equal(conf_port(a), 2525);
	assert_string_equal(a->tls_trust_file, "/tmp/ca.pem");
	assert_true(conf_is_oauth(a));
	conf_free(&cf);

	/* token_endpoint without provider implies custom. */
	a = must_load("account c\nhost mail.example.net\n"
	    "token_endpoint https://id.example.net/token\nclient_id x\n"
	    "from a@example.net\n", &cf, "c");
	assert_int_equal(a->provider, PROVIDER_CUSTOM);
	conf_free(&cf);

	/* A plain relay without OAuth; tls off is fine with auth off. */
	a = must_load("account relay\nhost relay.example.net\nport 25\n"
	    "tls off\nauth off\nfrom me@example.net\n", &cf, "relay");
	assert_int_equal(a->tls, 0);
	assert_int_equal(a->auth, AUTH_NONE);
	assert_false(conf_is_oauth(a));
	conf_free(&cf);

	/* Password auth over TLS; msmtp's "auth on". */
	a = must_load("account pw\nhost smtp.example.net\nauth on\n"
	    "tls_trust_file system\n"
	    "user login-name\nfrom me@example.net\n", &cf, "pw");
	assert_int_equal(a->auth, AUTH_AUTO);
	assert_string_equal(a->user, "login-name");
	assert_null(a->tls_trust_file);
	assert_false(conf_is_oauth(a));
	conf_free(&cf);

	/* tls off to a loopback host with OAuth (tests). */
	a = must_load("account t\nprovider custom\nhost 127.0.0.1\ntls off\n"
	    "token_endpoint http://127.0.0.1:1/t\nclient_id x\n"
	    "from a@b.test\n", &cf, "t");
	assert_int_equal(a->tls, 0);
	conf_free(&cf);
}

static void
test_explicit_beats_preset(void **state)
{
	struct config cf;
	struct account *a;

	(void)state;
	a = must_load("account w\nprovider microsoft\nhost smtp.office365.us\n"
	    "token_endpoint https://login.microsoftonline.us/t/oauth2/v2.0/token\n"
	    "scope \"https://outlook.office365.us/SMTP.Send offline_access\"\n"
	    "tenant 0d1e2f3a-0000-1111-2222-333344445555\n"
	    "client_id x\nfrom a@gov.example\nauth auto\n", &cf, "w");
	assert_string_equal(a->host, "smtp.office365.us");
	assert_string_equal(a->token_endpoint,
	    "https://login.microsoftonline.us/t/oauth2/v2.0/token");
	assert_string_equal(a->auth_endpoint, MS_BASE
	    "0d1e2f3a-0000-1111-2222-333344445555/oauth2/v2.0/authorize");
	assert_string_equal(a->scope,
	    "https://outlook.office365.us/SMTP.Send offline_access");
	assert_int_equal(a->auth, AUTH_AUTO);
	conf_free(&cf);
}

static const char inherit_text[] =
    "# comment\n"
    "\n"
    "defaults\n"
    "  syslog off\n"
    "  refresh_margin 10m\n"
    "  aliases /etc/aliases\n"
    "  keyring kernel\n"
    "  delivery queue\n"
    "account work\r\n"
    "  provider microsoft\n"
    "  client_id abc\n"
    "  from me@contoso.com\n"
    "  send_as sales@contoso.com, *@lists.contoso.com\n"
    "  timeout 30\n"
    "account other : work\n"
    "  from other@contoso.com\n"
    "  send_as extra@contoso.com\n"
    "  delivery background\n"
    "account gmail\n"
    "  provider google\n"
    "  client_id g\n"
    "  from me@gmail.com\n"
    "  logfile \"/var/log/oauth mail.log\"\n"
    "  domain \"host\\\"x\"\n"
    "  token_cache off\n"
    "account default : work\n";

static void
test_inheritance(void **state)
{
	struct config cf;
	struct account *w, *o, *g;
	struct err err;

	(void)state;
	w = must_load(inherit_text, &cf, "work");
	o = conf_account(&cf, "other");
	g = conf_account(&cf, "gmail");
	assert_non_null(o);
	assert_non_null(g);
	assert_int_equal(cf.naccounts, 3);
	/* "account default : work" names work; no copy is made. */
	assert_ptr_equal(cf.def, w);
	assert_ptr_equal(conf_account(&cf, "default"), w);
	assert_int_equal(w->syslog, 0);
	assert_int_equal(w->refresh_margin, 600);
	assert_string_equal(w->aliases, "/etc/aliases");
	assert_int_equal(w->keyring, KEYRING_KERNEL);
	assert_int_equal(w->token_cache, 1);
	assert_int_equal(w->delivery, CONF_DELIV_QUEUE);
	assert_int_equal(w->timeout, 30);
	assert_int_equal(w->nsend_as, 2);
	assert_int_equal(w->from_line, 9);
	/* other inherits work and adds its own. */
	assert_int_equal(o->provider, PROVIDER_MICROSOFT);
	assert_string_equal(o->client_id, "abc");
	assert_string_equal(o->from, "other@contoso.com");
	assert_string_equal(o->user, "other@contoso.com");
	assert_int_equal(o->timeout, 30);
	assert_int_equal(o->delivery, CONF_DELIV_BACKGROUND);
	assert_int_equal(o->nsend_as, 3);
	assert_string_equal(o->send_as[2], "extra@contoso.com");
	/* gmail gets the defaults but nothing of work. */
	assert_int_equal(g->syslog, 0);
	assert_int_equal(g->timeout, 0);
	assert_int_equal(g->nsend_as, 0);
	assert_string_equal(g->logfile, "/var/log/oauth mail.log");
	assert_int_equal(g->token_cache, 0);
	assert_string_equal(g->domain, "host\"x");

	/* Selection. */
	assert_ptr_equal(conf_select(&cf, "gmail", NULL, &err), g);
	assert_ptr_equal(conf_select(&cf, NULL, "ME@GMAIL.COM", &err), g);
	assert_ptr_equal(conf_select(&cf, NULL, "other@contoso.com", &err), o);
	assert_ptr_equal(conf_select(&cf, NULL, "sales@contoso.com", &err), w);
	assert_ptr_equal(conf_select(&cf, NULL, "x@lists.contoso.com", &err),
	    w);
	assert_ptr_equal(conf_select(&cf, NULL, "nobody@else.org", &err), w);
	assert_ptr_equal(conf_select(&cf, NULL, NULL, &err), w);
	assert_ptr_equal(conf_select(&cf, "default", NULL, &err), w);
	assert_null(conf_select(&cf, "nope", NULL, &err));
	assert_int_equal(err.class, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "nope"));

	/* Sender policy. */
	assert_true(conf_sender_allowed(w, "me@contoso.com"));
	assert_true(conf_sender_allowed(w, "Sales@Contoso.com"));
	assert_true(conf_sender_allowed(w, "any@LISTS.contoso.com"));
	assert_true(conf_sender_allowed(w, ""));
	assert_false(conf_sender_allowed(w, "any@contoso.com"));
	assert_false(conf_sender_allowed(w, "@lists.contoso.com"));
	assert_false(conf_sender_allowed(w, "x@sub.lists.contoso.com"));
	assert_false(conf_sender_allowed(g, "me@contoso.com"));
	conf_free(&cf);
}

static void
test_default_account_forms(void **state)
{
	struct config cf;
	struct account *a, *d;
	struct err err;

	(void)state;
	/* A default with keys of its own is an account of its own. */
	a = must_load("account a\nhost h.example\nauth off\nfrom a@x.example\n"
	    "account default : a\nfrom d@x.example\n", &cf, "a");
	d = conf_account(&cf, "default");
	assert_non_null(d);
	assert_ptr_not_equal(d, a);
	assert_ptr_equal(cf.def, d);
	assert_string_equal(d->host, "h.example");
	assert_string_equal(d->from, "d@x.example");
	assert_int_equal(cf.naccounts, 2);
	conf_free(&cf);

	/* One account: it is chosen. Two and no default: an error. */
	a = must_load("account a\nhost h\nauth off\nfrom a@x.example\n", &cf,
	    "a");
	assert_ptr_equal(conf_select(&cf, NULL, "z@z", &err), a);
	conf_free(&cf);
	a = must_load("account a\nhost h\nauth off\nfrom a@x.example\n"
	    "account b\nhost h\nauth off\nfrom b@x.example\n", &cf, "a");
	assert_null(conf_select(&cf, NULL, "z@z", &err));
	assert_non_null(strstr(err.msg, "account default : NAME"));
	assert_ptr_equal(conf_select(&cf, NULL, "B@x.example", &err),
	    conf_account(&cf, "b"));
	conf_free(&cf);

	/* Top-level keys act as defaults; mode system. */
	a = must_load("mode system\nhost relay.example\nauth off\n"
	    "account a\nfrom a@x.example\n", &cf, "a");
	assert_int_equal(cf.system_mode, 1);
	assert_string_equal(a->host, "relay.example");
	assert_string_equal(conf_spool_dir(&cf), CONF_SPOOL_DIR);
	assert_string_equal(a->queue_dir, CONF_SPOOL_DIR "/queue");
	conf_free(&cf);

	/* spool_dir moves the system spool root and the queue under it. */
	a = must_load("spool_dir /srv/om\nmode system\nhost relay.example\n"
	    "auth off\naccount a\nfrom a@x.example\n", &cf, "a");
	assert_string_equal(conf_spool_dir(&cf), "/srv/om");
	assert_string_equal(a->queue_dir, "/srv/om/queue");
	conf_free(&cf);

	/* allow_from_override accepts any sender. */
	a = must_load("account a\nhost h\nauth off\nfrom a@x.example\n"
	    "allow_from_override on\n", &cf, "a");
	assert_true(conf_sender_allowed(a, "who@ever.example"));
	conf_free(&cf);
}

struct badconf {
	const char	*text;
	const char	*msg[3];	/* substrings of the message */
};

#define MSOK	"account w\nprovider microsoft\nclient_id x\nfrom a@b.example\n"

static const struct badconf badconfs[] = {
	{ MSOK "colour blue\n", { "t.conf:5:", "unknown key 'colour'" } },
	{ MSOK "transport pigeon\n", { "t.conf:5:", "unknown transport "
	  "'pigeon'", "smtp, graph, gmail-api or auto" } },
	{ MSOK "transport graph\ngraph_endpoint http://graph.example/v1.0\n",
	  { "t.conf:6:", "graph_endpoint must be an https:// URL" } },
	{ "account w\nhost h\nfrom a@b.example\ntransport graph\n",
	  { "t.conf:4:", "transport graph needs OAuth" } },
	{ "account w\nprovider custom\ntoken_endpoint https://t.example/t\n"
	  "client_id x\nfrom a@b.example\nhost h\ntransport gmail-api\n",
	  { "t.conf:7:", "gmail_endpoint" } },
	{ "account w\nprovider custom\ntoken_endpoint https://t.example/t\n"
	  "client_id x\nfrom a@b.example\nhost h\ntransport graph\n"
	  "graph_endpoint https://g.example/v1.0\n",
	  { "t.conf:7:", "add 'api_scope SCOPES'" } },
	{ MSOK "password hunter2\n",
	  { "t.conf:5:", "never stored", "'oauthmail password ACCOUNT'" } },
	{ MSOK "passwordeval \"pass x\"\n",
	  { "t.conf:5:", "oauthmail gets and refreshes tokens itself",
	  "'oauthmail login w' once" } },
	{ "account w\nclient_secret s3cr3t\n",
	  { "t.conf:2:", "'oauthmail secret ACCOUNT'" } },
	{ MSOK "tls_certcheck off\n",
	  { "t.conf:5:", "cannot be turned off", "tls_trust_file" } },
	{ MSOK "port 0\n", { "t.conf:5:", "port" } },
	{ MSOK "port 70000\n", { "t.conf:5:", "port" } },
	{ MSOK "port smtp\n", { "t.conf:5:", "port" } },
	{ MSOK "tls maybe\n", { "t.conf:5:", "on or off" } },
	{ MSOK "tls_starttls yes\n", { "t.conf:5:", "on or off" } },
	{ MSOK "auth cram-md5\n", { "t.conf:5:", "cram-md5" } },
	{ MSOK "provider yahoo\n", { "t.conf:5:", "yahoo" } },
	{ MSOK "flow implicit\n", { "t.conf:5:", "implicit" } },
	{ MSOK "keyring file\n", { "t.conf:5:", "keyring" } },
	{ MSOK "syslog LOG_USER\n", { "t.conf:5:", "LOG_MAIL" } },
	{ MSOK "delivery now\n", { "t.conf:5:", "foreground" } },
	{ MSOK "timeout soon\n", { "t.conf:5:", "timeout" } },
	{ MSOK "refresh_margin 2d\n", { "t.conf:5:", "refresh_margin" } },
	{ MSOK "token_cache maybe\n", { "t.conf:5:", "token_cache" } },
	{ MSOK "send_as sales\n", { "t.conf:5:", "send_as" } },
	{ MSOK "mode system\n", { "t.conf:5:", "global" } },
	{ MSOK "spool_dir /srv/om\n", { "t.conf:5:", "global" } },
	{ "spool_dir spool\n", { "t.conf:1:", "absolute" } },
	{ "mode cluster\n", { "t.conf:1:", "mode" } },
	{ "defaults now\n", { "t.conf:1:", "defaults" } },
	{ "\n\naccount w\nprovider microsoft\nclient_id x\n",
	  { "t.conf:3:", "'w'", "from you@example.com" } },
	{ "account w\nfrom a@b.example\n", { "t.conf:1:", "host" } },
	{ "account w\nhost h\nfrom nobody\n", { "t.conf:3:", "not an address" } },
	{ "account w\nprovider microsoft\nfrom a@b.example\n",
	  { "t.conf:1:", "client_id" } },
	{ "account w\nprovider google\nflow device\nclient_id x\n"
	  "from a@gmail.com\n",
	  { "t.conf:3:", "Google does not allow the device flow",
	    "flow authcode" } },
	{ "account w\nprovider google\nflow client_credentials\nclient_id x\n"
	  "from a@gmail.com\n", { "t.conf:3:", "client credentials" } },
	{ MSOK "flow client_credentials\n", { "t.conf:1:", "tenant" } },
	{ MSOK "flow client_credentials\ntenant organizations\n",
	  { "t.conf:6:", "tenant" } },
	{ "account w\nprovider outlook\nflow client_credentials\n"
	  "tenant x.example\nclient_id x\nfrom a@outlook.com\n",
	  { "t.conf:3:", "Outlook.com" } },
	{ MSOK "tenant \"a/b\"\n", { "t.conf:5:", "invalid tenant" } },
	{ "account w\nprovider custom\nhost h\nclient_id x\nfrom a@b.example\n",
	  { "t.conf:1:", "token_endpoint" } },
	{ "account w\nprovider custom\nhost h\nclient_id x\nfrom a@b.example\n"
	  "token_endpoint http://id.example/token\n",
	  { "t.conf:6:", "token_endpoint must be an https:// URL" } },
	{ "account w\nprovider custom\nhost h\nclient_id x\nfrom a@b.example\n"
	  "token_endpoint https://id.example/token\n"
	  "auth_endpoint http://127.0.0.1.evil.example/\n",
	  { "t.conf:7:", "auth_endpoint" } },
	{ "account w\nprovider custom\nhost h\nclient_id x\nfrom a@b.example\n"
	  "token_endpoint https://id.example/token\nflow device\n",
	  { "t.conf:1:", "device_endpoint" } },
	{ "account w\nclient_id x\nhost h\nfrom a@b.example\n",
	  { "t.conf:1:", "provider" } },
	{ "account w\nauth xoauth2\nhost h\nfrom a@b.example\n",
	  { "t.conf:1:", "provider" } },
	{ MSOK "auth plain\n", { "t.conf:5:", "auth plain" } },
	{ MSOK "tls off\n", { "t.conf:5:", "clear text" } },
	{ "account w\nhost smtp.example.net\ntls off\nfrom a@b.example\n",
	  { "t.conf:3:", "clear text" } },
	{ MSOK "account w\n", { "t.conf:5:", "defined twice" } },
	{ MSOK "account v : nope\n", { "t.conf:5:", "'nope'", "define it" } },
	{ MSOK "account v :\n", { "t.conf:5:", "inherit" } },
	{ "account a b\n", { "t.conf:1:", "invalid account name" } },
	{ MSOK "domain \"unterminated\n", { "t.conf:5:", "closing" } },
	{ MSOK "domain \"a\" b\n", { "t.conf:5:", "after the closing quote" } },
	{ MSOK "client_certificate /a.pem\n",
	  { "t.conf:5:", "add 'flow client_credentials'" } },
	{ MSOK "client_assertion_file rel/token\n",
	  { "t.conf:5:", "not an absolute path" } },
	{ MSOK "flow client_credentials\ntenant x.example\n"
	  "client_certificate /a.pem\nclient_assertion_file /t\n",
	  { "t.conf:7:", "exclude each other" } },
	{ MSOK "client_assertion_alg HS256\n",
	  { "t.conf:5:", "RS256, PS256 or ES256" } },
	{ MSOK "client_assertion_alg RS256\n",
	  { "t.conf:5:", "only with client_certificate" } },
	{ "# nothing\n", { "t.conf", "no account" } },
	{ "", { "t.conf", "no account" } },
};

static void
test_errors(void **state)
{
	struct config cf;
	struct err err;
	size_t i, j;

	(void)state;
	for (i = 0; i < nitems(badconfs); i++) {
		if (load(badconfs[i].text, &cf, &err) != -1)
			fail_msg("bad config %zu accepted", i);
		if (err.class != ERR_CONFIG)
			fail_msg("bad config %zu: class %d", i, err.class);
		for (j = 0; j < nitems(badconfs[i].msg) &&
		    badconfs[i].msg[j] != NULL; j++)
			if (strstr(err.msg, badconfs[i].msg[j]) == NULL)
				fail_msg("bad config %zu: '%s' lacks '%s'", i,
				    err.msg, badconfs[i].msg[j]);
		/* A failed load leaves nothing to free. */
		assert_null(cf.accounts);
		assert_int_equal(cf.naccounts, 0);
	}
}

/* transport and the API keys: presets per provider, inheritance. */
static void
test_transport(void **state)
{
	struct config cf;
	struct account *a;

	(void)state;
	a = must_load(MSOK "transport graph\n", &cf, "w");
	assert_int_equal(a->transport, TRANSPORT_GRAPH);
	assert_string_equal(a->graph_endpoint, CONF_GRAPH_ENDPOINT);
	assert_null(a->gmail_endpoint);
	assert_string_equal(a->api_scope,
	    "https://graph.microsoft.com/Mail.Send offline_access");
	assert_int_equal(conf_max_message_size(a), CONF_GRAPH_MAX_MESSAGE);
	assert_non_null(conf_size_cure(a));
	conf_free(&cf);
	a = must_load("account w\nprovider microsoft\nclient_id x\n"
	    "from a@b.example\nflow client_credentials\ntenant t.example\n"
	    "account v : w\ntransport auto\n", &cf, "v");
	assert_int_equal(a->transport, TRANSPORT_AUTO);
	assert_int_equal(conf_api_transport(a), TRANSPORT_GRAPH);
	assert_string_equal(a->api_scope,
	    "https://graph.microsoft.com/.default");
	assert_int_equal(conf_max_message_size(a), CONF_MAX_MESSAGE_SIZE);
	assert_null(conf_size_cure(a));
	a = conf_account(&cf, "w");
	assert_int_equal(a->transport, TRANSPORT_SMTP);
	conf_free(&cf);
	a = must_load("account g\nprovider google\nclient_id x\n"
	    "from a@gmail.example\ntransport gmail-api\n"
	    "gmail_endpoint http://127.0.0.1:8/\nmax_message_size 1M\n",
	    &cf, "g");
	assert_int_equal(a->transport, TRANSPORT_GMAIL);
	assert_string_equal(a->gmail_endpoint, "http://127.0.0.1:8/");
	assert_string_equal(a->api_scope,
	    "https://www.googleapis.com/auth/gmail.send");
	assert_int_equal(conf_max_message_size(a), 1024 * 1024);
	assert_null(conf_size_cure(a));
	assert_string_equal(conf_transport_name(a->transport), "gmail-api");
	conf_free(&cf);
}

/* The README's Microsoft example as pasted: comments after values. */
static void
test_comments_after_values(void **state)
{
	struct config cf;
	struct account *a;

	(void)state;
	a = must_load("account work\n"
	    "provider microsoft\n"
	    "tenant example.com            # or the tenant GUID\n"
	    "client_id 00000000-0000\t# from the app registration\n"
	    "from you@example.com#not-a-comment\n"
	    "user \"a # b\"   # quoted: the '#' inside stays\n", &cf, "work");
	assert_string_equal(a->tenant, "example.com");
	assert_string_equal(a->client_id, "00000000-0000");
	assert_string_equal(a->from, "you@example.com#not-a-comment");
	assert_string_equal(a->user, "a # b");
	conf_free(&cf);
}

/* An error names its own line, and every error of the file is reported. */
static void
test_error_lines(void **state)
{
	struct config cf;
	struct err err;

	(void)state;
	assert_int_equal(load("account work\nprovider microsoft\n"
	    "client_id c\nfrom a@b.example\ntenant bad/tenant\n", &cf,
	    &err), -1);
	assert_non_null(strstr(err.msg, "t.conf:5: "));
	assert_non_null(strstr(err.msg, "invalid tenant"));
	assert_int_equal(load("account a\nhost h\nfrom a@b.example\n"
	    "token_endpoint http://example.com/t\nprovider custom\n"
	    "client_id c\n", &cf, &err), -1);
	assert_non_null(strstr(err.msg, "t.conf:4: "));
	/* Two bad lines: the parser reaches the second (the last error). */
	assert_int_equal(load("account a\nhots h\nhost h\nfrom a@b.example\n"
	    "colour blue\n", &cf, &err), -1);
	assert_non_null(strstr(err.msg, "t.conf:5: unknown key 'colour'"));
	assert_null(cf.accounts);
	/*
	 * A refused "account" line right after a bare "account default :
	 * X" (which ends by freeing that section): the keys below it are
	 * checked but land nowhere (once written into the freed section).
	 */
	assert_int_equal(load("account work\nhost h\nfrom a@b.example\n"
	    "account default : work\naccount bad name!\nhost other\n"
	    "port 25\naccount inherits : nothere\nhost third\n", &cf,
	    &err), -1);
	assert_non_null(strstr(err.msg, "t.conf:8: account 'inherits' "
	    "inherits from 'nothere'"));
	assert_null(cf.accounts);
}

static void
test_limits(void **state)
{
	struct config cf;
	struct err err;
	char *big;
	static const char nul[] = "account a\nhost h\0x\n";

	(void)state;
	assert_int_equal(conf_load_buffer("t.conf", nul, sizeof(nul) - 1, &cf,
	    &err), -1);
	assert_non_null(strstr(err.msg, "NUL"));
	big = malloc(LIM_CONF_LINE + 32);
	assert_non_null(big);
	memcpy(big, "account a\nhost ", 15);
	memset(big + 15, 'h', LIM_CONF_LINE);
	big[15 + LIM_CONF_LINE] = '\0';
	assert_int_equal(load(big, &cf, &err), -1);
	assert_non_null(strstr(err.msg, "t.conf:2: line too long"));
	free(big);
}

static char tmpdir[] = "/tmp/test_conf.XXXXXX";

static char *
write_file(const char *name, const char *text, mode_t mode)
{
	char *path;
	int fd;

	path = malloc(strlen(tmpdir) + strlen(name) + 2);
	assert_non_null(path);
	memcpy(path, tmpdir, strlen(tmpdir));
	path[strlen(tmpdir)] = '/';
	memcpy(path + strlen(tmpdir) + 1, name, strlen(name) + 1);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
	return path;
}

#define GOOD	"account a\nhost h.example\nauth off\nfrom a@x.example\n"

static void
test_permissions(void **state)
{
	struct config cf;
	struct err err;
	struct stat st;
	char *path;

	(void)state;
	path = write_file("perm.conf", GOOD, 0600);
	assert_int_equal(conf_load(path, &cf, &err), 0);
	assert_string_equal(cf.path, path);
	conf_free(&cf);

	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(conf_load(path, &cf, &err), 0);
	conf_free(&cf);

	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(conf_load(path, &cf, &err), -1);
	assert_int_equal(err.class, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "chmod 600"));
	assert_non_null(strstr(err.msg, path));

	/* Group-writable: refused unless the group is root. */
	assert_int_equal(chmod(path, 0620), 0);
	if (getuid() == 0 && chown(path, (uid_t)-1, 1) == -1)
		fail_msg("chown %s: %s", path, strerror(errno));
	assert_int_equal(stat(path, &st), 0);
	if (st.st_gid != 0) {
		assert_int_equal(conf_load(path, &cf, &err), -1);
		assert_non_null(strstr(err.msg, "chmod 600"));
	}
	if (getuid() == 0) {
		assert_int_equal(chown(path, (uid_t)-1, 0), 0);
		assert_int_equal(conf_load(path, &cf, &err), 0);
		conf_free(&cf);
		/* Owned by another user. */
		assert_int_equal(chmod(path, 0600), 0);
		assert_int_equal(chown(path, 1, 0), 0);
		assert_int_equal(conf_load(path, &cf, &err), -1);
		assert_non_null(strstr(err.msg, "owned by uid 1"));
	}
	assert_int_equal(unlink(path), 0);
	free(path);

	/* An explicit path that does not exist. */
	assert_int_equal(conf_load("/nonexistent/oauthmail.conf", &cf, &err),
	    -1);
	assert_int_equal(err.class, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "/nonexistent/oauthmail.conf"));
}

static void
test_lookup_order(void **state)
{
	struct config cf;
	struct err err;
	char *envfile, *xdgfile, dir[256], *sys;
	struct stat st;

	(void)state;
	envfile = write_file("env.conf", "account fromenv\nhost h\nauth off\n"
	    "from a@x.example\n", 0600);
	assert_true(snprintf(dir, sizeof(dir), "%s/oauthmail", tmpdir) > 0);
	assert_int_equal(mkdir(dir, 0700), 0);
	xdgfile = write_file("oauthmail/config", "account fromxdg\nhost h\n"
	    "auth off\nfrom a@x.example\n", 0600);

	/* -C wins over everything. */
	assert_int_equal(setenv("OAUTHMAIL_CONFIG", envfile, 1), 0);
	assert_int_equal(setenv("XDG_CONFIG_HOME", tmpdir, 1), 0);
	assert_int_equal(conf_load(xdgfile, &cf, &err), 0);
	assert_non_null(conf_account(&cf, "fromxdg"));
	conf_free(&cf);
	/* Then $OAUTHMAIL_CONFIG. */
	assert_int_equal(conf_load(NULL, &cf, &err), 0);
	assert_non_null(conf_account(&cf, "fromenv"));
	conf_free(&cf);
	/* $OAUTHMAIL_CONFIG naming a missing file is an error. */
	assert_int_equal(setenv("OAUTHMAIL_CONFIG", "/nonexistent/x", 1), 0);
	assert_int_equal(conf_load(NULL, &cf, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/x"));
	/* Then $XDG_CONFIG_HOME/oauthmail/config. */
	assert_int_equal(unsetenv("OAUTHMAIL_CONFIG"), 0);
	assert_int_equal(conf_load(NULL, &cf, &err), 0);
	assert_non_null(conf_account(&cf, "fromxdg"));
	assert_string_equal(cf.path, xdgfile);
	conf_free(&cf);
	/* A bad XDG file is reported, not skipped. */
	assert_int_equal(chmod(xdgfile, 0666), 0);
	assert_int_equal(conf_load(NULL, &cf, &err), -1);
	assert_non_null(strstr(err.msg, "chmod 600"));
	/* Nothing found. */
	assert_int_equal(unlink(xdgfile), 0);
	sys = SYSCONFDIR "/oauthmail.conf";
	if (stat(sys, &st) == -1 && errno == ENOENT) {
		assert_int_equal(conf_load(NULL, &cf, &err), -1);
		assert_int_equal(err.class, ERR_CONFIG);
		assert_string_equal(err.msg, "no configuration found; create "
		    "~/.config/oauthmail/config (see oauthmail.conf(5))");
	}
	assert_int_equal(rmdir(dir), 0);
	assert_int_equal(unlink(envfile), 0);
	free(envfile);
	free(xdgfile);
	(void)unsetenv("XDG_CONFIG_HOME");
}

/* doc/oauthmail.conf.example must parse. */
static void
test_example_file(void **state)
{
	const char *top = getenv("top_srcdir");
	char path[1024], *text;
	struct config cf;
	struct err err;
	FILE *f;
	size_t n;

	(void)state;
	if (top == NULL)
		top = getenv("TOP_SRCDIR");
	if (top != NULL)
		(void)snprintf(path, sizeof(path), "%s/doc/oauthmail.conf.example",
		    top);
	else {
		/* __FILE__ is .../tests/unit/test_conf.c */
		(void)snprintf(path, sizeof(path), "%s", __FILE__);
		if (strstr(path, "tests/unit/test_conf.c") == NULL)
			skip();
		*strstr(path, "tests/unit/test_conf.c") = '\0';
		(void)strlcat(path, "doc/oauthmail.conf.example", sizeof(path));
	}
	if ((f = fopen(path, "r")) == NULL)
		skip();
	text = malloc(256 * 1024);
	assert_non_null(text);
	n = fread(text, 1, 256 * 1024 - 1, f);
	(void)fclose(f);
	text[n] = '\0';
	if (conf_load_buffer(path, text, n, &cf, &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(cf.naccounts >= 4);
	assert_non_null(cf.def);
	conf_free(&cf);
	free(text);
}

static int
setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown(void **state)
{
	(void)state;
	return rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_microsoft_preset),
		cmocka_unit_test(test_microsoft_app_only),
		cmocka_unit_test(test_client_assertion_keys),
		cmocka_unit_test(test_outlook_preset),
		cmocka_unit_test(test_google_preset),
		cmocka_unit_test(test_custom_and_plain),
		cmocka_unit_test(test_explicit_beats_preset),
		cmocka_unit_test(test_inheritance),
		cmocka_unit_test(test_default_account_forms),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_comments_after_values),
		cmocka_unit_test(test_error_lines),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_permissions),
		cmocka_unit_test(test_lookup_order),
		cmocka_unit_test(test_example_file),
	};

	(void)unsetenv("OAUTHMAIL_CONFIG");
	return cmocka_run_group_tests_name("conf", tests, setup, teardown);
}
