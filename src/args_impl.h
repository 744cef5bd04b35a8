/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * args_impl.h -- what the two halves of the command line share, for them
 * alone: args.c (the sendmail command line and args_parse, the one entry
 * point) and args_cmd.c (oauthmail's management words). args.h has the
 * invocation record and the contract.
 */
#ifndef ARGS_IMPL_H
#define ARGS_IMPL_H

#include "common.h"
#include "args.h"
#include "status.h"

/*
 * The sendmail options that take a value (args.c): finding the command
 * word (args_cmd.c) skips their values.
 */
#define ARGS_OPTS_ARG	"ABCFLNORVXabefhopr"

/*
 * "oauthmail [-C FILE] [-a ACCOUNT] [-v] WORD ...": when the first word
 * that is not an option or an option's value names a command, parses the
 * command line into *inv (inv zeroed, progname set by the caller): 0, or
 * -1 with ERR_USAGE. 1 when that word names no command: argv is then
 * sendmail's command line (the word is a recipient) and inv is untouched.
 */
int	args_cmd_parse(int argc, char **argv, struct invocation *inv,
	    struct err *err);

#endif
