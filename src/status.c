/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* status.c -- error classes and their exit codes; see status.h. */
#include "common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "status.h"
#include "util.h"

void
err_clear(struct err *e)
{
	memset(e, 0, sizeof(*e));
}

static void
err_vset(struct err *e, enum err_class c, const char *fmt, va_list ap)
{
	char tmp[sizeof(e->msg)];

	e->class = c;
	(void)vsnprintf(tmp, sizeof(tmp), fmt, ap);
	util_sanitize(e->msg, sizeof(e->msg), tmp, strlen(tmp));
}

int
err_set(struct err *e, enum err_class c, const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	e->smtp_code = 0;
	e->esc[0] = '\0';
	va_start(ap, fmt);
	err_vset(e, c, fmt, ap);
	va_end(ap);
	return -1;
}

int
err_set_smtp(struct err *e, enum err_class c, int code, const char *esc,
    const char *fmt, ...)
{
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	err_vset(e, c, fmt, ap);
	va_end(ap);
	e->smtp_code = code;
	(void)strlcpy(e->esc, esc != NULL ? esc : "", sizeof(e->esc));
	return -1;
}

int
err_prefix(struct err *e, const char *fmt, ...)
{
	char pre[256], old[sizeof(e->msg)], both[sizeof(pre) + sizeof(old) + 2];
	va_list ap;

	if (e == NULL)
		return -1;
	va_start(ap, fmt);
	(void)vsnprintf(pre, sizeof(pre), fmt, ap);
	va_end(ap);
	(void)strlcpy(old, e->msg, sizeof(old));
	(void)snprintf(both, sizeof(both), "%s: %s", pre, old);
	(void)strlcpy(e->msg, both, sizeof(e->msg));
	return -1;
}

int
err_exitcode(const struct err *e)
{
	switch (e->class) {
	case ERR_NONE:		return EX_OK;
	case ERR_USAGE:		return EX_USAGE;
	case ERR_DATA:		return EX_DATAERR;
	case ERR_ADDR:		return EX_NOUSER;
	case ERR_CONFIG:	return EX_CONFIG;
	case ERR_TEMP:		return EX_TEMPFAIL;
	case ERR_PERM:		return EX_UNAVAILABLE;
	case ERR_AUTH:		return EX_NOPERM;
	case ERR_PROTO:		return EX_PROTOCOL;
	case ERR_IO:		return EX_IOERR;
	case ERR_CANTCREAT:	return EX_CANTCREAT;
	case ERR_NOHOST:	return EX_NOHOST;
	case ERR_OS:		return EX_OSERR;
	case ERR_INTERNAL:	return EX_SOFTWARE;
	}
	return EX_SOFTWARE;
}

int
err_is_temporary(const struct err *e)
{
	return e->class == ERR_TEMP || e->class == ERR_NOHOST ||
	    e->class == ERR_OS || e->class == ERR_PROTO;
}

const char *
err_class_str(enum err_class c)
{
	static const char *names[] = {
		"none", "usage", "data", "address", "config", "temporary",
		"permanent", "auth", "protocol", "io", "cantcreat", "nohost",
		"os", "internal"
	};

	if ((size_t)c < nitems(names))
		return names[c];
	return "unknown";
}

int
err_refusal_exitcode(const struct err *e)
{
	return e->class == ERR_ADDR ? EX_NOUSER : EX_UNAVAILABLE;
}
