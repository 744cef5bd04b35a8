/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * msmtprc.h -- reads an msmtp configuration file and writes the equivalent
 * oauthmail configuration (oauthmail(8), import-msmtprc).
 *
 * msmtp's syntax: one "command argument" per line; whole-line '#'
 * comments; an argument in double quotes loses them; "defaults";
 * "account NAME [: PARENT[, PARENT...]]" (a copy of the defaults, then of
 * each parent); "account default : NAME"; keys before any account belong
 * to an account named "default". The input is untrusted: nothing in it
 * is run or fetched (passwordeval is never executed), and no password or
 * passwordeval command reaches the output or a message.
 *
 * What maps is written out for each account (inherited settings made
 * explicit); what does not map is listed in a comment block at the top
 * with the reason, and so is each account's next step (the sign-in, the
 * app registration's client id, a password for the keyring). An account
 * that cannot work as oauthmail configures it is written commented out,
 * so that the output always loads.
 */
#ifndef MSMTPRC_H
#define MSMTPRC_H

#include "common.h"
#include "buf.h"
#include "status.h"

/* The largest msmtprc read (msmtp's files are a few hundred bytes). */
#define MSMTPRC_MAX_FILE	(1024 * 1024)

struct msmtprc_out {
	struct buf	 conf;		/* the oauthmail configuration text */
	struct buf	 steps;		/* next steps: "  ACCOUNT: what\n" lines */
	struct buf	 notes;		/* what did not map: "#   why\n" lines */
	int		 naccounts;	/* accounts written (not commented out) */
	int		 ndisabled;	/* accounts written commented out */
};

/*
 * Converts the msmtprc text (len bytes; name is used in messages and in
 * the output's header). Errors: ERR_DATA "NAME:LINE: what; fix" for what
 * msmtp itself could not read (an unterminated quote, an account that
 * inherits from one not defined above, a duplicate account, a bad port,
 * a NUL or control byte, a line over LIM_CONF_LINE); every earlier error
 * of the file is printed as a warning. On success out holds the texts
 * (conf has no usable account when naccounts is 0: then it would not
 * load); free it with msmtprc_out_free.
 */
int	msmtprc_convert(const char *name, const char *text, size_t len,
	    struct msmtprc_out *out, struct err *err);
void	msmtprc_out_free(struct msmtprc_out *);

#endif
