/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* test_args.c -- the sendmail command-line matrix (doc/design.md §4). */
#include "unit.h"

#include "args.h"
#include "status.h"

#define MAXARGS	32

/* What a command line must produce; unlisted fields must stay zero/NULL. */
struct want {
	enum inv_mode	 mode;
	enum inv_cmd	 cmd;
	const char	*cmd_account;
	enum inv_login	 login_flow;
	enum inv_secret	 secret_how;
	enum inv_format	 format;
	long long	 warn_age;
	long long	 crit_age;
	const char	*config;
	const char	*account;
	int		 verbose;
	int		 extract;
	int		 ignore_dots;
	const char	*sender;	/* "(null)" sentinel is NULL */
	const char	*fullname;
	enum inv_body	 body;
	const char	*dsn_notify;
	const char	*dsn_ret;
	const char	*envid;
	int		 smtputf8;
	enum inv_delivery delivery;
	enum inv_qselect qselect;
	const char	*qvalue;
	long long	 qinterval;
	const char	*rcpts[6];	/* NULL-terminated */
};

struct okcase {
	const char	*argv[MAXARGS];
	struct want	 w;
};

static const struct okcase okcases[] = {
	/* Debian cron. */
	{ { "/usr/sbin/sendmail", "-FCronDaemon", "-i", "-B8BITMIME", "-oem",
	    "root" },
	  { .fullname = "CronDaemon", .ignore_dots = 1,
	    .body = BODY_8BITMIME, .rcpts = { "root" } } },
	/* cronie. */
	{ { "sendmail", "-FCronDaemon", "-i", "-odi", "-oem", "-oi", "-t",
	    "-f", "root@host.example" },
	  { .fullname = "CronDaemon", .ignore_dots = 1, .extract = 1,
	    .delivery = DELIV_FOREGROUND, .sender = "root@host.example" } },
	/* Vixie cron. */
	{ { "sendmail", "-FCronDaemon", "-odi", "-oem", "-oi", "-t" },
	  { .fullname = "CronDaemon", .ignore_dots = 1, .extract = 1,
	    .delivery = DELIV_FOREGROUND } },
	/* PHP mail(). */
	{ { "sendmail", "-t", "-i" }, { .extract = 1, .ignore_dots = 1 } },
	{ { "sendmail", "-t", "-i", "-fsender@x.example" },
	  { .extract = 1, .ignore_dots = 1, .sender = "sender@x.example" } },
	{ { "sendmail", "-t", "-i", "-f", "sender@x.example" },
	  { .extract = 1, .ignore_dots = 1, .sender = "sender@x.example" } },
	/* PHPMailer. */
	{ { "sendmail", "-oi", "-fme@x.example", "-t" },
	  { .ignore_dots = 1, .sender = "me@x.example", .extract = 1 } },
	/* mutt / neomutt. */
	{ { "sendmail", "-oem", "-oi", "-B8BITMIME", "-f", "a@x.example", "-N",
	    "failure,delay", "-R", "hdrs", "--", "a@y.example", "b@y.example" },
	  { .ignore_dots = 1, .body = BODY_8BITMIME, .sender = "a@x.example",
	    .dsn_notify = "FAILURE,DELAY", .dsn_ret = "HDRS",
	    .rcpts = { "a@y.example", "b@y.example" } } },
	/* git send-email (no "--"). */
	{ { "sendmail", "-i", "-f", "x@x.example", "a@y.example", "b@y.example" },
	  { .ignore_dots = 1, .sender = "x@x.example",
	    .rcpts = { "a@y.example", "b@y.example" } } },
	/* Ruby mail gem. */
	{ { "sendmail", "-i", "-f", "x@x.example", "--", "a@y.example" },
	  { .ignore_dots = 1, .sender = "x@x.example",
	    .rcpts = { "a@y.example" } } },
	/* fail2ban, with and without brackets. */
	{ { "sendmail", "-f", "<fail2ban@h.example>", "root@h.example" },
	  { .sender = "fail2ban@h.example", .rcpts = { "root@h.example" } } },
	{ { "sendmail", "-f", "fail2ban", "dest@h.example" },
	  { .sender = "fail2ban", .rcpts = { "dest@h.example" } } },
	/* s-nail / bsd-mailx. */
	{ { "sendmail", "-i", "-m", "-v", "-F", "Full Name", "-f",
	    "me@x.example", "--", "you@y.example" },
	  { .ignore_dots = 1, .verbose = 1, .fullname = "Full Name",
	    .sender = "me@x.example", .rcpts = { "you@y.example" } } },
	/* BusyBox crond, logwatch, mdadm, unattended-upgrades. */
	{ { "sendmail", "-t", "-oem", "-i" }, { .extract = 1, .ignore_dots = 1 } },
	{ { "sendmail", "-t" }, { .extract = 1 } },
	{ { "sendmail", "-oi", "-t" }, { .ignore_dots = 1, .extract = 1 } },
	/* Grouped flags. */
	{ { "sendmail", "-ti" }, { .extract = 1, .ignore_dots = 1 } },
	{ { "sendmail", "-it", "-vv" },
	  { .extract = 1, .ignore_dots = 1, .verbose = 2 } },
	{ { "sendmail", "-tif", "me@x.example" },
	  { .extract = 1, .ignore_dots = 1, .sender = "me@x.example" } },
	{ { "sendmail", "-v", "-v", "-v", "a@b.example" },
	  { .verbose = 3, .rcpts = { "a@b.example" } } },
	/* -r synonym, null sender forms. */
	{ { "sendmail", "-r", "me@x.example", "a@b.example" },
	  { .sender = "me@x.example", .rcpts = { "a@b.example" } } },
	{ { "sendmail", "-f", "<>", "a@b.example" },
	  { .sender = "", .rcpts = { "a@b.example" } } },
	{ { "sendmail", "-f", "", "a@b.example" },
	  { .sender = "", .rcpts = { "a@b.example" } } },
	{ { "sendmail", "-f<>", "a@b.example" },
	  { .sender = "", .rcpts = { "a@b.example" } } },
	{ { "sendmail", "-f", "<<x@y>>", "a@b.example" },
	  { .sender = "<x@y>", .rcpts = { "a@b.example" } } },
	/* Symfony Mailer, queue and daemon modes. */
	{ { "sendmail", "-bs" }, { .mode = MODE_SMTP_STDIO } },
	{ { "sendmail", "-b", "s" }, { .mode = MODE_SMTP_STDIO } },
	{ { "sendmail", "-bp" }, { .mode = MODE_MAILQ } },
	{ { "sendmail", "-bm", "a@b.example" },
	  { .rcpts = { "a@b.example" } } },
	{ { "sendmail", "-bd" }, { .mode = MODE_DAEMON } },
	{ { "sendmail", "-bl" }, { .mode = MODE_DAEMON } },
	{ { "sendmail", "-bi" }, { .mode = MODE_NEWALIASES } },
	{ { "sendmail", "-I" }, { .mode = MODE_NEWALIASES } },
	{ { "sendmail", "-bh" }, { .mode = MODE_NOOP } },
	{ { "sendmail", "-bH" }, { .mode = MODE_NOOP } },
	{ { "sendmail", "-q" }, { .mode = MODE_FLUSH } },
	{ { "sendmail", "-v", "-q" }, { .mode = MODE_FLUSH, .verbose = 1 } },
	{ { "sendmail", "-qRexample.com" },
	  { .mode = MODE_FLUSH, .qselect = QSEL_RCPT, .qvalue = "example.com" } },
	{ { "sendmail", "-qI4AB3" },
	  { .mode = MODE_FLUSH, .qselect = QSEL_ID, .qvalue = "4AB3" } },
	{ { "sendmail", "-qSme@x" },
	  { .mode = MODE_FLUSH, .qselect = QSEL_SENDER, .qvalue = "me@x" } },
	{ { "sendmail", "-q30m" }, { .mode = MODE_DAEMON, .qinterval = 1800 } },
	{ { "sendmail", "-bd", "-q1h30m" },
	  { .mode = MODE_DAEMON, .qinterval = 5400 } },
	{ { "sendmail", "-q15" }, { .mode = MODE_DAEMON, .qinterval = 900 } },
	{ { "sendmail", "-q45s" }, { .mode = MODE_DAEMON, .qinterval = 45 } },
	/* Delivery modes. */
	{ { "sendmail", "-odq", "a@b.example" },
	  { .delivery = DELIV_QUEUE, .rcpts = { "a@b.example" } } },
	{ { "sendmail", "-odd", "a@b.example" },
	  { .delivery = DELIV_QUEUE, .rcpts = { "a@b.example" } } },
	{ { "sendmail", "-odb", "a@b.example" },
	  { .delivery = DELIV_BACKGROUND, .rcpts = { "a@b.example" } } },
	{ { "sendmail", "-odf", "a@b.example" },
	  { .delivery = DELIV_FOREGROUND, .rcpts = { "a@b.example" } } },
	{ { "sendmail", "-o", "i", "a@b.example" },
	  { .ignore_dots = 1, .rcpts = { "a@b.example" } } },
	/* Ignored options, with and without their arguments. */
	{ { "sendmail", "-Am", "-Ac", "-c", "-x", "-m", "-U", "-G", "-e", "m",
	    "-h", "17", "-L", "label", "-p", "smtp:host", "-X", "/tmp/log",
	    "-o7", "-o8", "-om", "-oQ/var/spool", "-oAalias", "-XV",
	    "a@b.example" },
	  { .rcpts = { "a@b.example" } } },
	{ { "sendmail", "-O", "requiretls=yes", "-O", "foo=bar", "a@b.example" },
	  { .rcpts = { "a@b.example" } } },
	/* DSN and SMTPUTF8. */
	{ { "sendmail", "-N", "never", "-Rfull", "-V", "id-1", "a@b.example" },
	  { .dsn_notify = "NEVER", .dsn_ret = "FULL", .envid = "id-1",
	    .rcpts = { "a@b.example" } } },
	{ { "sendmail", "-N", "DELAY,success, failure", "a@b.example" },
	  { .dsn_notify = "SUCCESS,FAILURE,DELAY",
	    .rcpts = { "a@b.example" } } },
	{ { "sendmail", "-Nsuccess", "a@b.example" },
	  { .dsn_notify = "SUCCESS", .rcpts = { "a@b.example" } } },
	{ { "sendmail", "-O", "smtputf8=yes", "a@b.example" },
	  { .smtputf8 = 1, .rcpts = { "a@b.example" } } },
	{ { "sendmail", "-OSMTPUTF8=no", "a@b.example" },
	  { .smtputf8 = -1, .rcpts = { "a@b.example" } } },
	{ { "sendmail", "-B", "7bit", "a@b.example" },
	  { .body = BODY_7BIT, .rcpts = { "a@b.example" } } },
	/* -a and -C. */
	{ { "sendmail", "-a", "work", "-C", "/etc/x.conf", "a@b.example" },
	  { .account = "work", .config = "/etc/x.conf",
	    .rcpts = { "a@b.example" } } },
	{ { "sendmail", "-awork", "-C/etc/x.conf", "a@b.example" },
	  { .account = "work", .config = "/etc/x.conf",
	    .rcpts = { "a@b.example" } } },
	/* Options stop at the first operand; "-" is an operand. */
	{ { "sendmail", "a@b.example", "-t", "-v" },
	  { .rcpts = { "a@b.example", "-t", "-v" } } },
	{ { "sendmail", "-i", "--", "-t" },
	  { .ignore_dots = 1, .rcpts = { "-t" } } },
	{ { "sendmail", "-", "x" }, { .rcpts = { "-", "x" } } },
	/* -t with command-line recipients (added, as Postfix). */
	{ { "sendmail", "-t", "extra@b.example" },
	  { .extract = 1, .rcpts = { "extra@b.example" } } },
	/* Names. */
	{ { "/usr/bin/mailq" }, { .mode = MODE_MAILQ } },
	{ { "mailq", "-v" }, { .mode = MODE_MAILQ, .verbose = 1 } },
	{ { "newaliases" }, { .mode = MODE_NEWALIASES } },
	{ { "/usr/lib/sendmail", "-bp" }, { .mode = MODE_MAILQ } },
	/* oauthmail: management words, --help, --version. */
	{ { "oauthmail", "--help" }, { .mode = MODE_HELP } },
	{ { "/usr/bin/oauthmail", "--version" }, { .mode = MODE_VERSION } },
	{ { "oauthmail", "login", "work" },
	  { .mode = MODE_COMMAND, .cmd = CMD_LOGIN, .cmd_account = "work" } },
	{ { "oauthmail", "login", "work", "--device", "-C", "/x.conf" },
	  { .mode = MODE_COMMAND, .cmd = CMD_LOGIN, .cmd_account = "work",
	    .login_flow = LOGIN_DEVICE, .config = "/x.conf" } },
	{ { "oauthmail", "login", "--browser", "-v", "work" },
	  { .mode = MODE_COMMAND, .cmd = CMD_LOGIN, .cmd_account = "work",
	    .login_flow = LOGIN_BROWSER, .verbose = 1 } },
	{ { "oauthmail", "logout", "-C/x.conf", "work" },
	  { .mode = MODE_COMMAND, .cmd = CMD_LOGOUT, .cmd_account = "work",
	    .config = "/x.conf" } },
	{ { "oauthmail", "status" }, { .mode = MODE_COMMAND, .cmd = CMD_STATUS } },
	{ { "oauthmail", "status", "home", "-vv" },
	  { .mode = MODE_COMMAND, .cmd = CMD_STATUS, .cmd_account = "home",
	    .verbose = 2 } },
	{ { "oauthmail", "check", "w" },
	  { .mode = MODE_COMMAND, .cmd = CMD_CHECK, .cmd_account = "w" } },
	{ { "oauthmail", "token", "w" },
	  { .mode = MODE_COMMAND, .cmd = CMD_TOKEN, .cmd_account = "w" } },
	{ { "oauthmail", "secret", "--", "-w" },
	  { .mode = MODE_COMMAND, .cmd = CMD_SECRET, .cmd_account = "-w" } },
	{ { "oauthmail", "secret", "w", "--systemd-credential" },
	  { .mode = MODE_COMMAND, .cmd = CMD_SECRET, .cmd_account = "w",
	    .secret_how = SECRET_SYSTEMD } },
	{ { "oauthmail", "secret", "--seal-key" },
	  { .mode = MODE_COMMAND, .cmd = CMD_SECRET,
	    .secret_how = SECRET_SEAL_KEY } },
	{ { "oauthmail", "password", "w" },
	  { .mode = MODE_COMMAND, .cmd = CMD_PASSWORD, .cmd_account = "w" } },
	{ { "oauthmail", "queue" }, { .mode = MODE_MAILQ } },
	{ { "oauthmail", "queue", "--json" },
	  { .mode = MODE_MAILQ, .format = FMT_JSON } },
	{ { "oauthmail", "status", "--json", "w" },
	  { .mode = MODE_COMMAND, .cmd = CMD_STATUS, .cmd_account = "w",
	    .format = FMT_JSON } },
	{ { "oauthmail", "status", "--prometheus" },
	  { .mode = MODE_COMMAND, .cmd = CMD_STATUS,
	    .format = FMT_PROMETHEUS } },
	{ { "oauthmail", "check", "--nagios" },
	  { .mode = MODE_COMMAND, .cmd = CMD_CHECK, .format = FMT_NAGIOS } },
	{ { "oauthmail", "check", "w", "--nagios", "-w", "30m", "-c2h" },
	  { .mode = MODE_COMMAND, .cmd = CMD_CHECK, .cmd_account = "w",
	    .format = FMT_NAGIOS, .warn_age = 1800, .crit_age = 7200 } },
	{ { "oauthmail", "flush", "-v" }, { .mode = MODE_FLUSH, .verbose = 1 } },
	/* oauthmail with anything else: the sendmail interface. */
	{ { "oauthmail", "-t" }, { .extract = 1 } },
	{ { "oauthmail", "login@example.com" },
	  { .rcpts = { "login@example.com" } } },
	/* Global options before the command word (git style). */
	{ { "oauthmail", "-C", "/x.conf", "status" },
	  { .mode = MODE_COMMAND, .cmd = CMD_STATUS, .config = "/x.conf" } },
	{ { "oauthmail", "-C/x.conf", "-v", "-a", "w", "check" },
	  { .mode = MODE_COMMAND, .cmd = CMD_CHECK, .cmd_account = "w",
	    .config = "/x.conf", .verbose = 1 } },
	{ { "oauthmail", "-aw", "login", "w", "--device" },
	  { .mode = MODE_COMMAND, .cmd = CMD_LOGIN, .cmd_account = "w",
	    .login_flow = LOGIN_DEVICE } },
	{ { "oauthmail", "-vv", "-C", "/x.conf", "flush" },
	  { .mode = MODE_FLUSH, .config = "/x.conf", .verbose = 2 } },
	/* A value of an option is not the command word. */
	{ { "oauthmail", "-C", "status", "bob" },
	  { .config = "status", .rcpts = { "bob" } } },
	{ { "oauthmail", "-i", "--", "login" },
	  { .ignore_dots = 1, .rcpts = { "login" } } },
	/* -bv: where root goes. */
	{ { "sendmail", "-bv", "root", "a@b" },
	  { .mode = MODE_VERIFY, .rcpts = { "root", "a@b" } } },
	/* Management words mean nothing under the sendmail name. */
	{ { "sendmail", "login" }, { .rcpts = { "login" } } },
};

struct badcase {
	const char	*argv[MAXARGS];
	const char	*msg;		/* substring of the error */
};

static const struct badcase badcases[] = {
	{ { "sendmail", "-n", "a@b" }, "-n option not supported" },
	{ { "sendmail", "-B", "BINARYMIME", "a@b" }, "-B BINARYMIME" },
	{ { "sendmail", "-bv" }, "-bv needs the addresses" },
	{ { "sendmail", "-bz" }, "-bz" },
	{ { "sendmail", "-bpx" }, "-bpx" },
	{ { "sendmail", "-k", "a@b" }, "unknown option -k" },
	{ { "sendmail", "-tk", "a@b" }, "unknown option -k" },
	{ { "sendmail", "--help" }, "unknown option --help" },
	{ { "sendmail", "-f" }, "option -f needs a value" },
	{ { "sendmail", "-t", "-F" }, "option -F needs a value" },
	{ { "sendmail", "-N", "sometimes", "a@b" }, "-N" },
	{ { "sendmail", "-N", "never,failure", "a@b" }, "-N" },
	{ { "sendmail", "-N", ",", "a@b" }, "-N" },
	{ { "sendmail", "-R", "body", "a@b" }, "-R body" },
	{ { "sendmail", "-V", "", "a@b" }, "-V" },
	{ { "sendmail", "-V", "a b\x01", "a@b" }, "-V" },
	{ { "sendmail", "-O", "smtputf8=maybe", "a@b" }, "smtputf8" },
	{ { "sendmail", "-qX" }, "-qX" },
	{ { "sendmail", "-qR" }, "-qR needs a value" },
	{ { "sendmail", "-q0" }, "interval" },
	{ { "sendmail", "-q5x" }, "interval" },
	{ { "sendmail", "-f", "a\nb@x", "a@b" }, "control" },
	{ { "sendmail" }, "Recipient addresses must be specified" },
	{ { "sendmail", "-i", "-oem" }, "Recipient addresses must be specified" },
	{ { "sendmail", "-i", "--" }, "Recipient addresses must be specified" },
	{ { "oauthmail" }, "Recipient addresses must be specified" },
	{ { "oauthmail", "login" }, "needs an ACCOUNT" },
	{ { "oauthmail", "logout" }, "needs an ACCOUNT" },
	{ { "oauthmail", "token", "-v" }, "needs an ACCOUNT" },
	{ { "oauthmail", "login", "a", "b" }, "unexpected argument 'b'" },
	{ { "oauthmail", "queue", "x" }, "unexpected argument 'x'" },
	{ { "oauthmail", "check", "a", "--device" }, "--device is only valid" },
	{ { "oauthmail", "check" }, "needs an ACCOUNT" },
	{ { "oauthmail", "check", "a", "--json" }, "--json is only valid" },
	{ { "oauthmail", "status", "--nagios" }, "--nagios is only valid" },
	{ { "oauthmail", "queue", "--prometheus" }, "--prometheus is only" },
	{ { "oauthmail", "check", "--nagios", "-w", "soon" }, "-w soon" },
	{ { "oauthmail", "check", "--nagios", "-c" }, "-c needs an age" },
	{ { "oauthmail", "check", "a", "-w", "1h" }, "only valid with" },
	{ { "oauthmail", "login", "a", "-t" }, "unknown option -t" },
	{ { "oauthmail", "token", "a", "--systemd-credential" },
	  "--systemd-credential is only valid with 'oauthmail secret'" },
	{ { "oauthmail", "secret", "--systemd-credential" }, "needs an ACCOUNT" },
	{ { "oauthmail", "secret", "w", "--seal-key" }, "takes no ACCOUNT" },
	{ { "oauthmail", "login", "w", "--seal-key" }, "only valid with" },
	{ { "oauthmail", "login", "a", "-C" }, "-C needs a file name" },
	{ { "oauthmail", "-h" }, "option -h needs a value" },
	/* Never a message to "status" because an option came first. */
	{ { "oauthmail", "-i", "login" }, "-i is a sendmail option" },
	{ { "oauthmail", "-t", "status" }, "-t is a sendmail option" },
	{ { "oauthmail", "-a", "w", "queue" }, "takes no ACCOUNT" },
	{ { "oauthmail", "-a", "w", "login", "v" }, "two accounts" },
};

static int
make_argv(const char *const src[MAXARGS], char *dst[MAXARGS + 1])
{
	int n = 0;

	while (n < MAXARGS && src[n] != NULL) {
		dst[n] = (char *)src[n];
		n++;
	}
	dst[n] = NULL;
	return n;
}

static void
assert_str(const char *got, const char *want, const char *field, size_t i)
{
	if (want == NULL && got == NULL)
		return;
	if (want == NULL || got == NULL || strcmp(got, want) != 0)
		fail_msg("case %zu: %s: got '%s', want '%s'", i, field,
		    got ? got : "(null)", want ? want : "(null)");
}

static void
test_ok_matrix(void **state)
{
	struct invocation inv;
	struct err err;
	char *argv[MAXARGS + 1];
	size_t i, r;
	int argc;

	(void)state;
	for (i = 0; i < nitems(okcases); i++) {
		const struct want *w = &okcases[i].w;

		argc = make_argv(okcases[i].argv, argv);
		err_clear(&err);
		if (args_parse(argc, argv, &inv, &err) != 0)
			fail_msg("case %zu (%s %s): unexpected error: %s", i,
			    argv[0], argc > 1 ? argv[1] : "", err.msg);
		if (inv.mode != w->mode || inv.cmd != w->cmd ||
		    inv.login_flow != w->login_flow ||
		    inv.secret_how != w->secret_how ||
		    inv.format != w->format || inv.warn_age != w->warn_age ||
		    inv.crit_age != w->crit_age ||
		    inv.verbose != w->verbose || inv.extract != w->extract ||
		    inv.ignore_dots != w->ignore_dots || inv.body != w->body ||
		    inv.smtputf8 != w->smtputf8 ||
		    inv.delivery != w->delivery ||
		    inv.qselect != w->qselect ||
		    inv.qinterval != w->qinterval)
			fail_msg("case %zu: mode %d/%d cmd %d/%d flow %d v %d/%d "
			    "t %d/%d i %d/%d B %d utf8 %d od %d/%d q %d %lld/%lld",
			    i, inv.mode, w->mode, inv.cmd, w->cmd,
			    inv.login_flow, inv.verbose, w->verbose,
			    inv.extract, w->extract, inv.ignore_dots,
			    w->ignore_dots, inv.body, inv.smtputf8,
			    inv.delivery, w->delivery, inv.qselect,
			    inv.qinterval, w->qinterval);
		assert_str(inv.cmd_account, w->cmd_account, "cmd_account", i);
		assert_str(inv.config, w->config, "config", i);
		assert_str(inv.account, w->account, "account", i);
		assert_str(inv.sender, w->sender, "sender", i);
		assert_str(inv.fullname, w->fullname, "fullname", i);
		assert_str(inv.dsn_notify, w->dsn_notify, "dsn_notify", i);
		assert_str(inv.dsn_ret, w->dsn_ret, "dsn_ret", i);
		assert_str(inv.envid, w->envid, "envid", i);
		assert_str(inv.qvalue, w->qvalue, "qvalue", i);
		for (r = 0; w->rcpts[r] != NULL; r++) {
			if (r >= inv.nrcpts)
				fail_msg("case %zu: %zu recipients, want more",
				    i, inv.nrcpts);
			assert_str(inv.rcpts[r], w->rcpts[r], "rcpt", i);
		}
		if (inv.mode != MODE_HELP && inv.mode != MODE_VERSION &&
		    inv.mode != MODE_COMMAND && r != inv.nrcpts)
			fail_msg("case %zu: %zu recipients, want %zu", i,
			    inv.nrcpts, r);
	}
}

static void
test_bad_matrix(void **state)
{
	struct invocation inv;
	struct err err;
	char *argv[MAXARGS + 1];
	size_t i;
	int argc;

	(void)state;
	for (i = 0; i < nitems(badcases); i++) {
		argc = make_argv(badcases[i].argv, argv);
		err_clear(&err);
		if (args_parse(argc, argv, &inv, &err) != -1)
			fail_msg("bad case %zu (%s): accepted", i,
			    badcases[i].msg);
		if (err.class != ERR_USAGE)
			fail_msg("bad case %zu: class %d", i, err.class);
		if (strstr(err.msg, badcases[i].msg) == NULL)
			fail_msg("bad case %zu: message '%s' lacks '%s'", i,
			    err.msg, badcases[i].msg);
	}
}

/* The parser must not write into argv. */
static void
test_argv_untouched(void **state)
{
	char a0[] = "sendmail", a1[] = "-f", a2[] = "<me@x.example>",
	    a3[] = "you@y.example";
	char *argv[] = { a0, a1, a2, a3, NULL };
	struct invocation inv;
	struct err err;

	(void)state;
	assert_int_equal(args_parse(4, argv, &inv, &err), 0);
	assert_string_equal(inv.sender, "me@x.example");
	assert_string_equal(a2, "<me@x.example>");
	assert_ptr_equal(inv.rcpts, &argv[3]);
	assert_string_equal(inv.progname, "sendmail");
}

static void
test_long_sender(void **state)
{
	static char big[LIM_ADDR + 10];
	char a0[] = "sendmail", a1[] = "-f", a3[] = "x@y";
	char *argv[] = { a0, a1, big, a3, NULL };
	struct invocation inv;
	struct err err;

	(void)state;
	memset(big, 'a', sizeof(big) - 1);
	assert_int_equal(args_parse(4, argv, &inv, &err), -1);
	assert_int_equal(err.class, ERR_USAGE);
	assert_non_null(strstr(err.msg, "too long"));
	big[LIM_ADDR] = '\0';
	assert_int_equal(args_parse(4, argv, &inv, &err), 0);
	assert_int_equal(strlen(inv.sender), LIM_ADDR);
}

static void
test_usage_text(void **state)
{
	const char *u = args_usage();
	static const char *const must[] = {
	    "-t", "-i", "-f", "-bs", "-bp", "-q", "-odq", "-N", "-R",
	    "login", "logout", "status", "check", "token", "secret",
	    "password", "queue", "flush", "--device", "--help", "mailq",
	};
	size_t i;

	(void)state;
	for (i = 0; i < nitems(must); i++)
		if (strstr(u, must[i]) == NULL)
			fail_msg("usage lacks %s", must[i]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ok_matrix),
		cmocka_unit_test(test_bad_matrix),
		cmocka_unit_test(test_argv_untouched),
		cmocka_unit_test(test_long_sender),
		cmocka_unit_test(test_usage_text),
	};

	return cmocka_run_group_tests_name("args", tests, NULL, NULL);
}
