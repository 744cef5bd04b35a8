/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * daemon.c -- the queue runner daemon; see daemon.h.
 *
 * One loop: poll() on a self-pipe (signals) and an inotify descriptor
 * watching q/ for renamed-in envelopes, with the time left until the next
 * interval run (or the next held account's turn) as the timeout. A run is
 * runq_run over the due entries, held accounts by their schedule
 * (holdsched.h): every release of held mail renames envelopes into q/,
 * which wakes the loop again, so the schedule, not the loop, decides;
 * the per-entry flock keeps a concurrent "sendmail -q" from sending the
 * same entry, and the pid file's flock keeps a second daemon away.
 * Signals only set flags (SA_RESTART, so a delivery in progress is not
 * disturbed); the loop acts on them between runs.
 */
#include "common.h"

#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "daemon.h"
#include "envelope.h"
#include "holdsched.h"
#include "log.h"
#include "queue.h"
#include "runq.h"
#include "sdnotify.h"
#include "status.h"
#include "store.h"
#include "token.h"
#include "util.h"
#include "xmalloc.h"

static volatile sig_atomic_t	d_stop, d_reload;
static int			d_pipe[2] = { -1, -1 };
/* The service manager (Type=notify), when there is one. */
static struct sdnotify		d_sdn = { .fd = -1 };

static void
on_signal(int sig)
{
	int saved = errno;
	char c = 0;

	if (sig == SIGHUP)
		d_reload = 1;
	else
		d_stop = 1;
	/* A full pipe already holds a wake-up: nothing to do on failure. */
	if (d_pipe[1] != -1 && write(d_pipe[1], &c, 1) == -1)
		errno = saved;
	errno = saved;
}

static int
setup_signals(struct err *err)
{
	struct sigaction sa;

	if (pipe2(d_pipe, O_NONBLOCK | O_CLOEXEC) == -1)
		return err_set(err, ERR_OS, "pipe: %s", strerror(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	(void)sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) == -1 ||
	    sigaction(SIGINT, &sa, NULL) == -1 ||
	    sigaction(SIGHUP, &sa, NULL) == -1)
		return err_set(err, ERR_OS, "sigaction: %s", strerror(errno));
	return 0;
}

static const struct account *
queue_account(const struct config *cf)
{
	if (cf->def != NULL)
		return cf->def;
	return cf->naccounts > 0 ? cf->accounts[0] : NULL;
}

/*
 * The pid file: flock(LOCK_EX|LOCK_NB) held for the daemon's life, so a
 * second daemon on the same queue refuses to start (a stale file of a
 * killed daemon is not locked, and is simply taken over).
 */
static int
take_pidfile(struct queue *q, int *fdp, struct err *err)
{
	char buf[32];
	ssize_t n;
	int fd, len;

	fd = openat(q->dirfd, DAEMON_PIDFILE, O_RDWR | O_CREAT | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return err_set(err, ERR_CANTCREAT, "pid file %s/%s: %s",
		    q->dir, DAEMON_PIDFILE, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) == -1) {
		int saved = errno;

		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		(void)close(fd);
		if (saved == EWOULDBLOCK)
			return err_set(err, ERR_TEMP, "another queue runner "
			    "daemon (pid %s) already serves %s; stop it first",
			    buf[0] != '\0' ? buf : "?", q->dir);
		return err_set(err, ERR_IO, "lock %s/%s: %s", q->dir,
		    DAEMON_PIDFILE, strerror(saved));
	}
	len = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, buf, (size_t)len, 0) != len) {
		int saved = errno;

		(void)close(fd);
		return err_set(err, ERR_IO, "write %s/%s: %s", q->dir,
		    DAEMON_PIDFILE, strerror(saved));
	}
	*fdp = fd;
	return 0;
}

static void
drop_pidfile(struct queue *q, int fd)
{
	if (fd == -1)
		return;
	(void)unlinkat(q->dirfd, DAEMON_PIDFILE, 0);
	(void)close(fd);
}

/*
 * inotify on q/ (a new .env there is new or retried mail), on the queue
 * directory (a new hold schedule: "oauthmail login" gave a held account
 * its turn back) and, in system mode, on the maildrop (a drop file is
 * marked ready by a chmod); -1 if none.
 */
static int
watch_queue(const struct config *cf, const struct queue *q)
{
	char path[PATH_MAX];
	int fd;

	if (snprintf(path, sizeof(path), "%s/q", q->dir) >= (int)sizeof(path))
		return -1;
	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) == -1) {
		log_warn("inotify; polling every interval only");
		return -1;
	}
	if (inotify_add_watch(fd, path, IN_MOVED_TO) == -1) {
		log_warn("inotify watch %s; polling every interval only", path);
		(void)close(fd);
		return -1;
	}
	if (inotify_add_watch(fd, q->dir, IN_MOVED_TO) == -1)
		log_warn("inotify watch %s; a sign-in is noticed at the next "
		    "interval only", q->dir);
	if (cf->system_mode && snprintf(path, sizeof(path), "%s/maildrop",
	    conf_spool_dir(cf)) < (int)sizeof(path) &&
	    inotify_add_watch(fd, path, IN_ATTRIB) == -1)
		log_warn("inotify watch %s; the maildrop is read every "
		    "interval only", path);
	return fd;
}

/* Reads pending events; 1 if one of them is an envelope. */
static int
drain_inotify(int fd)
{
	char b[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	const struct inotify_event *ev;
	ssize_t n;
	size_t off, l;
	int hit = 0;

	while ((n = read(fd, b, sizeof(b))) > 0) {
		for (off = 0; off + sizeof(*ev) <= (size_t)n;
		    off += sizeof(*ev) + ev->len) {
			ev = (const struct inotify_event *)(void *)(b + off);
			if (ev->mask & (IN_Q_OVERFLOW | IN_ATTRIB))
				hit = 1;
			if (ev->len == 0)
				continue;
			l = strnlen(ev->name, ev->len);
			if ((l > 4 && strcmp(ev->name + l - 4, ".env") == 0) ||
			    strcmp(ev->name, HOLDSCHED_FILE) == 0)
				hit = 1;
		}
	}
	return hit;
}

static void
drain_pipe(void)
{
	char b[64];

	while (read(d_pipe[0], b, sizeof(b)) > 0)
		;
}

enum daemon_tokact
daemon_token_check(const struct account *acct, const struct token_record *r,
    time_t now, time_t *warn)
{
	time_t last, dies = 0;

	if (warn != NULL)
		*warn = 0;
	if (r->needs_login)
		return TOKACT_LOGIN;
	last = r->refresh_issued;
	if (r->last_success > last)
		last = r->last_success;
	if (r->expires_at - 3600 > last)
		last = r->expires_at - 3600;
	if (acct->provider == PROVIDER_GOOGLE && r->refresh_issued > 0 &&
	    now < r->refresh_issued + DAEMON_GOOGLE_TESTING + 86400)
		dies = r->refresh_issued + DAEMON_GOOGLE_TESTING;
	else if (acct->provider == PROVIDER_MICROSOFT ||
	    acct->provider == PROVIDER_OUTLOOK)
		dies = last + DAEMON_MS_INACTIVITY;
	if (warn != NULL && dies != 0 && dies - now < DAEMON_WARN_AHEAD)
		*warn = dies;
	return now - last >= DAEMON_REFRESH_AGE ? TOKACT_REFRESH : TOKACT_NONE;
}

/* Which accounts the token check looks at: signed-in, refreshable ones. */
static int
token_account(const struct account *a)
{
	return conf_is_oauth(a) && a->flow != FLOW_CLIENT_CREDENTIALS;
}

/*
 * Queues a warning for the account's admin address (config "admin"),
 * sent through the account itself while its sign-in still works.
 */
static void
notify_admin(struct queue *q, const struct account *a, const char *text)
{
	struct envelope env;
	struct err err;
	char date[64], mid[320];
	const char *dom;
	char *msg;
	size_t len, i;
	off_t size;
	int fd;

	if (q == NULL || a->admin == NULL || a->from == NULL)
		return;
	dom = strrchr(a->from, '@');
	if (util_date(date, sizeof(date), time(NULL)) == -1 ||
	    util_message_id(mid, sizeof(mid), dom != NULL ? dom + 1 :
	    util_hostname()) == -1)
		return;
	msg = xasprintf("From: oauthmail <%s>\nTo: <%s>\n"
	    "Subject: oauthmail: account %s needs a sign-in soon\n"
	    "Date: %s\nMessage-ID: %s\nAuto-Submitted: auto-generated\n"
	    "MIME-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\n"
	    "\n%s\n", a->from, a->admin, a->name, date, mid, text);
	len = strlen(msg);
	for (size = (off_t)len, i = 0; i < len; i++)
		if (msg[i] == '\n')
			size++;
	envelope_init(&env);
	err_clear(&err);
	if (queue_create(q, &env, &fd, &err) == -1)
		goto fail;
	if (util_write_all(fd, msg, len) == -1) {
		err_set(&err, ERR_IO, "writing the warning: %s",
		    strerror(errno));
		queue_abort(q, &env, fd);
		goto fail;
	}
	env.account = xstrdup(a->name);
	env.sender = xstrdup(a->from);
	env.created = env.next_try = time(NULL);
	env.size = size;
	if (envelope_add_rcpt(&env, a->admin, NULL) == -1) {
		err_set(&err, ERR_ADDR, "invalid admin address");
		queue_abort(q, &env, fd);
		goto fail;
	}
	if (queue_commit(q, &env, fd, &err) == -1)
		goto fail;
	log_info("account %s: warning queued for %s", a->name, a->admin);
	envelope_free(&env);
	free(msg);
	return;
fail:
	log_warnx("account %s: cannot queue a warning for %s: %s", a->name,
	    a->admin, err.msg);
	envelope_free(&env);
	free(msg);
}

static void
check_one_token(const struct account *a, struct queue *q, time_t now)
{
	struct token_record rec;
	enum daemon_tokact act;
	struct store *st = NULL;
	struct buf b, tok;
	struct err err;
	char when[64];
	time_t warn;
	int r, cached;

	err_clear(&err);
	memset(&rec, 0, sizeof(rec));
	if (store_open_account(a, &st, &err) == -1) {
		log_warnx("account %s: token check: %s", a->name, err.msg);
		return;
	}
	buf_init(&b, LIM_TOKEN * 4, BUF_SECRET);
	r = store_get(st, a->name, STORE_TOKEN, &b, &err);
	if (r == 1)
		goto out;		/* never signed in: nothing to keep */
	if (r == -1 || token_record_parse(&rec, buf_str(&b), b.len,
	    &err) == -1) {
		log_warnx("account %s: token check: %s", a->name, err.msg);
		goto out;
	}
	act = daemon_token_check(a, &rec, now, &warn);
	if (act == TOKACT_LOGIN) {
		log_warnx("account %s: sign-in needed; mail waits in the "
		    "queue until 'oauthmail login %s' is run", a->name,
		    a->name);
		goto out;
	}
	if (act == TOKACT_REFRESH) {
		buf_init(&tok, LIM_TOKEN, BUF_SECRET);
		if (token_get(a, st, 1, &tok, &cached, &err) == -1)
			log_warnx("account %s: keep-alive token refresh "
			    "failed: %s", a->name, err.msg);
		else {
			log_info("account %s: refreshed the token to keep "
			    "the sign-in alive", a->name);
			/* A rotated refresh token moves the deadline. */
			token_record_free(&rec);
			memset(&rec, 0, sizeof(rec));
			buf_reset(&b);
			if (store_get(st, a->name, STORE_TOKEN, &b, &err) == 0 &&
			    token_record_parse(&rec, buf_str(&b), b.len,
			    &err) == 0)
				(void)daemon_token_check(a, &rec, now, &warn);
		}
		buf_free(&tok);
	}
	if (warn != 0) {
		struct tm tm;

		if (gmtime_r(&warn, &tm) == NULL ||
		    strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC",
		    &tm) == 0)
			(void)snprintf(when, sizeof(when), "soon");
		char text[512];

		if (a->provider == PROVIDER_GOOGLE)
			(void)snprintf(text, sizeof(text), "account %s: if the "
			    "Google OAuth app is in \"Testing\" status, its "
			    "sign-in expires %s (7 days after sign-in); run "
			    "'oauthmail login %s' before then, or publish the "
			    "app", a->name, when, a->name);
		else
			(void)snprintf(text, sizeof(text), "account %s: the "
			    "sign-in expires %s unless a token refresh "
			    "succeeds; run 'oauthmail login %s'", a->name,
			    when, a->name);
		log_warnx("%s", text);
		notify_admin(q, a, text);
	}
out:
	token_record_free(&rec);
	buf_free(&b);
	store_close(st);
}

static void
check_tokens(const struct config *cf, struct queue *q, time_t now)
{
	size_t i;

	for (i = 0; i < cf->naccounts && !d_stop; i++)
		if (token_account(cf->accounts[i]))
			check_one_token(cf->accounts[i], q, now);
}

static size_t
count_area(struct queue *q, enum queue_area a)
{
	struct err err;
	char **ids;
	size_t n;

	if (queue_list(q, a, &ids, &n, &err) == -1)
		return 0;
	queue_free_ids(ids, n);
	return n;
}

/* What "systemctl status" shows: what waits, when held mail goes next. */
static void
tell_status(struct queue *q, time_t next_held)
{
	char held[64] = "", last[32] = "?";
	time_t now = time(NULL);
	struct tm tm;

	if (d_sdn.fd == -1)
		return;
	if (gmtime_r(&now, &tm) != NULL)
		(void)strftime(last, sizeof(last), "%H:%M:%S UTC", &tm);
	if (next_held != 0 && gmtime_r(&next_held, &tm) != NULL)
		(void)strftime(held, sizeof(held), " (next try %H:%M:%S UTC)",
		    &tm);
	(void)sdnotify_status(&d_sdn, "Serving %s: %zu queued, %zu held%s; "
	    "last run %s", q->dir, count_area(q, QAREA_ACTIVE),
	    count_area(q, QAREA_HOLD), held, last);
}

/*
 * One run; held accounts only in their turn (holdsched.h). Returns when
 * the next held account is due (0: none).
 */
static time_t
queue_run(const struct config *cf, struct queue *q)
{
	struct holdsched hs;
	struct err err;
	time_t next;

	err_clear(&err);
	if (runq_run(cf, q, QSEL_ALL, NULL, RUNQ_SCHEDULE, &err) == -1)
		log_info("queue run: %s", err.msg);
	err_clear(&err);
	if (holdsched_load(q, &hs, &err) == -1) {
		log_warnx("%s", err.msg);
		return 0;
	}
	next = holdsched_next_wake(&hs, time(NULL));
	holdsched_free(&hs);
	tell_status(q, next);
	return next;
}

/*
 * Milliseconds from now until the earliest of the non-zero times, or the
 * next watchdog ping if that comes first.
 */
static int
poll_ms(time_t now, time_t a, time_t b, time_t c)
{
	time_t t = a;
	long long ms, wd;

	if (b != 0 && b < t)
		t = b;
	if (c != 0 && c < t)
		t = c;
	ms = (long long)(t - now) * 1000;
	if ((wd = sdnotify_watchdog_ms(&d_sdn)) >= 0 && wd < ms)
		ms = wd;
	if (ms < 0)
		ms = 0;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* Tells the manager a SIGHUP reload begins (systemd.service(5)). */
static void
tell_reloading(void)
{
	struct timespec ts;
	char msg[80];

	if (d_sdn.fd == -1)
		return;
	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	(void)snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL +
	    (unsigned long long)ts.tv_nsec / 1000);
	(void)sdnotify_send(&d_sdn, msg);
}

/* Re-reads the configuration into *own; 0 if it is now the one to use. */
static int
reload(const struct invocation *inv, struct config *own, int *have_own)
{
	struct config next;
	struct err err;

	err_clear(&err);
	memset(&next, 0, sizeof(next));
	if (conf_load(inv->config, &next, &err) == -1) {
		log_warnx("SIGHUP: configuration not reloaded: %s", err.msg);
		return -1;
	}
	if (*have_own)
		conf_free(own);
	*own = next;
	*have_own = 1;
	log_info("SIGHUP: configuration reloaded");
	return 0;
}

int
daemon_run(const struct invocation *inv, const struct config *cf0)
{
	long long interval = inv->qinterval > 0 ? inv->qinterval : 60;
	const struct account *qa;
	const struct config *cf = cf0;
	struct config own;
	struct pollfd pfd[2];
	struct queue q;
	struct err err;
	time_t now, next_run, next_tokens, next_held = 0;
	int pidfd = -1, ifd, have_own = 0, wake, nfd, rc;

	err_clear(&err);
	memset(&own, 0, sizeof(own));
	qa = queue_account(cf);
	if (queue_open(&q, qa != NULL ? qa->queue_dir : NULL, &err) == -1) {
		fprintf(stderr, "%s: %s\n", OM_PROGNAME, err.msg);
		return err_exitcode(&err);
	}
	if (take_pidfile(&q, &pidfd, &err) == -1) {
		fprintf(stderr, "%s: %s\n", OM_PROGNAME, err.msg);
		queue_close(&q);
		return err_exitcode(&err);
	}
	if (setup_signals(&err) == -1) {
		fprintf(stderr, "%s: %s\n", OM_PROGNAME, err.msg);
		drop_pidfile(&q, pidfd);
		queue_close(&q);
		return err_exitcode(&err);
	}
	ifd = watch_queue(cf, &q);
	log_info("queue runner started on %s, every %lld s%s", q.dir,
	    interval, ifd != -1 ? " and on new mail" : "");
	if (sdnotify_open(&d_sdn, &err) == -1)
		log_warnx("%s", err.msg);
	(void)sdnotify_send(&d_sdn, "READY=1");
	(void)sdnotify_status(&d_sdn, "Serving %s: first queue run", q.dir);
	next_run = 0;		/* run at once */
	next_tokens = 0;
	while (!d_stop) {
		sdnotify_watchdog(&d_sdn);
		now = time(NULL);
		if (d_reload) {
			d_reload = 0;
			tell_reloading();
			if (reload(inv, &own, &have_own) == 0)
				cf = &own;
			(void)sdnotify_send(&d_sdn, "READY=1");
			next_run = 0;
		}
		if (now >= next_tokens) {
			check_tokens(cf, &q, now);
			next_tokens = now + DAEMON_TOKEN_EVERY;
		}
		if (d_stop)
			break;
		if (now >= next_run || (next_held != 0 && now >= next_held)) {
			next_held = queue_run(cf, &q);
			next_run = time(NULL) + (time_t)interval;
			continue;	/* look at the signals again */
		}
		pfd[0].fd = d_pipe[0];
		pfd[0].events = POLLIN;
		nfd = 1;
		if (ifd != -1) {
			pfd[1].fd = ifd;
			pfd[1].events = POLLIN;
			nfd = 2;
		}
		rc = poll(pfd, (nfds_t)nfd, poll_ms(now, next_run, next_tokens,
		    next_held));
		if (rc == -1 && errno != EINTR) {
			log_warn("poll");
			(void)sleep(1);
			continue;
		}
		if (rc <= 0)
			continue;
		if (pfd[0].revents & POLLIN)
			drain_pipe();
		wake = 0;
		if (nfd == 2 && (pfd[1].revents & POLLIN))
			wake = drain_inotify(ifd);
		if (wake && !d_stop) {
			log_debug("new mail in the queue: running it");
			next_held = queue_run(cf, &q);
			/*
			 * Our own envelope updates (deferrals, releases) and
			 * hold schedule changes show up as renames too; one
			 * more pass finds nothing due: a held account is
			 * tried only when the schedule says so.
			 */
		}
	}
	log_info("queue runner stopping (signal)");
	(void)sdnotify_send(&d_sdn, "STOPPING=1\nSTATUS=Stopping");
	sdnotify_close(&d_sdn);
	if (ifd != -1)
		(void)close(ifd);
	drop_pidfile(&q, pidfd);
	queue_close(&q);
	if (have_own)
		conf_free(&own);
	return EX_OK;
}
