/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * args_cmd.c -- oauthmail's management words ("oauthmail login ACCOUNT",
 * "oauthmail queue --json", ...): the table of commands, the options
 * before the word (-C, -a, -v) and after it, each command's operand.
 * args_parse (args.c) calls args_cmd_parse for a command line; the
 * sendmail command line is args.c's.
 */
#include "common.h"

#include <string.h>

#include "args.h"
#include "args_impl.h"
#include "status.h"
#include "util.h"

static const struct {
	const char	*word;
	enum inv_mode	 mode;
	enum inv_cmd	 cmd;
	int		 account;	/* 2 required, 1 optional, 0 none,
					   3 an optional FILE instead */
} commands[] = {
	{ "login",	MODE_COMMAND,	CMD_LOGIN,	2 },
	{ "logout",	MODE_COMMAND,	CMD_LOGOUT,	2 },
	{ "status",	MODE_COMMAND,	CMD_STATUS,	1 },
	{ "check",	MODE_COMMAND,	CMD_CHECK,	2 },
	{ "token",	MODE_COMMAND,	CMD_TOKEN,	2 },
	{ "secret",	MODE_COMMAND,	CMD_SECRET,	2 },
	{ "password",	MODE_COMMAND,	CMD_PASSWORD,	2 },
	{ "queue",	MODE_MAILQ,	CMD_NONE,	0 },
	{ "flush",	MODE_FLUSH,	CMD_NONE,	0 },
	{ "import-msmtprc", MODE_COMMAND, CMD_IMPORT_MSMTPRC, 3 },
	{ "setup",	MODE_COMMAND,	CMD_SETUP,	2 },
};

/*
 * The output options: --json (status, queue), --prometheus (status),
 * --nagios and its -w AGE / -c AGE (check). Returns 1 if argv[*ip] was
 * one (*ip moves past a value), 0 if not, -1 on error.
 */
static int
command_format(int argc, char **argv, int *ip, struct invocation *inv,
    struct err *err)
{
	static const struct {
		const char	*opt;
		enum inv_format	 fmt;
		enum inv_cmd	 cmd;
		enum inv_mode	 mode;
	} fmts[] = {
		{ "--json", FMT_JSON, CMD_STATUS, MODE_COMMAND },
		{ "--json", FMT_JSON, CMD_NONE, MODE_MAILQ },
		{ "--prometheus", FMT_PROMETHEUS, CMD_STATUS, MODE_COMMAND },
		{ "--nagios", FMT_NAGIOS, CMD_CHECK, MODE_COMMAND },
	};
	const char *p = argv[*ip], *v;
	long long *age;
	size_t k;
	int known = 0;

	for (k = 0; k < nitems(fmts); k++) {
		if (strcmp(p, fmts[k].opt) != 0)
			continue;
		known = 1;
		if (fmts[k].cmd == inv->cmd && fmts[k].mode == inv->mode) {
			inv->format = fmts[k].fmt;
			return 1;
		}
	}
	if (known)
		return err_set(err, ERR_USAGE, "%s is only valid with %s", p,
		    strcmp(p, "--json") == 0 ? "'oauthmail status' or "
		    "'oauthmail queue'" : strcmp(p, "--nagios") == 0 ?
		    "'oauthmail check'" : "'oauthmail status'");
	if (p[0] != '-' || (p[1] != 'w' && p[1] != 'c'))
		return 0;
	age = p[1] == 'w' ? &inv->warn_age : &inv->crit_age;
	if (p[2] != '\0')
		v = p + 2;
	else if (*ip + 1 < argc)
		v = argv[++*ip];
	else
		return err_set(err, ERR_USAGE, "option -%c needs an age, e.g. "
		    "-%c 1h", p[1], p[1]);
	if (util_parse_duration(v, age) == -1 || *age <= 0)
		return err_set(err, ERR_USAGE, "-%c %s: not an age; use e.g. "
		    "-%c 30m, -%c 2h or -%c 1d", p[1], v, p[1], p[1], p[1]);
	return 1;
}

/*
 * The options of check and import-msmtprc: 1 if argv[*ip] was one (its
 * value consumed too), 0 if not, -1 on error.
 */
static int
parse_cmd_flag(int argc, char **argv, int *ip, struct invocation *inv,
    struct err *err)
{
	const char *p = argv[*ip];

	if (strcmp(p, "--offline") == 0) {
		if (inv->cmd != CMD_CHECK)
			return err_set(err, ERR_USAGE, "--offline is only "
			    "valid with 'oauthmail check'");
		inv->offline = 1;
		return 1;
	}
	if (strcmp(p, "--force") != 0 && strncmp(p, "-o", 2) != 0)
		return 0;
	if (inv->cmd != CMD_IMPORT_MSMTPRC)
		return err_set(err, ERR_USAGE, "%s is only valid with "
		    "'oauthmail import-msmtprc'", p);
	if (p[1] == '-') {
		inv->force = 1;
		return 1;
	}
	if (p[2] != '\0')
		inv->import_out = p + 2;
	else if (*ip + 1 < argc)
		inv->import_out = argv[++*ip];
	else
		return err_set(err, ERR_USAGE, "-o needs a file name");
	if (*inv->import_out == '\0')
		return err_set(err, ERR_USAGE, "-o needs a file name");
	return 1;
}

/* oauthmail WORD [options] [ACCOUNT]: options may follow the operand. */
static int
parse_command(int argc, char **argv, size_t ci, struct invocation *inv,
    struct err *err)
{
	const char *word = commands[ci].word, *p;
	int i, r, nopers = 0, optsdone = 0;

	inv->mode = commands[ci].mode;
	inv->cmd = commands[ci].cmd;
	for (i = 2; i < argc; i++) {
		p = argv[i];
		if (!optsdone && strcmp(p, "--") == 0) {
			optsdone = 1;
			continue;
		}
		if (optsdone || p[0] != '-' || p[1] == '\0') {
			if (commands[ci].account == 0 || nopers++ > 0)
				return err_set(err, ERR_USAGE, "'oauthmail %s': "
				    "unexpected argument '%s'", word, p);
			if (commands[ci].account == 3)
				inv->import_file = p;
			else
				inv->cmd_account = p;
			continue;
		}
		if ((r = parse_cmd_flag(argc, argv, &i, inv, err)) == -1)
			return -1;
		if (r == 1)
			continue;
		if (strcmp(p, "--device") == 0 || strcmp(p, "--browser") == 0 ||
		    strcmp(p, "--paste") == 0) {
			if (inv->cmd != CMD_LOGIN)
				return err_set(err, ERR_USAGE, "%s is only "
				    "valid with 'oauthmail login'", p);
			inv->login_flow = p[2] == 'd' ? LOGIN_DEVICE :
			    p[2] == 'b' ? LOGIN_BROWSER : LOGIN_PASTE;
			continue;
		}
		if (strcmp(p, "--systemd-credential") == 0 ||
		    strcmp(p, "--seal-key") == 0) {
			if (inv->cmd != CMD_SECRET)
				return err_set(err, ERR_USAGE, "%s is only "
				    "valid with 'oauthmail secret'", p);
			inv->secret_how = strcmp(p, "--seal-key") == 0 ?
			    SECRET_SEAL_KEY : SECRET_SYSTEMD;
			continue;
		}
		if (strcmp(p, "--dry-run") == 0) {
			if (inv->cmd != CMD_SETUP)
				return err_set(err, ERR_USAGE, "--dry-run is "
				    "only valid with 'oauthmail setup'");
			inv->dry_run = 1;
			continue;
		}
		if (strcmp(p, "--key") == 0) {
			if (inv->cmd != CMD_SECRET)
				return err_set(err, ERR_USAGE, "--key is only "
				    "valid with 'oauthmail secret'");
			if (i + 1 >= argc || *argv[i + 1] == '\0')
				return err_set(err, ERR_USAGE, "--key needs the "
				    "private key's file name");
			inv->key_file = argv[++i];
			continue;
		}
		if ((r = command_format(argc, argv, &i, inv, err)) != 0) {
			if (r == -1)
				return -1;
			continue;
		}
		if (p[1] == 'C') {
			if (p[2] != '\0')
				inv->config = p + 2;
			else if (i + 1 < argc)
				inv->config = argv[++i];
			else
				return err_set(err, ERR_USAGE, "option -C needs "
				    "a file name");
			if (*inv->config == '\0')
				return err_set(err, ERR_USAGE, "-C needs a "
				    "file name");
			continue;
		}
		if (p[1] == 'v' && p[strspn(p + 1, "v") + 1] == '\0') {
			inv->verbose += (int)strlen(p + 1);
			continue;
		}
		return err_set(err, ERR_USAGE, "'oauthmail %s': unknown "
		    "option %s", word, p);
	}
	if (inv->secret_how == SECRET_SEAL_KEY) {
		if (inv->cmd_account != NULL || inv->key_file != NULL)
			return err_set(err, ERR_USAGE, "'oauthmail secret "
			    "--seal-key' takes no ACCOUNT and no --key");
		return 0;
	}
	if ((inv->warn_age > 0 || inv->crit_age > 0) &&
	    inv->format != FMT_NAGIOS)
		return err_set(err, ERR_USAGE, "-w and -c are only valid with "
		    "'oauthmail check --nagios'");
	if (inv->offline && inv->format == FMT_NAGIOS)
		return err_set(err, ERR_USAGE, "'oauthmail check': use "
		    "--offline or --nagios, not both");
	if (commands[ci].account == 2 && inv->cmd_account == NULL &&
	    inv->format != FMT_NAGIOS && !inv->offline)
		return err_set(err, ERR_USAGE, "'oauthmail %s' needs %s",
		    word, commands[ci].cmd == CMD_SETUP ? "an ADDRESS, e.g. "
		    "you@example.com" : "an ACCOUNT name");
	if (inv->cmd_account != NULL && *inv->cmd_account == '\0')
		return err_set(err, ERR_USAGE, "'oauthmail %s': empty ACCOUNT "
		    "name", word);
	return 0;
}

/*
 * "oauthmail [-C FILE] [-a ACCOUNT] [-v] WORD ...": finds the first word
 * that is not an option or an option's value. Returns its index in argv
 * and the command's index in *cip, or 0 when that word is not a command
 * (then argv is sendmail's command line: the word is a recipient).
 */
static int
find_command(int argc, char **argv, size_t *cip)
{
	const char *p;
	size_t c;
	int i;

	for (i = 1; i < argc; i++) {
		p = argv[i];
		if (p[0] != '-' || p[1] == '\0')
			break;
		if (p[1] == '-')
			return 0;
		for (p++; *p != '\0'; p++) {
			if (*p == 'q' || strchr(ARGS_OPTS_ARG, *p) != NULL) {
				if (*p != 'q' && p[1] == '\0')
					i++;
				break;
			}
		}
	}
	if (i >= argc)
		return 0;
	for (c = 0; c < nitems(commands); c++)
		if (strcmp(argv[i], commands[c].word) == 0) {
			*cip = c;
			return i;
		}
	return 0;
}

/*
 * The options before the command word: only -C, -a and -v mean something
 * there; any other is refused rather than taken as a request to send.
 */
static int
parse_global(int w, char **argv, size_t ci, struct invocation *inv,
    const char **acctp, struct err *err)
{
	const char *word = commands[ci].word, *p, *v;
	int i;

	*acctp = NULL;
	for (i = 1; i < w; i++) {
		p = argv[i];
		if (p[1] == 'v' && p[strspn(p + 1, "v") + 1] == '\0') {
			inv->verbose += (int)strlen(p + 1);
			continue;
		}
		if (p[1] != 'C' && p[1] != 'a')
			return err_set(err, ERR_USAGE, "'oauthmail %s': option "
			    "%s is a sendmail option; put only -C, -a or -v "
			    "before the command", word, p);
		v = p[2] != '\0' ? p + 2 : argv[++i];
		if (*v == '\0')
			return err_set(err, ERR_USAGE, "option -%c needs a "
			    "value", p[1]);
		if (p[1] == 'C')
			inv->config = v;
		else if (commands[ci].account == 0 || commands[ci].account == 3)
			return err_set(err, ERR_USAGE, "'oauthmail %s' takes no "
			    "ACCOUNT (-a %s)", word, v);
		else
			*acctp = v;
	}
	return 0;
}

static int
parse_command_at(int argc, char **argv, int w, size_t ci,
    struct invocation *inv, struct err *err)
{
	const char *acct;

	if (parse_global(w, argv, ci, inv, &acct, err) == -1)
		return -1;
	inv->cmd_account = acct;
	if (parse_command(argc - (w - 1), argv + (w - 1), ci, inv, err) == -1)
		return -1;
	if (acct != NULL && inv->cmd_account != acct &&
	    strcmp(inv->cmd_account, acct) != 0)
		return err_set(err, ERR_USAGE, "'oauthmail %s': two accounts "
		    "given (-a %s and %s)", commands[ci].word, acct,
		    inv->cmd_account);
	return 0;
}

int
args_cmd_parse(int argc, char **argv, struct invocation *inv,
    struct err *err)
{
	size_t ci;
	int w;

	if ((w = find_command(argc, argv, &ci)) == 0)
		return 1;
	return parse_command_at(argc, argv, w, ci, inv, err);
}
