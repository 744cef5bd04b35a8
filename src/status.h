/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * status.h -- every error carries its class and its meaning
 * (doc/design.md §8).
 *
 * Functions return 0 on success and -1 with *err filled on failure;
 * err_set() returns -1 so that `return err_set(e, ERR_TEMP, ...)` works.
 * Only main.c turns a struct err into an exit code.
 */
#ifndef STATUS_H
#define STATUS_H

#include "common.h"

enum err_class {
	ERR_NONE = 0,
	ERR_USAGE,	/* bad invocation -> 64 */
	ERR_DATA,	/* bad message -> 65 */
	ERR_ADDR,	/* bad recipient address -> 67 */
	ERR_CONFIG,	/* missing, invalid or unsafe config -> 78 */
	ERR_TEMP,	/* retry later: 4xx, network, timeout, keyring locked -> 75 */
	ERR_PERM,	/* do not retry: 5xx on MAIL/RCPT/DATA -> 69 */
	ERR_AUTH,	/* credentials refused, sign-in needed; hold -> 77 */
	ERR_PROTO,	/* malformed peer behaviour -> 76 */
	ERR_IO,		/* local read/write failure -> 74 */
	ERR_CANTCREAT,	/* cannot create the spool entry -> 73 */
	ERR_NOHOST,	/* host does not resolve -> 68 */
	ERR_OS,		/* resources: ENOMEM, fork -> 71 */
	ERR_INTERNAL	/* bug -> 70 */
};

struct err {
	enum err_class	 class;
	int		 smtp_code;	/* 0 if none */
	char		 esc[16];	/* enhanced status, "5.7.8" */
	char		 msg[512];	/* human text, already sanitised */
};

void	err_clear(struct err *);
int	err_set(struct err *, enum err_class, const char *, ...)
	    OM_PRINTF(3, 4);
/* Like err_set, also records an SMTP reply code and enhanced status. */
int	err_set_smtp(struct err *, enum err_class, int code, const char *esc,
	    const char *, ...) OM_PRINTF(5, 6);
/* Prefixes the existing message: "context: old message". Returns -1. */
int	err_prefix(struct err *, const char *, ...) OM_PRINTF(2, 3);
int	err_exitcode(const struct err *);
/*
 * The exit status of a message the server refused for good when it was
 * delivered at once (the error behind the refusal): 67 when the recipients
 * were refused (ERR_ADDR), else 69. See submit_exitcode for the others.
 */
int	err_refusal_exitcode(const struct err *);
int	err_is_temporary(const struct err *);
const char *err_class_str(enum err_class);

#endif
