/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * version.c -- see version.h.
 */
#include "common.h"

#include <stdio.h>

#include <keyutils.h>

#include "conf.h"
#include "json.h"
#include "tls.h"
#include "version.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif
#ifndef OM_CONFIGURE_ARGS
#define OM_CONFIGURE_ARGS	""
#endif

void
version_print(FILE *out)
{
	fprintf(out, "%s %s\n", OM_PROGNAME, PACKAGE_VERSION);
	fprintf(out, "libraries: %s, jansson %s, %s\n",
	    xtls_library_version(), json_library_version(),
	    keyutils_version_string);
#ifdef HAVE_LIBSECRET
	fprintf(out, "loaded when needed: %s (token requests), %s (Secret "
	    "Service)\n", OM_LIBCURL_SONAME, OM_LIBSECRET_SONAME);
#else
	fprintf(out, "loaded when needed: %s (token requests)\n",
	    OM_LIBCURL_SONAME);
	fprintf(out, "libsecret: not built in (--without-libsecret)\n");
#endif
	fprintf(out, "system configuration: %s/oauthmail.conf\n", SYSCONFDIR);
	fprintf(out, "system spool: %s\n", CONF_SPOOL_DIR);
	fprintf(out, "configured with: %s\n", *OM_CONFIGURE_ARGS != '\0' ?
	    OM_CONFIGURE_ARGS : "(defaults)");
}
