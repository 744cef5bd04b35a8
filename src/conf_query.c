/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * conf_query.c -- questions asked of a loaded configuration: names of the
 * enumerations, the spool, the account for a name or a sender, who may
 * send as whom, ports and size limits; see conf.h.
 */
#include "common.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "conf_impl.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

static const char *const provider_names[] = {
	[PROVIDER_NONE] = "none",
	[PROVIDER_MICROSOFT] = "microsoft",
	[PROVIDER_GOOGLE] = "google",
	[PROVIDER_CUSTOM] = "custom",
	[PROVIDER_OUTLOOK] = "outlook",
};

static const char *const flow_names[] = {
	[FLOW_DEFAULT] = "default",
	[FLOW_AUTHCODE] = "authcode",
	[FLOW_DEVICE] = "device",
	[FLOW_CLIENT_CREDENTIALS] = "client_credentials",
};

const char *
conf_provider_name(enum conf_provider p)
{
	if ((size_t)p < nitems(provider_names) && provider_names[p] != NULL)
		return provider_names[p];
	return "?";
}

const char *
conf_transport_name(enum conf_transport t)
{
	switch (t) {
	case TRANSPORT_SMTP:	return "smtp";
	case TRANSPORT_GRAPH:	return "graph";
	case TRANSPORT_GMAIL:	return "gmail-api";
	case TRANSPORT_AUTO:	return "auto";
	}
	return "smtp";
}

enum conf_transport
conf_api_transport(const struct account *a)
{
	if (a->transport == TRANSPORT_GRAPH || a->transport == TRANSPORT_GMAIL)
		return a->transport;
	if (a->provider == PROVIDER_GOOGLE || (a->graph_endpoint == NULL &&
	    a->gmail_endpoint != NULL))
		return TRANSPORT_GMAIL;
	if (a->graph_endpoint != NULL)
		return TRANSPORT_GRAPH;
	return TRANSPORT_SMTP;
}

const char *
conf_flow_name(enum conf_flow f)
{
	if ((size_t)f < nitems(flow_names))
		return flow_names[f];
	return "?";
}

const char *
conf_spool_dir(const struct config *cf)
{
	return cf->spool_dir != NULL ? cf->spool_dir : CONF_SPOOL_DIR;
}

/*
 * A file only root can have written: the file and every directory above it
 * are owned by root and writable by nobody else, except a sticky directory
 * (/tmp), where others cannot rename or remove a root-owned entry. Checked
 * with lstat on each component of the resolved path; nothing on the path
 * can then change under us unless root changes it.
 */
int
conf_root_only_path(const char *path, struct err *err)
{
	char *real, *s;
	struct stat st;
	int r = -1;

	if ((real = realpath(path, NULL)) == NULL)
		return err_set(err, ERR_CONFIG, "%s: %s", path,
		    strerror(errno));
	for (s = real;;) {
		char save = '/';
		char *slash = strchr(s + 1, '/');

		if (slash != NULL) {
			save = *slash;
			*slash = '\0';
		}
		if (lstat(*real == '\0' ? "/" : real, &st) == -1) {
			(void)err_set(err, ERR_CONFIG, "%s: %s", real,
			    strerror(errno));
			goto out;
		}
		if (st.st_uid != 0 || ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
		    !(S_ISDIR(st.st_mode) && (st.st_mode & S_ISVTX) &&
		    slash != NULL))) {
			(void)err_set(err, ERR_CONFIG, "%s: a set-group-id "
			    "run reads only a configuration that root alone "
			    "can change, and %s is owned by uid %lu or "
			    "writable by others", path, *real ? real : "/",
			    (unsigned long)st.st_uid);
			if (slash != NULL)
				*slash = save;
			goto out;
		}
		if (slash == NULL)
			break;
		*slash = save;
		s = slash;
	}
	if (!S_ISREG(st.st_mode)) {
		(void)err_set(err, ERR_CONFIG, "%s: not a regular file", path);
		goto out;
	}
	r = 0;
out:
	free(real);
	return r;
}

struct account *
conf_account(const struct config *cf, const char *name)
{
	size_t i;

	if (name == NULL)	/* e.g. "oauthmail status" without ACCOUNT */
		return cf->def;
	for (i = 0; i < cf->naccounts; i++)
		if (strcmp(cf->accounts[i]->name, name) == 0)
			return cf->accounts[i];
	if (strcmp(name, "default") == 0)
		return cf->def;
	return NULL;
}

struct account *
conf_select(const struct config *cf, const char *name, const char *sender,
    struct err *err)
{
	struct account *a;
	size_t i;

	if (name != NULL) {
		if ((a = conf_account(cf, name)) == NULL)
			(void)err_set(err, ERR_CONFIG, "no account '%s' in %s; "
			    "use one of the accounts defined there", name,
			    cf->path ? cf->path : "the configuration");
		return a;
	}
	if (sender != NULL && *sender != '\0') {
		for (i = 0; i < cf->naccounts; i++)
			if (strcasecmp(cf->accounts[i]->from, sender) == 0)
				return cf->accounts[i];
		for (i = 0; i < cf->naccounts; i++) {
			a = cf->accounts[i];
			if (!a->allow_from_override &&
			    conf_sender_allowed(a, sender))
				return a;
		}
	}
	if (cf->def != NULL)
		return cf->def;
	if (cf->naccounts == 1)
		return cf->accounts[0];
	(void)err_set(err, ERR_CONFIG, "%s: several accounts and no default; "
	    "add 'account default : NAME' or use -a ACCOUNT",
	    cf->path ? cf->path : "configuration");
	return NULL;
}

int
conf_port(const struct account *a)
{
	if (a->port != 0)
		return a->port;
	return a->tls && !a->tls_starttls ? 465 : 587;
}

int
conf_is_oauth(const struct account *a)
{
	if (a->provider == PROVIDER_NONE)
		return 0;
	return a->auth == AUTH_AUTO || a->auth == AUTH_XOAUTH2 ||
	    a->auth == AUTH_OAUTHBEARER;
}

int
conf_sender_allowed(const struct account *a, const char *sender)
{
	const char *at, *pat;
	size_t i;

	if (sender == NULL || *sender == '\0' || a->allow_from_override)
		return 1;
	if (a->from != NULL && strcasecmp(a->from, sender) == 0)
		return 1;
	at = strrchr(sender, '@');
	for (i = 0; i < a->nsend_as; i++) {
		pat = a->send_as[i];
		if (strcasecmp(pat, sender) == 0)
			return 1;
		if (pat[0] == '*' && pat[1] == '@' && at != NULL &&
		    at != sender && strcasecmp(pat + 2, at + 1) == 0)
			return 1;
	}
	return 0;
}

const char *
conf_pick_sender(const struct account *a, const char *sender)
{
	if (sender == NULL)
		return a->from;
	/* the null sender (-f '<>': bounces, auto-replies) goes out as is */
	if (a->allow_from_override || sender[0] == '\0')
		return sender;
	if (conf_sender_allowed(a, sender))
		return sender;
	log_info("envelope sender <%s> is not an address account '%s' may "
	    "send as; using <%s> (set allow_from_override or send_as to "
	    "change this)", sender, a->name, a->from);
	return a->from;
}

/* The API's own limit when the account sends only over one (0: none). */
static long long
api_limit(const struct account *a)
{
	if (a->transport == TRANSPORT_GRAPH)
		return CONF_GRAPH_MAX_MESSAGE;
	if (a->transport == TRANSPORT_GMAIL)
		return CONF_GMAIL_MAX_MESSAGE;
	return 0;
}

long long
conf_max_message_size(const struct account *a)
{
	long long n = a->max_message_size > 0 ? a->max_message_size :
	    CONF_MAX_MESSAGE_SIZE;

	return api_limit(a) > 0 && api_limit(a) < n ? api_limit(a) : n;
}

const char *
conf_size_cure(const struct account *a)
{
	if (api_limit(a) == 0 || (a->max_message_size > 0 &&
	    a->max_message_size <= api_limit(a)))
		return NULL;
	if (a->transport == TRANSPORT_GRAPH)
		return "Microsoft Graph takes about 3 MB (4 MB of base64): "
		    "send it through an account with transport smtp or auto, "
		    "or make it smaller (a link instead of an attachment)";
	return "the Gmail API takes at most 35 MiB: make it smaller (a "
	    "link instead of an attachment)";
}
