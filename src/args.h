/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * args.h -- the sendmail command line (Postfix semantics, doc/design.md §4)
 * and oauthmail's management words, parsed into one invocation record.
 * Nothing else reads argv.
 */
#ifndef ARGS_H
#define ARGS_H

#include "common.h"
#include "status.h"

enum inv_mode {
	MODE_SEND = 0,		/* -bm (default): read a message from stdin */
	MODE_MAILQ,		/* -bp, mailq, oauthmail queue */
	MODE_NEWALIASES,	/* -bi, -I, newaliases */
	MODE_FLUSH,		/* -q, -qI.., -qR.., -qS.., oauthmail flush */
	MODE_DAEMON,		/* -bd, -q<interval> */
	MODE_SMTP_STDIO,	/* -bs */
	MODE_NOOP,		/* -bh, -bH: accepted, nothing to do */
	MODE_VERIFY,		/* -bv: where each recipient goes; no mail */
	MODE_VERSION,		/* oauthmail --version */
	MODE_HELP,		/* oauthmail --help */
	MODE_COMMAND		/* oauthmail <word> ... */
};

enum inv_cmd {
	CMD_NONE = 0,
	CMD_LOGIN,
	CMD_LOGOUT,
	CMD_STATUS,
	CMD_CHECK,
	CMD_TOKEN,
	CMD_SECRET,
	CMD_PASSWORD,
	CMD_IMPORT_MSMTPRC,
	CMD_SETUP
};

enum inv_delivery {
	DELIV_DEFAULT = 0,	/* config decides */
	DELIV_FOREGROUND,	/* -odi, -odf */
	DELIV_BACKGROUND,	/* -odb */
	DELIV_QUEUE		/* -odq, -odd */
};

enum inv_body {
	BODY_UNSPEC = 0,
	BODY_7BIT,
	BODY_8BITMIME
};

enum inv_qselect {
	QSEL_ALL = 0,
	QSEL_ID,		/* -qI<substring> */
	QSEL_RCPT,		/* -qR<substring> */
	QSEL_SENDER		/* -qS<substring> */
};

enum inv_login {
	LOGIN_DEFAULT = 0,
	LOGIN_DEVICE,
	LOGIN_BROWSER,
	LOGIN_PASTE
};

enum inv_secret {
	SECRET_STORE = 0,	/* read the secret into the keyring */
	SECRET_SYSTEMD,		/* --systemd-credential: print the commands */
	SECRET_SEAL_KEY		/* --seal-key: the token-key's commands */
};

enum inv_format {
	FMT_TEXT = 0,
	FMT_JSON,		/* status --json, queue --json */
	FMT_PROMETHEUS,		/* status --prometheus */
	FMT_NAGIOS		/* check --nagios */
};

struct invocation {
	const char	*progname;	/* basename of argv[0] */
	enum inv_mode	 mode;
	enum inv_cmd	 cmd;		/* MODE_COMMAND only */
	const char	*cmd_account;	/* ACCOUNT operand of a command */
	enum inv_login	 login_flow;
	enum inv_secret	 secret_how;	/* CMD_SECRET only */
	enum inv_format	 format;	/* status, queue, check */
	long long	 warn_age;	/* check --nagios -w (seconds), or 0 */
	long long	 crit_age;	/* check --nagios -c (seconds), or 0 */
	const char	*key_file;	/* secret --key FILE: a private key */
	int		 dry_run;	/* setup --dry-run */
	int		 offline;	/* check --offline: the file only */
	const char	*import_file;	/* import-msmtprc FILE (or NULL) */
	const char	*import_out;	/* import-msmtprc -o FILE */
	int		 force;		/* import-msmtprc --force */

	const char	*config;	/* -C FILE */
	const char	*account;	/* -a ACCOUNT */
	int		 verbose;	/* count of -v */

	int		 extract;	/* -t */
	int		 ignore_dots;	/* -i, -oi */
	const char	*sender;	/* -f / -r (NULL if not given) */
	const char	*fullname;	/* -F */
	enum inv_body	 body;		/* -B */
	const char	*dsn_notify;	/* -N, validated and normalised */
	const char	*dsn_ret;	/* -R: "FULL" or "HDRS" */
	const char	*envid;		/* -V */
	int		 smtputf8;	/* -O smtputf8=yes: 1, =no: -1, unset 0 */
	enum inv_delivery delivery;	/* -od? */

	enum inv_qselect qselect;	/* -q selection */
	const char	*qvalue;	/* -q selection substring */
	long long	 qinterval;	/* -q<interval> in seconds (daemon) */

	char		**rcpts;	/* operands (pointers into argv) */
	size_t		 nrcpts;

	/* Storage for sender once its angle brackets are stripped. */
	char		 sender_buf[LIM_ADDR + 1];
};

/*
 * Parses argv into *inv. Errors: ERR_USAGE with a one-line message that
 * names the flag. Never prints; never exits. inv points into argv (argv is
 * not modified) and into static strings; sender points into inv itself.
 *
 * argv[0]'s basename picks the interface: "mailq" starts in MODE_MAILQ,
 * "newaliases" in MODE_NEWALIASES; "oauthmail" followed by one of the
 * management words (login logout status check token secret password queue
 * flush import-msmtprc) or by exactly --help / --version is a command
 * line; everything else is sendmail's command line (Postfix semantics,
 * doc/design.md §4). "check --offline" makes ACCOUNT optional.
 *
 * In MODE_SEND without -t, at least one recipient operand is required
 * (ERR_USAGE, as Postfix). sender: "" is the null sender (-f '<>' or -f '').
 * qinterval: seconds (a bare number means minutes, as sendmail's -q15).
 */
int	args_parse(int argc, char **argv, struct invocation *inv,
	    struct err *err);
/* The usage text for --help and usage errors (static). */
const char *args_usage(void);

#endif
