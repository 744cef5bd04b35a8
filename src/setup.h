/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * setup.h -- "oauthmail setup ADDRESS [--dry-run] [-C FILE]": writes a
 * working account for an address and signs it in.
 *
 * The provider is recognised without asking when it can be: Gmail and
 * Outlook.com addresses by their domain; a domain whose MX is Google's
 * (Workspace) or Exchange Online's; a domain that is a Microsoft Entra
 * tenant (its OpenID configuration at login.microsoftonline.com, which
 * also gives the tenant id). Only what cannot be found is asked, on
 * standard error, the answer read as one line of standard input: the
 * provider when none was recognised, the client id (with the steps that
 * register an application printed first) and the flow where there is a
 * choice.
 *
 * The account goes to -C FILE, else $OAUTHMAIL_CONFIG, else the per-user
 * file: a new file is created (mode 0600, its directory 0700) with the
 * account as the default; an existing one gets the account appended only
 * when the answer to the question is yes, and never when it already has
 * an account of that name. --dry-run prints the text and the file and
 * writes nothing. Then the sign-in runs (login_run) for the delegated
 * flows of Microsoft; for the others the next steps are printed.
 *
 * Tests only, ignored in a set-user-id or set-group-id run: the
 * environment variable OAUTHMAIL_DISCOVERY_URL replaces
 * https://login.microsoftonline.com (http to loopback allowed), and
 * OAUTHMAIL_MX_FILE names a file of "DOMAIN MX-HOST" lines that replaces
 * DNS.
 *
 * Returns an exit status (sysexits).
 */
#ifndef SETUP_H
#define SETUP_H

#include "common.h"
#include "args.h"

int	setup_run(const struct invocation *inv);

#define SETUP_HOST_MAX	1025		/* a host name as text (NS_MAXDNAME) */
#define SETUP_DNS_MAX	4096		/* one DNS answer */
/*
 * The MX host names of a DNS answer (untrusted: every length is checked;
 * a malformed record ends the list), at most max, into hosts. Returns how
 * many.
 */
size_t	setup_mx_parse(const unsigned char *ans, size_t size,
	    char hosts[][SETUP_HOST_MAX], size_t max);

#endif
