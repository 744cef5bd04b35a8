/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * msmtprc_impl.h -- what msmtprc_read.c (the reader) and msmtprc_write.c
 * (the writer) share; not for other modules (they use msmtprc.h). The
 * reader calls the writer, never the other way round.
 */
#ifndef MSMTPRC_IMPL_H
#define MSMTPRC_IMPL_H

#include "common.h"

#include <stdarg.h>

#include "buf.h"
#include "msmtprc.h"
#include "status.h"

#define MSMTPRC_MAX_NOTES	(64 * 1024)
#define MSMTPRC_MAX_OUT		(64 * 1024 * 1024)

/* The msmtp keys that map, or that decide how an account maps. */
enum mkey {
	M_HOST, M_PORT, M_TIMEOUT, M_PROTOCOL, M_DOMAIN, M_AUTH, M_USER,
	M_PASSWORD, M_PASSWORDEVAL, M_TLS, M_TLS_STARTTLS, M_TLS_TRUST_FILE,
	M_TLS_CERTCHECK, M_FROM, M_ALLOW_FROM_OVERRIDE, M_LOGFILE, M_SYSLOG,
	M_ALIASES, M_NKEYS
};

struct macct {
	char		*name;
	int		 line;		/* of its account line */
	char		*v[M_NKEYS];
	int		 vline[M_NKEYS];
	unsigned	 mask;		/* keys set here or by parents */
	int		 own;		/* keys on its own lines */
};

struct parser {
	const char	*name;
	int		 line;
	struct macct	 defaults;
	struct macct	**accts;
	size_t		 naccts;
	struct macct	*cur;
	char		*default_of;	/* "account default : NAME" */
	struct buf	*notes;
	struct err	*err;
	int		 nerrors;
};

/* A line of the "not carried over" block; past MSMTPRC_MAX_NOTES, none. */
void	msmtprc_vnote(struct buf *, const char *, va_list) OM_PRINTF(2, 0);
/* Writes the parsed accounts as oauthmail's configuration into out. */
void	msmtprc_write(struct parser *, const char *name,
	    struct msmtprc_out *out);

#endif
