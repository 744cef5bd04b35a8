/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * conf_provider.c -- the provider presets (Microsoft 365, Outlook.com,
 * Google) and the checks of an account's OAuth and API settings, run once
 * the whole file is read; see conf_impl.h. Presets fill only keys the
 * account did not set (its setmask).
 */
#include "common.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "conf_impl.h"
#include "xmalloc.h"

int
conf_is_loopback_host(const char *h)
{
	return strcmp(h, "localhost") == 0 || strcmp(h, "::1") == 0 ||
	    strcmp(h, "[::1]") == 0 || strncmp(h, "127.", 4) == 0;
}

/* https://, or http:// to 127.0.0.1, [::1] or localhost (tests). */
static int
check_endpoint(struct parser *p, const struct account *a, enum key k,
    const char *key, const char *url)
{
	const char *h;
	size_t n;

	if (url == NULL)
		return 0;
	if (strncasecmp(url, "https://", 8) == 0 && url[8] != '\0')
		return 0;
	if (strncasecmp(url, "http://", 7) == 0) {
		h = url + 7;
		n = strcspn(h, ":/?#");
		if (h[0] == '[')
			n = strcspn(h, "]") + 1;
		if ((n == 9 && strncmp(h, "127.0.0.1", 9) == 0) ||
		    (n == 5 && strncmp(h, "[::1]", 5) == 0) ||
		    (n == 9 && strncasecmp(h, "localhost", 9) == 0))
			return 0;
	}
	p->line = a->from_line;
	conf_at_key(p, a, k);
	return conf_perr(p, "account '%s': %s must be an https:// URL; fix "
	    "the URL", a->name, key);
}

static int
valid_tenant(const char *t)
{
	if (*t == '\0' || strlen(t) > 253)
		return 0;
	for (; *t != '\0'; t++)
		if (!isalnum((unsigned char)*t) && *t != '.' && *t != '-')
			return 0;
	return 1;
}

static void
preset(struct account *a, enum key k, char **field, const char *value)
{
	if (!ISSET(a, k) && *field == NULL)
		*field = xstrdup(value);
}

static int
apply_microsoft(struct parser *p, struct account *a)
{
	int outlook = a->provider == PROVIDER_OUTLOOK;
	const char *base = "https://login.microsoftonline.com/";
	char *u;

	preset(a, K_HOST, &a->host, outlook ? "smtp-mail.outlook.com" :
	    "smtp.office365.com");
	/* Exchange Online: 30 messages a minute per mailbox. */
	if (!ISSET(a, K_MAX_RATE))
		a->max_rate = 30;
	if (!ISSET(a, K_AUTH))
		a->auth = AUTH_XOAUTH2;
	if (a->flow == FLOW_CLIENT_CREDENTIALS) {
		conf_at_key(p, a, K_FLOW);
		if (outlook)
			return conf_perr(p, "account '%s': Outlook.com "
			    "accounts cannot use flow client_credentials; use "
			    "authcode or device", a->name);
		conf_at_key(p, a, K_TENANT);
		if (a->tenant == NULL || strcmp(a->tenant, "common") == 0 ||
		    strcmp(a->tenant, "organizations") == 0 ||
		    strcmp(a->tenant, "consumers") == 0)
			return conf_perr(p, "account '%s': flow "
			    "client_credentials needs your tenant; add 'tenant "
			    "<tenant id or domain, e.g. "
			    "contoso.onmicrosoft.com>'", a->name);
	}
	preset(a, K_TENANT, &a->tenant, outlook ? "consumers" : "common");
	/* "tenant" with an empty value leaves it NULL: refuse that too. */
	conf_at_key(p, a, K_TENANT);
	if (a->tenant == NULL || !valid_tenant(a->tenant))
		return conf_perr(p, "account '%s': invalid tenant '%s'; use a "
		    "tenant id (GUID), a domain, common, organizations or "
		    "consumers", a->name, a->tenant ? a->tenant : "");
	if (!ISSET(a, K_AUTH_ENDPOINT) && a->auth_endpoint == NULL) {
		u = xasprintf("%s%s/oauth2/v2.0/authorize", base, a->tenant);
		a->auth_endpoint = u;
	}
	if (!ISSET(a, K_TOKEN_ENDPOINT) && a->token_endpoint == NULL) {
		u = xasprintf("%s%s/oauth2/v2.0/token", base, a->tenant);
		a->token_endpoint = u;
	}
	if (!ISSET(a, K_DEVICE_ENDPOINT) && a->device_endpoint == NULL) {
		u = xasprintf("%s%s/oauth2/v2.0/devicecode", base, a->tenant);
		a->device_endpoint = u;
	}
	preset(a, K_SCOPE, &a->scope, a->flow == FLOW_CLIENT_CREDENTIALS ?
	    "https://outlook.office365.com/.default" :
	    "https://outlook.office.com/SMTP.Send offline_access");
	return 0;
}

static int
apply_google(struct parser *p, struct account *a)
{
	conf_at_key(p, a, K_FLOW);
	if (a->flow == FLOW_DEVICE)
		return conf_perr(p, "account '%s': Google does not allow the "
		    "device flow for Gmail scopes; use the browser sign-in "
		    "(flow authcode)", a->name);
	if (a->flow == FLOW_CLIENT_CREDENTIALS)
		return conf_perr(p, "account '%s': Google does not offer "
		    "client credentials for Gmail; use flow authcode", a->name);
	preset(a, K_HOST, &a->host, "smtp.gmail.com");
	if (!ISSET(a, K_PORT) && !ISSET(a, K_TLS_STARTTLS)) {
		a->port = 465;		/* RFC 8314 implicit TLS */
		a->tls_starttls = 0;
		a->setmask |= BIT(K_TLS_STARTTLS);
	}
	if (!ISSET(a, K_AUTH))
		a->auth = AUTH_XOAUTH2;
	preset(a, K_AUTH_ENDPOINT, &a->auth_endpoint,
	    "https://accounts.google.com/o/oauth2/v2/auth");
	preset(a, K_TOKEN_ENDPOINT, &a->token_endpoint,
	    "https://oauth2.googleapis.com/token");
	preset(a, K_REVOKE_ENDPOINT, &a->revoke_endpoint,
	    "https://oauth2.googleapis.com/revoke");
	preset(a, K_SCOPE, &a->scope, "https://mail.google.com/");
	return 0;
}

/* client_certificate / client_assertion_file: app-only, one of them. */
static int
check_assertion(struct parser *p, struct account *a)
{
	if (a->client_certificate == NULL && a->client_assertion_file == NULL) {
		conf_at_key(p, a, K_CLIENT_ASSERTION_ALG);
		if (a->client_assertion_alg != NULL)
			return conf_perr(p, "account '%s': "
			    "client_assertion_alg is used only with "
			    "client_certificate; add it or remove this "
			    "line", a->name);
		return 0;
	}
	conf_at_key(p, a, a->client_certificate != NULL ? K_CLIENT_CERTIFICATE :
	    K_CLIENT_ASSERTION_FILE);
	if (a->client_certificate != NULL && a->client_assertion_file != NULL)
		return conf_perr(p, "account '%s': client_certificate and "
		    "client_assertion_file exclude each other; keep one",
		    a->name);
	if (a->flow != FLOW_CLIENT_CREDENTIALS)
		return conf_perr(p, "account '%s': %s signs the application in "
		    "(app-only); add 'flow client_credentials'", a->name,
		    a->client_certificate != NULL ? "client_certificate" :
		    "client_assertion_file");
	return 0;
}

static int
check_oauth(struct parser *p, struct account *a)
{
	if (a->provider == PROVIDER_NONE) {
		if (a->token_endpoint != NULL)
			a->provider = PROVIDER_CUSTOM;
		else if (a->auth == AUTH_XOAUTH2 ||
		    a->auth == AUTH_OAUTHBEARER || a->client_id != NULL)
			return conf_perr(p, "account '%s': OAuth needs a "
			    "provider; add 'provider microsoft', 'outlook', "
			    "'google' or 'custom' with "
			    "token_endpoint", a->name);
		else
			return 0;
	}
	conf_at_key(p, a, K_AUTH);
	if (a->auth == AUTH_PLAIN || a->auth == AUTH_LOGIN)
		return conf_perr(p, "account '%s': auth %s does not use OAuth; "
		    "remove 'provider' or use auth xoauth2", a->name,
		    a->auth == AUTH_PLAIN ? "plain" : "login");
	p->line = a->from_line;
	switch (a->provider) {
	case PROVIDER_MICROSOFT:
	case PROVIDER_OUTLOOK:
		if (apply_microsoft(p, a) == -1)
			return -1;
		break;
	case PROVIDER_GOOGLE:
		if (apply_google(p, a) == -1)
			return -1;
		break;
	case PROVIDER_CUSTOM:
		if (a->token_endpoint == NULL)
			return conf_perr(p, "account '%s': provider custom "
			    "needs the token endpoint; add 'token_endpoint "
			    "https://...'", a->name);
		if (a->flow == FLOW_AUTHCODE && a->auth_endpoint == NULL)
			return conf_perr(p, "account '%s': flow authcode needs "
			    "'auth_endpoint https://...'", a->name);
		if (a->flow == FLOW_DEVICE && a->device_endpoint == NULL)
			return conf_perr(p, "account '%s': flow device needs "
			    "'device_endpoint https://...'", a->name);
		break;
	default:
		break;
	}
	if (a->auth == AUTH_NONE)
		return 0;
	if (a->client_id == NULL)
		return conf_perr(p, "account '%s': OAuth needs the "
		    "application's client id; add 'client_id <id from your app "
		    "registration>'", a->name);
	if (check_endpoint(p, a, K_AUTH_ENDPOINT,
	    "auth_endpoint", a->auth_endpoint) == -1 ||
	    check_endpoint(p, a, K_TOKEN_ENDPOINT,
	    "token_endpoint", a->token_endpoint) == -1 ||
	    check_endpoint(p, a, K_DEVICE_ENDPOINT,
	    "device_endpoint", a->device_endpoint) == -1 ||
	    check_endpoint(p, a, K_REVOKE_ENDPOINT,
	    "revoke_endpoint", a->revoke_endpoint) == -1)
		return -1;
	return check_assertion(p, a);
}

/* The API transport's endpoints and scope (after the provider's presets). */
static int
check_api(struct parser *p, struct account *a)
{
	int ms = a->provider == PROVIDER_MICROSOFT ||
	    a->provider == PROVIDER_OUTLOOK;

	if (ms)
		preset(a, K_GRAPH_ENDPOINT, &a->graph_endpoint,
		    CONF_GRAPH_ENDPOINT);
	if (a->provider == PROVIDER_GOOGLE)
		preset(a, K_GMAIL_ENDPOINT, &a->gmail_endpoint,
		    CONF_GMAIL_ENDPOINT);
	if (ms)
		preset(a, K_API_SCOPE, &a->api_scope,
		    a->flow == FLOW_CLIENT_CREDENTIALS ?
		    "https://graph.microsoft.com/.default" :
		    "https://graph.microsoft.com/Mail.Send offline_access");
	else if (a->provider == PROVIDER_GOOGLE)
		preset(a, K_API_SCOPE, &a->api_scope,
		    "https://www.googleapis.com/auth/gmail.send");
	if (check_endpoint(p, a, K_GRAPH_ENDPOINT,
	    "graph_endpoint", a->graph_endpoint) == -1 ||
	    check_endpoint(p, a, K_GMAIL_ENDPOINT,
	    "gmail_endpoint", a->gmail_endpoint) == -1)
		return -1;
	if (a->transport == TRANSPORT_SMTP)
		return 0;
	conf_at_key(p, a, K_TRANSPORT);
	if (a->provider == PROVIDER_NONE || a->auth == AUTH_NONE)
		return conf_perr(p, "account '%s': transport %s needs OAuth; "
		    "set 'provider microsoft' or 'google' (or use transport "
		    "smtp)", a->name, conf_transport_name(a->transport));
	if ((a->transport == TRANSPORT_GRAPH && a->graph_endpoint == NULL) ||
	    (a->transport == TRANSPORT_GMAIL && a->gmail_endpoint == NULL) ||
	    (a->transport == TRANSPORT_AUTO &&
	    conf_api_transport(a) == TRANSPORT_SMTP))
		return conf_perr(p, "account '%s': transport %s needs the "
		    "API's address; add 'graph_endpoint https://...' or "
		    "'gmail_endpoint https://...'", a->name,
		    conf_transport_name(a->transport));
	if (a->api_scope == NULL)
		return conf_perr(p, "account '%s': transport %s needs the "
		    "API's scope; add 'api_scope SCOPES' (the scope the API's "
		    "tokens must carry)", a->name,
		    conf_transport_name(a->transport));
	return 0;
}

int
conf_apply_provider(struct parser *p, struct account *a)
{
	return check_oauth(p, a) == -1 || check_api(p, a) == -1 ? -1 : 0;
}
