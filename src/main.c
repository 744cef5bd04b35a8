/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * main.c -- oauthmail: a sendmail-compatible, relay-only MTA that submits
 * over OAuth-authenticated SMTP. Checks the process, parses the command
 * line and the configuration, and dispatches: enqueue (stdin -> spool, then
 * deliver now, in the background or not at all), queue runs, mailq,
 * newaliases and the management commands. The only place that exits with
 * a status derived from a struct err.
 */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "addr.h"
#include "aliases.h"
#include "args.h"
#include "bs.h"
#include "cmd.h"
#include "conf.h"
#include "daemon.h"
#include "deliver.h"
#include "envelope.h"
#include "import.h"
#include "intake.h"
#include "log.h"
#include "queue.h"
#include "report.h"
#include "runq.h"
#include "runq_list.h"
#include "setup.h"
#include "sizecache.h"
#include "status.h"
#include "submit.h"
#include "sysq.h"
#include "util.h"
#include "verify.h"
#include "version.h"
#include "xmalloc.h"

/* Every non-zero exit prints one line that says what happened. */
static OM_DEAD void
die(const struct err *e)
{
	fprintf(stderr, "%s: %s\n", OM_PROGNAME, e->msg);
	exit(err_exitcode(e));
}

/* The saved set-group-id of a set-gid run (the spool group), else -1. */
static gid_t spool_gid = (gid_t)-1;

/*
 * Set-id: a set-user-id binary is always refused. A set-group-id one (the
 * system-mode installation, 2755 root:oauthmail) gives up the group at
 * once, keeping it only as the saved gid; main() refuses to go on unless
 * /etc/oauthmail.conf says "mode system" (and takes it back only around
 * the creation of one maildrop file: OpenSMTPD smtpctl's pattern; a -bs
 * session leaves that to a helper process, see submit.h).
 */
static void
check_process(void)
{
	struct rlimit rl = { 0, 0 };
	gid_t rgid = getgid();
	int fd;

	/* fds 0-2 must be open, or a later open() could become stdout. */
	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		(void)close(fd);
	(void)signal(SIGPIPE, SIG_IGN);
	umask(077);
	/* No core dumps: tokens are held in memory. */
	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (getuid() != geteuid()) {
		fprintf(stderr, "%s: refusing to run set-user-id; remove the "
		    "set-user-id bit from the binary (chmod u-s)\n",
		    OM_PROGNAME);
		exit(EX_CONFIG);
	}
	if (rgid != getegid()) {
		spool_gid = getegid();
		if (setresgid(rgid, rgid, spool_gid) == -1) {
			fprintf(stderr, "%s: setresgid: %s\n", OM_PROGNAME,
			    strerror(errno));
			exit(EX_OSERR);
		}
	}
}

/* Gives up the spool group for good (real, effective and saved). */
static void
drop_group(void)
{
	gid_t r, e, s, g = getgid();

	if (spool_gid == (gid_t)-1)
		return;
	if (setresgid(g, g, g) == -1 || getresgid(&r, &e, &s) == -1 ||
	    r != g || e != g || s != g) {
		fprintf(stderr, "%s: cannot drop the spool group\n",
		    OM_PROGNAME);
		_exit(EX_OSERR);
	}
	spool_gid = (gid_t)-1;
}

/*
 * Opens a configuration for a set-gid run once and checks what was opened
 * (fstat): a regular file owned by root and writable by nobody else.
 * Nothing can swap the file between the check and the parse: both use
 * this descriptor. A name the caller gave (-C) must not be a symbolic
 * link (nofollow); the built-in path may be one, as configuration
 * managers make them: root put it there.
 */
static int
open_root_config(const char *path, int nofollow, struct err *err)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC |
	    (nofollow ? O_NOFOLLOW : 0));
	if (fd == -1 && errno == ELOOP)
		return err_set(err, ERR_CONFIG, "%s: is a symbolic link; a "
		    "set-group-id run reads only a configuration that root "
		    "alone can change: name the file itself with -C", path);
	if (fd == -1)
		return err_set(err, ERR_CONFIG, "%s: %s; fix the path or its "
		    "permissions", path, strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		return err_set(err, ERR_CONFIG, "%s: not a regular file; a "
		    "set-group-id run reads only a configuration file that "
		    "root alone can change", path);
	}
	if (st.st_uid != 0 || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		(void)close(fd);
		return err_set(err, ERR_CONFIG, "%s: a set-group-id run reads "
		    "only a configuration that root alone can change, and it "
		    "is owned by uid %lu, mode %03o; run 'chown root %s' and "
		    "'chmod 644 %s'", path, (unsigned long)st.st_uid,
		    (unsigned)(st.st_mode & 0777), path, path);
	}
	return fd;
}

/*
 * A set-gid run reads only a configuration root alone controls:
 * SYSCONFDIR/oauthmail.conf, or -C FILE when FILE and every directory above
 * it are root's (conf_root_only_path); $OAUTHMAIL_CONFIG and the XDG file
 * are ignored. The file is opened once (open_root_config). It must say
 * "mode system".
 */
static void
load_setid_config(const struct invocation *inv, struct config *cf)
{
	struct err err;
	const char *path = SYSCONFDIR "/oauthmail.conf";
	int fd;

	err_clear(&err);
	if (inv->config != NULL) {
		if (conf_root_only_path(inv->config, &err) == -1)
			die(&err);
		path = inv->config;
	}
	if ((fd = open_root_config(path, inv->config != NULL, &err)) == -1)
		die(&err);
	if (conf_load_fd(fd, path, cf, &err) == -1)
		die(&err);
	(void)close(fd);
	if (!cf->system_mode) {
		fprintf(stderr, "%s: installed set-group-id, but %s does not "
		    "say 'mode system'; remove the set-group-id bit (chmod "
		    "g-s) or configure system mode (oauthmail(8), SYSTEM "
		    "MODE)\n", OM_PROGNAME, path);
		exit(EX_CONFIG);
	}
}

static void
setup_logging(const struct invocation *inv, const struct account *acct)
{
	int to_syslog = acct != NULL ? acct->syslog : 1;

	log_init(inv->verbose, to_syslog, OM_PROGNAME);
	if (acct != NULL && acct->logfile != NULL &&
	    log_set_file(acct->logfile) == -1)
		log_warn("cannot open log file %s", acct->logfile);
}

static const struct account *
queue_account(const struct config *cf)
{
	if (cf->def != NULL)
		return cf->def;
	return cf->naccounts > 0 ? cf->accounts[0] : NULL;
}

static void
open_queue(const struct account *acct, struct queue *q)
{
	struct err err;

	err_clear(&err);
	if (queue_open(q, acct != NULL ? acct->queue_dir : NULL, &err) == -1)
		die(&err);
}

/* A temporary outcome is fine for callers (mail is queued), but say it on a terminal. */
static void
tell_user(const char *id, const char *what, const char *why)
{
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "%s: %s %s: %s\n", OM_PROGNAME, id, what, why);
}

/* What the caller learns of a message delivered in the foreground. */
static int
report(const char *id, enum deliver_outcome out, const struct err *why)
{
	switch (out) {
	case DOUT_SENT:
		break;
	case DOUT_DEFERRED:
	case DOUT_SKIPPED:
		tell_user(id, "queued, will retry", why->msg);
		break;
	case DOUT_HELD:
		tell_user(id, "held, will retry once fixed", why->msg);
		break;
	case DOUT_PARTIAL:
	case DOUT_FAILED:
		/*
		 * Synchronous permanent refusal: the caller learns it from
		 * the exit code; no bounce is sent, a copy stays in failed/.
		 */
		fprintf(stderr, "%s: %s\n", OM_PROGNAME, why->msg);
		break;
	}
	return submit_exitcode(out, why);
}

static int
do_send(const struct invocation *inv, const struct config *cf)
{
	struct err err, why;
	struct account *acct;
	struct aliases *al = NULL;
	struct queue q;
	enum deliver_outcome out;
	int rc = EX_OK;
	char *id;

	err_clear(&err);
	acct = conf_select(cf, inv->account, inv->sender, &err);
	if (acct == NULL)
		die(&err);
	setup_logging(inv, acct);
	if (acct->aliases != NULL &&
	    aliases_load(acct->aliases, &al, &err) == -1)
		die(&err);
	open_queue(acct, &q);
	if (submit_spool(&q, inv, acct, al, stdin, &id, &err) == -1)
		die(&err);
	/* From here on the message is safe on disk. */
	if (al != NULL)
		aliases_free(al);
	if (submit_deliver(cf, acct, &q, id, submit_delivery_mode(inv, acct),
	    &out, &why) == SUBMIT_TRIED)
		rc = report(id, out, &why);
	/* No leak at exit: LeakSanitizer and valgrind check this path. */
	free(id);
	queue_close(&q);
	return rc;
}

/*
 * System mode: the message goes to the maildrop for the delivery daemon;
 * this process never touches a keyring or the queue. The spool group is
 * held only for the open() of the drop file, and given up for good before
 * stdin is read.
 */
static int
do_system_send(const struct invocation *inv, const struct config *cf)
{
	struct err err;
	struct account *acct;
	struct aliases *al = NULL;
	struct sysq_drop d;
	int rc;

	err_clear(&err);
	/* For the From: added and the aliases; the daemon decides again. */
	if ((acct = conf_select(cf, inv->account, inv->sender, &err)) == NULL) {
		drop_group();
		die(&err);
	}
	log_init(inv->verbose, acct->syslog, OM_PROGNAME);
	rc = submit_drop_create(cf, spool_gid, &d, &err);
	drop_group();
	if (rc == -1)
		die(&err);
	if (acct->aliases != NULL &&
	    aliases_load(acct->aliases, &al, &err) == -1) {
		sysq_drop_abort(&d);
		die(&err);
	}
	if (sysq_drop_write(&d, inv, acct, al, stdin, &err) == -1) {
		sysq_drop_abort(&d);
		if (al != NULL)
			aliases_free(al);
		die(&err);
	}
	log_info("%s: dropped for the delivery daemon (uid %lu)", d.name,
	    (unsigned long)getuid());
	if (al != NULL)
		aliases_free(al);
	return EX_OK;
}

/*
 * -bs. In system mode each message goes to the maildrop: a helper keeps
 * the spool group to create the drop files, this process drops it for
 * good before it reads a line.
 */
static int
do_smtp_stdio(const struct invocation *inv, const struct config *cf)
{
	struct submit_dropper dr;
	struct err err;
	int rc;

	if (!cf->system_mode) {
		drop_group();
		return bs_run(inv, cf, NULL);
	}
	err_clear(&err);
	rc = submit_dropper_start(&dr, cf, spool_gid, &err);
	drop_group();
	if (rc == -1)
		die(&err);
	rc = bs_run(inv, cf, &dr);
	submit_dropper_stop(&dr);
	return rc;
}

static int
do_flush(const struct invocation *inv, const struct config *cf, int force)
{
	struct err err;
	struct queue q;

	err_clear(&err);
	setup_logging(inv, queue_account(cf));
	open_queue(queue_account(cf), &q);
	if (runq_flush(cf, &q, inv->qselect, inv->qvalue, force, &err) == -1) {
		/* Mail that could not go stays queued: that is not an error. */
		log_info("queue run: %s", err.msg);
	}
	queue_close(&q);
	return EX_OK;
}

static OM_DEAD void
do_daemon(const struct invocation *inv, const struct config *cf)
{
	int rc;

	setup_logging(inv, queue_account(cf));
	rc = daemon_run(inv, cf);
	exit(rc);
}

static int
do_mailq(const struct invocation *inv, const struct config *cf)
{
	struct err err;
	struct queue q;

	err_clear(&err);
	setup_logging(inv, queue_account(cf));
	if (cf->system_mode && queue_account(cf) != NULL) {
		struct stat st;
		const char *dir = queue_account(cf)->queue_dir;

		/* Only the daemon's user sees the system queue. */
		if (stat(dir, &st) == -1 || st.st_uid != getuid()) {
			fprintf(stderr, "%s: system mode: the queue is "
			    "readable only by its owner; run 'sudo -u "
			    "oauthmail mailq'\n", OM_PROGNAME);
			/* A script must not take silence for an empty queue. */
			return inv->format == FMT_JSON ? EX_CONFIG : EX_OK;
		}
	}
	open_queue(queue_account(cf), &q);
	if (inv->format == FMT_JSON ?
	    report_queue(cf, &q, stdout, time(NULL), &err) == -1 :
	    runq_list(&q, stdout, &err) == -1)
		die(&err);
	queue_close(&q);
	return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
}

static int
do_newaliases(const struct config *cf)
{
	struct aliases *al;
	struct err err;
	size_t i;

	for (i = 0; i < cf->naccounts; i++) {
		if (cf->accounts[i]->aliases == NULL)
			continue;
		err_clear(&err);
		if (aliases_load(cf->accounts[i]->aliases, &al, &err) == -1 ||
		    aliases_check(al, &err) == -1)
			die(&err);
		aliases_free(al);
	}
	return EX_OK;
}

int
main(int argc, char **argv)
{
	struct invocation inv;
	struct config cf;
	struct err err;
	int rc;

	check_process();
	err_clear(&err);
	if (args_parse(argc, argv, &inv, &err) == -1) {
		if (inv.format == FMT_NAGIOS)
			return report_nagios_unknown(stdout, err.msg);
		fprintf(stderr, "%s: %s\n%s", OM_PROGNAME, err.msg,
		    args_usage());
		return EX_USAGE;
	}
	log_init(inv.verbose, 0, OM_PROGNAME);
	switch (inv.mode) {
	case MODE_HELP:
		fputs(args_usage(), stdout);
		return EX_OK;
	case MODE_VERSION:
		version_print(stdout);
		return fflush(stdout) == 0 ? EX_OK : EX_IOERR;
	case MODE_NOOP:
		return EX_OK;
	default:
		break;
	}
	if (inv.mode == MODE_COMMAND && inv.cmd == CMD_IMPORT_MSMTPRC) {
		/* Reads an msmtprc, not the configuration. */
		drop_group();
		return import_msmtprc_run(&inv);
	}
	if (inv.mode == MODE_COMMAND && inv.cmd == CMD_SETUP) {
		/* Writes the configuration; there may be none yet. */
		drop_group();
		return setup_run(&inv);
	}
	memset(&cf, 0, sizeof(cf));
	if (spool_gid != (gid_t)-1) {
		load_setid_config(&inv, &cf);
		/* Only a submission ever uses the group. */
		if (inv.mode != MODE_SEND && inv.mode != MODE_SMTP_STDIO)
			drop_group();
	} else if (conf_load(inv.config, &cf, &err) == -1) {
		if (inv.format == FMT_NAGIOS)
			return report_nagios_unknown(stdout, err.msg);
		die(&err);
	}
	/* Where SMTP sessions record the server's SIZE (sizecache.h). */
	sizecache_setup(&cf);
	switch (inv.mode) {
	case MODE_SEND:
		rc = cf.system_mode ? do_system_send(&inv, &cf) :
		    do_send(&inv, &cf);
		break;
	case MODE_SMTP_STDIO:
		rc = do_smtp_stdio(&inv, &cf);
		break;
	case MODE_MAILQ:
		rc = do_mailq(&inv, &cf);
		break;
	case MODE_NEWALIASES:
		rc = do_newaliases(&cf);
		break;
	case MODE_VERIFY:
		rc = verify_run(&inv, &cf, stdout);
		if (fflush(stdout) != 0 && rc == EX_OK)
			rc = EX_IOERR;
		break;
	case MODE_FLUSH:
		rc = do_flush(&inv, &cf, 1);
		break;
	case MODE_DAEMON:
		do_daemon(&inv, &cf);
	case MODE_COMMAND:
		/* check --offline opens nothing, not even the log file. */
		if (!inv.offline)
			setup_logging(&inv, conf_account(&cf, inv.cmd_account));
		rc = cmd_run(&inv, &cf);
		break;
	default:
		rc = EX_SOFTWARE;
		break;
	}
	conf_free(&cf);
	return rc;
}
