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
#include "intake.h"
#include "log.h"
#include "queue.h"
#include "runq.h"
#include "status.h"
#include "sysq.h"
#include "util.h"
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
 * the creation of one maildrop file: OpenSMTPD smtpctl's pattern).
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
 * A set-gid run reads only a configuration root alone controls:
 * SYSCONFDIR/oauthmail.conf, or -C FILE when FILE and every directory above
 * it are root's (conf_root_only_path); $OAUTHMAIL_CONFIG and the XDG file
 * are ignored. It must say "mode system".
 */
static void
load_setid_config(const struct invocation *inv, struct config *cf)
{
	struct err err;
	const char *path = SYSCONFDIR "/oauthmail.conf";

	err_clear(&err);
	if (inv->config != NULL) {
		if (conf_root_only_path(inv->config, &err) == -1)
			die(&err);
		path = inv->config;
	}
	if (conf_load(path, cf, &err) == -1)
		die(&err);
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

/* The envelope sender policy is shared with -bs: deliver_pick_sender(). */
static const char *
pick_sender(const struct invocation *inv, const struct account *acct)
{
	return deliver_pick_sender(inv->sender, acct);
}

/* A temporary outcome is fine for callers (mail is queued), but say it on a terminal. */
static void
tell_user(const char *id, const char *what, const char *why)
{
	if (isatty(STDERR_FILENO))
		fprintf(stderr, "%s: %s %s: %s\n", OM_PROGNAME, id, what, why);
}

/*
 * The server works again: deliver what waits in the queue (due entries,
 * bounces just created, held entries), as a later run would.
 */
static void
flush_after_send(const struct config *cf, struct queue *q)
{
	struct err err;
	char **ids = NULL;
	size_t n = 0;

	err_clear(&err);
	size_t nheld = 0;

	if (runq_select(q, QSEL_ALL, NULL, 1, time(NULL), &ids, &n, &err) == -1)
		return;
	queue_free_ids(ids, n);
	if (runq_select_held(q, QSEL_ALL, NULL, &ids, &nheld, &err) == -1)
		return;
	queue_free_ids(ids, nheld);
	if (n + nheld > 0 && runq_flush(cf, q, QSEL_ALL, NULL, 0, &err) == -1)
		log_info("queue run: %s", err.msg);
}

static int
do_send(const struct invocation *inv, const struct config *cf)
{
	struct err err;
	struct account *acct;
	struct aliases *al = NULL;
	struct intake_opts io;
	struct envelope env;
	struct queue q;
	enum deliver_outcome out;
	enum inv_delivery mode;
	const char *sender;
	int fd, rc = EX_OK;
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

	envelope_init(&env);
	if (queue_create(&q, &env, &fd, &err) == -1)
		die(&err);
	memset(&io, 0, sizeof(io));
	io.ignore_dots = inv->ignore_dots;
	io.extract = inv->extract;
	io.fullname = inv->fullname;
	io.from_addr = acct->from;
	io.aliases = al;
	io.rcpts = inv->rcpts;
	io.nrcpts = inv->nrcpts;
	if (intake_read(stdin, fd, &io, &env, &err) == -1) {
		queue_abort(&q, &env, fd);
		die(&err);
	}
	sender = pick_sender(inv, acct);
	free(env.account);
	env.account = xstrdup(acct->name);
	free(env.sender);
	env.sender = xstrdup(sender);
	if (!util_is_ascii(sender, strlen(sender)))
		env.smtputf8 = 1;
	if (inv->smtputf8 > 0)
		env.smtputf8 = 1;
	if (inv->body == BODY_8BITMIME)
		env.body8bit = 1;
	if (inv->dsn_notify != NULL)
		env.dsn_notify = xstrdup(inv->dsn_notify);
	if (inv->dsn_ret != NULL)
		env.dsn_ret = xstrdup(inv->dsn_ret);
	if (inv->envid != NULL)
		env.envid = xstrdup(inv->envid);
	env.created = env.next_try = time(NULL);
	env.state = ENV_QUEUED;
	if (queue_commit(&q, &env, fd, &err) == -1)
		die(&err);
	/* From here on the message is safe on disk. */
	id = xstrdup(env.id);
	envelope_free(&env);
	if (al != NULL)
		aliases_free(al);

	mode = inv->delivery;
	if (mode == DELIV_DEFAULT)
		mode = acct->delivery == CONF_DELIV_QUEUE ? DELIV_QUEUE :
		    acct->delivery == CONF_DELIV_BACKGROUND ? DELIV_BACKGROUND :
		    DELIV_FOREGROUND;
	if (mode == DELIV_QUEUE) {
		log_info("%s: queued", id);
		goto done;
	}
	if (mode == DELIV_BACKGROUND) {
		pid_t pid = fork();

		if (pid == -1) {
			log_warn("fork; %s stays queued", id);
			goto done;
		}
		if (pid > 0)
			goto done;
		(void)setsid();
		if ((fd = open("/dev/null", O_RDWR)) != -1) {
			(void)dup2(fd, STDIN_FILENO);
			(void)dup2(fd, STDOUT_FILENO);
			(void)dup2(fd, STDERR_FILENO);
			if (fd > 2)
				(void)close(fd);
		}
		(void)deliver_entries(cf, acct, &q, &id, 1, &err);
		_exit(0);
	}
	{
		struct err e1;

		err_clear(&e1);
		/*
		 * The caller learns of a refusal of the whole message from the
		 * exit status; a DSN goes out only for recipients refused
		 * while others got the message.
		 */
		if (deliver_entries_ex(cf, acct, &q, &id, 1,
		    DELIVER_BOUNCE_PARTIAL, &out, &e1, &err) == 0)
			out = DOUT_SENT;
		if (out == DOUT_SENT || out == DOUT_PARTIAL)
			flush_after_send(cf, &q);
		switch (out) {
		case DOUT_SENT:
			break;
		case DOUT_DEFERRED:
		case DOUT_SKIPPED:
			tell_user(id, "queued, will retry", e1.msg);
			break;
		case DOUT_HELD:
			tell_user(id, "held until sign-in works", e1.msg);
			break;
		case DOUT_PARTIAL:
		case DOUT_FAILED:
			/*
			 * Synchronous permanent refusal: the caller learns it
			 * from the exit code; no bounce is sent, a copy stays
			 * in failed/.
			 */
			fprintf(stderr, "%s: %s\n", OM_PROGNAME, e1.msg);
			rc = out == DOUT_PARTIAL ? EX_OK :
			    (e1.class == ERR_ADDR ? EX_NOUSER : EX_UNAVAILABLE);
			break;
		}
	}
done:
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
	if (spool_gid != (gid_t)-1 && setresgid((gid_t)-1, spool_gid,
	    (gid_t)-1) == -1) {
		drop_group();
		(void)err_set(&err, ERR_TEMP, "setresgid: %s", strerror(errno));
		die(&err);
	}
	rc = sysq_drop_create(cf, spool_gid, &d, &err);
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
			return EX_OK;
		}
	}
	open_queue(queue_account(cf), &q);
	if (runq_list(&q, stdout, &err) == -1)
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
		printf("%s %s\n", OM_PROGNAME, PACKAGE_VERSION);
		return EX_OK;
	case MODE_NOOP:
		return EX_OK;
	default:
		break;
	}
	memset(&cf, 0, sizeof(cf));
	if (spool_gid != (gid_t)-1) {
		load_setid_config(&inv, &cf);
		/* Only a submission ever uses the group, and only once. */
		if (inv.mode != MODE_SEND)
			drop_group();
	} else if (conf_load(inv.config, &cf, &err) == -1)
		die(&err);
	switch (inv.mode) {
	case MODE_SEND:
		rc = cf.system_mode ? do_system_send(&inv, &cf) :
		    do_send(&inv, &cf);
		break;
	case MODE_SMTP_STDIO:
		rc = bs_run(&inv, &cf);
		break;
	case MODE_MAILQ:
		rc = do_mailq(&inv, &cf);
		break;
	case MODE_NEWALIASES:
		rc = do_newaliases(&cf);
		break;
	case MODE_FLUSH:
		rc = do_flush(&inv, &cf, 1);
		break;
	case MODE_DAEMON:
		do_daemon(&inv, &cf);
	case MODE_COMMAND:
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
