/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * args.c -- the sendmail command line (Postfix sendmail(1) semantics,
 * doc/design.md §4), the usage text and args_parse, which picks the
 * interface; oauthmail's management words are parsed in args_cmd.c.
 *
 * The option scanner is written by hand instead of using getopt(3): glibc's
 * getopt permutes arguments unless told otherwise and keeps global state.
 * Here, as POSIX requires, options are only recognised before the first
 * operand, "--" ends them, and an option's argument may be attached
 * ("-fuser@x", "-FCronDaemon") or be the next word ("-f user@x").
 */
#include "common.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "args.h"
#include "args_impl.h"
#include "status.h"

/* Postfix's getopt string plus msmtp's -a. 'q' is special (see below). */
static const char	 opts_arg[] = ARGS_OPTS_ARG;
static const char	 opts_flag[] = "GIUcimntvx";

/* RFC 3461 NOTIFY values, indexed by a SUCCESS=1|FAILURE=2|DELAY=4 mask. */
static const char *const notify_str[] = {
	"NEVER", "SUCCESS", "FAILURE", "SUCCESS,FAILURE", "DELAY",
	"SUCCESS,DELAY", "FAILURE,DELAY", "SUCCESS,FAILURE,DELAY"
};

static const char usage_text[] =
"usage: sendmail [options] [--] recipient ...\n"
"       sendmail -t [options] [recipient ...]\n"
"       sendmail -bp | -bs | -bd | -q[interval] | -qI|R|S<text>\n"
"       mailq | newaliases\n"
"       oauthmail login ACCOUNT [--device|--browser|--paste] [-C FILE] [-v]\n"
"       oauthmail logout|check|token|secret|password ACCOUNT [-C FILE] [-v]\n"
"       oauthmail secret ACCOUNT [--key FILE] [--systemd-credential]\n"
"       oauthmail secret --seal-key\n"
"       oauthmail status [ACCOUNT] [--json|--prometheus] [-C FILE] [-v]\n"
"       oauthmail check [ACCOUNT] --nagios [-w AGE] [-c AGE] [-C FILE]\n"
"       oauthmail check --offline [ACCOUNT] [-C FILE]\n"
"       oauthmail queue [--json] [-C FILE] [-v]\n"
"       oauthmail flush [-C FILE] [-v]\n"
"       oauthmail import-msmtprc [FILE] [-o OUTFILE [--force]]\n"
"       oauthmail setup ADDRESS [--dry-run] [-C FILE]\n"
"       oauthmail --help | --version\n"
"       (-C FILE, -a ACCOUNT and -v may also come before the command word)\n"
"\n"
"sendmail options:\n"
"  -t            take recipients from To:, Cc:, Bcc: (and add any given)\n"
"  -i, -oi       a line with a single '.' does not end the message\n"
"  -f SENDER     envelope sender (-r is a synonym; '<>' is the null sender)\n"
"  -F NAME       sender's full name, used when the message has no From:\n"
"  -a ACCOUNT    use this account of the configuration file\n"
"  -C FILE       use this configuration file\n"
"  -B 7BIT|8BITMIME  body type\n"
"  -N never|success,failure,delay  DSN notification\n"
"  -R hdrs|full  DSN return;  -V ENVID  DSN envelope id\n"
"  -O smtputf8=yes|no  request SMTPUTF8\n"
"  -odi, -odf    deliver now and wait;  -odb  deliver in the background\n"
"  -odq, -odd    only queue the message\n"
"  -v            report the delivery (twice: debug output)\n"
"  -bm           read a message and deliver it (the default)\n"
"  -bp           list the queue (mailq);  -bi, -I  check the aliases file\n"
"  -bs           speak SMTP on standard input and output\n"
"  -bv ADDR...   show where each address goes (aliases, account); send nothing\n"
"  -bd, -q30m    run as the delivery daemon (retry every 30 minutes)\n"
"  -q            deliver the queue now; -qI<id> -qR<rcpt> -qS<sender>\n"
"                deliver only matching entries\n"
"  accepted and ignored: -Ac -Am -c -e x -G -h n -L x -m -oX... -p x\n"
"                -U -x -X file -bh -bH, other -O opt=value\n"
"  refused: -n, other -b and -B values\n"
"\n"
"commands:\n"
"  login     sign in and store the account's tokens in the keyring\n"
"  logout    forget (and where possible revoke) the account's tokens\n"
"  status    token state and queue summary; --json: the same as JSON,\n"
"            --prometheus: metrics for node exporter's textfile collector\n"
"  check     connect, authenticate and send nothing; --nagios: a\n"
"            monitoring plugin from the local state, no connection;\n"
"            --offline: only parse and validate the configuration\n"
"  token     print a valid access token (for msmtp's passwordeval)\n"
"  secret    store the OAuth client secret in the keyring; --key FILE:\n"
"            the private key of client_certificate instead (checked against\n"
"            it; FILE may be deleted then); with\n"
"            --systemd-credential print how to give it to the daemon as an\n"
"            encrypted systemd credential; --seal-key: how to create the\n"
"            key that keeps the daemon's tokens sealed across reboots\n"
"  password  store a SMTP password in the keyring (auth plain/login)\n"
"  queue     list the queue (= mailq; --json: as JSON);  flush  deliver\n"
"            it (= sendmail -q)\n"
"  import-msmtprc  convert an msmtprc (default ~/.msmtprc, then\n"
"            $XDG_CONFIG_HOME/msmtp/config) into a configuration for this\n"
"            program, on stdout or in OUTFILE (-o; replaced only with --force)\n"
"  setup     write an account for ADDRESS (provider, tenant found by\n"
"            itself; asks the client id and the flow) and sign it in;\n"
"            --dry-run: print what it would write\n";

const char *
args_usage(void)
{
	return usage_text;
}

static const char *
base_name(const char *p)
{
	const char *s;

	if (p == NULL || *p == '\0')
		return "sendmail";
	if ((s = strrchr(p, '/')) != NULL && s[1] != '\0')
		return s + 1;
	return p;
}

/* -N: "never" or a comma list of success, failure, delay. */
static int
parse_notify(const char *v, struct invocation *inv, struct err *err)
{
	char word[16];
	const char *p = v, *e;
	size_t n;
	int mask = 0, never = 0, any = 0;

	while (*p != '\0') {
		while (*p == ',' || *p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			break;
		e = p;
		while (*e != '\0' && *e != ',' && *e != ' ' && *e != '\t')
			e++;
		n = (size_t)(e - p);
		if (n >= sizeof(word))
			goto bad;
		memcpy(word, p, n);
		word[n] = '\0';
		if (strcasecmp(word, "never") == 0)
			never = 1;
		else if (strcasecmp(word, "success") == 0)
			mask |= 1;
		else if (strcasecmp(word, "failure") == 0)
			mask |= 2;
		else if (strcasecmp(word, "delay") == 0)
			mask |= 4;
		else
			goto bad;
		any = 1;
		p = e;
	}
	if (!any || (never && mask != 0))
		goto bad;
	inv->dsn_notify = notify_str[never ? 0 : mask];
	return 0;
bad:
	return err_set(err, ERR_USAGE, "-N: invalid DSN notification '%s'; "
	    "use 'never' or a list of success, failure, delay", v);
}

/*
 * -q<interval>: sendmail's time format, e.g. "30m", "1h30m", "15"
 * (a bare number means minutes, as in sendmail's -q15).
 */
static int
parse_interval(const char *v, long long *out)
{
	long long total = 0, n, mult;
	const char *p = v;

	while (*p != '\0') {
		if (!isdigit((unsigned char)*p))
			return -1;
		n = 0;
		while (isdigit((unsigned char)*p)) {
			n = n * 10 + (*p - '0');
			if (n > 1000000)
				return -1;
			p++;
		}
		switch (*p) {
		case 's': mult = 1; p++; break;
		case 'm': mult = 60; p++; break;
		case 'h': mult = 3600; p++; break;
		case 'd': mult = 86400; p++; break;
		case 'w': mult = 7 * 86400; p++; break;
		case '\0': mult = 60; break;
		default: return -1;
		}
		total += n * mult;
		if (total > 365LL * 86400)
			return -1;
	}
	if (total <= 0)
		return -1;
	*out = total;
	return 0;
}

/* -q, -q<interval>, -qI<id>, -qR<rcpt>, -qS<sender>. */
static int
opt_q(const char *v, struct invocation *inv, struct err *err)
{
	long long secs;

	if (*v == '\0') {
		inv->mode = MODE_FLUSH;
		inv->qselect = QSEL_ALL;
		inv->qvalue = NULL;
		return 0;
	}
	if (isdigit((unsigned char)*v)) {
		if (parse_interval(v, &secs) == -1)
			return err_set(err, ERR_USAGE, "-q%s: invalid queue "
			    "interval; use e.g. -q30m or -q1h", v);
		inv->mode = MODE_DAEMON;
		inv->qinterval = secs;
		return 0;
	}
	switch (*v) {
	case 'I':
		inv->qselect = QSEL_ID;
		break;
	case 'R':
		inv->qselect = QSEL_RCPT;
		break;
	case 'S':
		inv->qselect = QSEL_SENDER;
		break;
	default:
		return err_set(err, ERR_USAGE, "-q%s: unsupported queue "
		    "option; use -q, -q<interval>, -qI, -qR or -qS", v);
	}
	if (v[1] == '\0')
		return err_set(err, ERR_USAGE, "-q%c needs a value, e.g. "
		    "-q%cexample.com", *v, *v);
	inv->qvalue = v + 1;
	inv->mode = MODE_FLUSH;
	return 0;
}

static int
opt_b(const char *v, struct invocation *inv, struct err *err)
{
	if (v[0] == '\0' || v[1] != '\0')
		goto bad;
	switch (v[0]) {
	case 'd':
	case 'l':
		inv->mode = MODE_DAEMON;
		return 0;
	case 'h':
	case 'H':
		inv->mode = MODE_NOOP;
		return 0;
	case 'i':
		inv->mode = MODE_NEWALIASES;
		return 0;
	case 'm':
		inv->mode = MODE_SEND;
		return 0;
	case 'p':
		inv->mode = MODE_MAILQ;
		return 0;
	case 's':
		inv->mode = MODE_SMTP_STDIO;
		return 0;
	case 'v':
		inv->mode = MODE_VERIFY;
		return 0;
	default:
		break;
	}
bad:
	return err_set(err, ERR_USAGE, "-b%s: unsupported mode; use -bm, "
	    "-bp, -bs, -bd, -bi or -bv", v);
}

/* -o<x>: only -oi and -od? mean something; the rest is ignored. */
static void
opt_o(const char *v, struct invocation *inv)
{
	if (strcmp(v, "i") == 0) {
		inv->ignore_dots = 1;
		return;
	}
	if (v[0] != 'd' || v[1] == '\0' || v[2] != '\0')
		return;
	switch (v[1]) {
	case 'i':
	case 'f':
		inv->delivery = DELIV_FOREGROUND;
		break;
	case 'b':
		inv->delivery = DELIV_BACKGROUND;
		break;
	case 'q':
	case 'd':
		inv->delivery = DELIV_QUEUE;
		break;
	default:
		break;
	}
}

/* -f/-r: one pair of angle brackets is stripped; "" or "<>" is null. */
static int
opt_sender(int c, const char *v, struct invocation *inv, struct err *err)
{
	size_t n = strlen(v);
	const char *p;

	if (n >= 2 && v[0] == '<' && v[n - 1] == '>') {
		v++;
		n -= 2;
	}
	if (n >= sizeof(inv->sender_buf))
		return err_set(err, ERR_USAGE, "-%c: sender address is too "
		    "long (%zu bytes, at most %d)", c, n, LIM_ADDR);
	for (p = v; p < v + n; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(err, ERR_USAGE, "-%c: sender address "
			    "contains control characters", c);
	memcpy(inv->sender_buf, v, n);
	inv->sender_buf[n] = '\0';
	inv->sender = inv->sender_buf;
	return 0;
}

static int
opt_O(const char *v, struct invocation *inv, struct err *err)
{
	const char *eq = strchr(v, '=');

	if (eq == NULL || (size_t)(eq - v) != 8 ||
	    strncasecmp(v, "smtputf8", 8) != 0)
		return 0;	/* other -O option=value: ignored */
	if (strcasecmp(eq + 1, "yes") == 0)
		inv->smtputf8 = 1;
	else if (strcasecmp(eq + 1, "no") == 0)
		inv->smtputf8 = -1;
	else
		return err_set(err, ERR_USAGE, "-O %s: use smtputf8=yes or "
		    "smtputf8=no", v);
	return 0;
}

static int
opt_V(const char *v, struct invocation *inv, struct err *err)
{
	const char *p;

	if (*v == '\0' || strlen(v) > 100)
		return err_set(err, ERR_USAGE, "-V: the envelope id must be "
		    "1 to 100 characters");
	for (p = v; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return err_set(err, ERR_USAGE, "-V: the envelope id "
			    "must be printable ASCII");
	inv->envid = v;
	return 0;
}

static int
opt_with_arg(int c, const char *v, struct invocation *inv, struct err *err)
{
	switch (c) {
	case 'a':
		if (*v == '\0')
			return err_set(err, ERR_USAGE, "-a needs an account "
			    "name");
		inv->account = v;
		return 0;
	case 'B':
		if (strcasecmp(v, "7BIT") == 0)
			inv->body = BODY_7BIT;
		else if (strcasecmp(v, "8BITMIME") == 0)
			inv->body = BODY_8BITMIME;
		else
			return err_set(err, ERR_USAGE, "-B %s: unsupported "
			    "body type; use 7BIT or 8BITMIME", v);
		return 0;
	case 'b':
		return opt_b(v, inv, err);
	case 'C':
		if (*v == '\0')
			return err_set(err, ERR_USAGE, "-C needs a file name");
		inv->config = v;
		return 0;
	case 'F':
		inv->fullname = v;
		return 0;
	case 'f':
	case 'r':
		return opt_sender(c, v, inv, err);
	case 'N':
		return parse_notify(v, inv, err);
	case 'O':
		return opt_O(v, inv, err);
	case 'o':
		opt_o(v, inv);
		return 0;
	case 'R':
		if (strcasecmp(v, "hdrs") == 0)
			inv->dsn_ret = "HDRS";
		else if (strcasecmp(v, "full") == 0)
			inv->dsn_ret = "FULL";
		else
			return err_set(err, ERR_USAGE, "-R %s: use -R hdrs or "
			    "-R full", v);
		return 0;
	case 'V':
		return opt_V(v, inv, err);
	case 'A':	/* -Am, -Ac */
	case 'e':	/* error mode */
	case 'h':	/* hop count */
	case 'L':	/* syslog label */
	case 'p':	/* protocol */
	case 'X':	/* traffic log file, -XV VERP */
		return 0;
	default:
		return err_set(err, ERR_INTERNAL, "option -%c", c);
	}
}

static int
opt_flag(int c, struct invocation *inv, struct err *err)
{
	switch (c) {
	case 'I':
		inv->mode = MODE_NEWALIASES;
		break;
	case 'i':
		inv->ignore_dots = 1;
		break;
	case 'n':
		return err_set(err, ERR_USAGE, "-n option not supported");
	case 't':
		inv->extract = 1;
		break;
	case 'v':
		inv->verbose++;
		break;
	case 'G':	/* gateway submission */
	case 'U':	/* initial user submission */
	case 'c':	/* hold expensive connections */
	case 'm':	/* me too */
	case 'x':	/* Postfix ignores it */
		break;
	default:
		return err_set(err, ERR_INTERNAL, "option -%c", c);
	}
	return 0;
}

/* The sendmail interface. */
static int
parse_sendmail(int argc, char **argv, struct invocation *inv,
    struct err *err)
{
	int i;
	const char *p, *v;

	for (i = 1; i < argc; i++) {
		p = argv[i];
		if (p[0] != '-' || p[1] == '\0')
			break;
		if (strcmp(p, "--") == 0) {
			i++;
			break;
		}
		if (p[1] == '-')
			return err_set(err, ERR_USAGE, "unknown option %s", p);
		for (p++; *p != '\0'; p++) {
			if (*p == 'q') {
				/* As Postfix: -q never takes the next word. */
				if (opt_q(p + 1, inv, err) == -1)
					return -1;
				break;
			}
			if (strchr(opts_flag, *p) != NULL) {
				if (opt_flag(*p, inv, err) == -1)
					return -1;
				continue;
			}
			if (strchr(opts_arg, *p) == NULL)
				return err_set(err, ERR_USAGE, "unknown option "
				    "-%c", *p);
			if (p[1] != '\0')
				v = p + 1;
			else if (i + 1 < argc)
				v = argv[++i];
			else
				return err_set(err, ERR_USAGE, "option -%c "
				    "needs a value", *p);
			if (opt_with_arg(*p, v, inv, err) == -1)
				return -1;
			break;
		}
	}
	inv->rcpts = argv + i;
	inv->nrcpts = (size_t)(argc - i);
	if (inv->mode == MODE_SEND && !inv->extract && inv->nrcpts == 0)
		return err_set(err, ERR_USAGE, "Recipient addresses must be "
		    "specified on the command line or via the -t option");
	if (inv->mode == MODE_VERIFY && inv->nrcpts == 0)
		return err_set(err, ERR_USAGE, "-bv needs the addresses to "
		    "verify, e.g. 'sendmail -bv root'");
	return 0;
}

int
args_parse(int argc, char **argv, struct invocation *inv, struct err *err)
{
	int r;

	memset(inv, 0, sizeof(*inv));
	inv->progname = base_name(argc > 0 ? argv[0] : NULL);
	if (argc < 1) {
		/* No argv[0] at all: sendmail without arguments. */
		return err_set(err, ERR_USAGE, "Recipient addresses must be "
		    "specified on the command line or via the -t option");
	}
	if (strcmp(inv->progname, "mailq") == 0)
		inv->mode = MODE_MAILQ;
	else if (strcmp(inv->progname, "newaliases") == 0)
		inv->mode = MODE_NEWALIASES;
	else if (strcmp(inv->progname, OM_PROGNAME) == 0 && argc >= 2) {
		if (strcmp(argv[1], "--help") == 0) {
			inv->mode = MODE_HELP;
			return 0;
		}
		if (strcmp(argv[1], "--version") == 0) {
			inv->mode = MODE_VERSION;
			return 0;
		}
		if ((r = args_cmd_parse(argc, argv, inv, err)) != 1)
			return r;
	}
	return parse_sendmail(argc, argv, inv, err);
}
