/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * common.h -- included first by every source file: config.h, compat and a
 * few attributes. Also the one place where the named limits live.
 */
#ifndef COMMON_H
#define COMMON_H

#include "config.h"

#include <stddef.h>
#include <sys/types.h>

#include "compat.h"

#ifdef HAVE_SYSEXITS_H
#include <sysexits.h>
#else
#define EX_OK		0
#define EX_USAGE	64
#define EX_DATAERR	65
#define EX_NOINPUT	66
#define EX_NOUSER	67
#define EX_NOHOST	68
#define EX_UNAVAILABLE	69
#define EX_SOFTWARE	70
#define EX_OSERR	71
#define EX_OSFILE	72
#define EX_CANTCREAT	73
#define EX_IOERR	74
#define EX_TEMPFAIL	75
#define EX_PROTOCOL	76
#define EX_NOPERM	77
#define EX_CONFIG	78
#endif

#define OM_DEAD		__attribute__((__noreturn__))
#define OM_PRINTF(f, a)	__attribute__((__format__(__printf__, f, a)))
#define OM_UNUSED	__attribute__((__unused__))
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

/* Named limits (doc/design.md §9). */
#define LIM_SMTP_LINE	1000		/* RFC 5321 text line incl. CRLF */
#define LIM_SMTP_CMD	512		/* RFC 5321 command line incl. CRLF */
#define LIM_SMTP_REPLY	(64 * 1024)	/* a whole multi-line reply */
#define LIM_SMTP_REPLY_LINES 1000	/* lines in one reply */
#define LIM_INPUT_LINE	(1024 * 1024)	/* read granularity on stdin */
#define LIM_HDR_NAME	1024
#define LIM_HDR_VALUE	(64 * 1024)
#define LIM_HDR_BLOCK	(4 * 1024 * 1024)	/* the whole header block */
#define LIM_HDR_COUNT	10000
#define LIM_HTTP_BODY	(64 * 1024)
#define LIM_TOKEN	(16 * 1024)
#define LIM_ADDR	998		/* one address, as text */
#define LIM_RCPTS	10000		/* recipients in one message */
#define LIM_CONF_LINE	4096

#define OM_PROGNAME	"oauthmail"

#endif
