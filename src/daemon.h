/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * daemon.h -- the queue runner daemon (sendmail -bd, -q30m): runs the due
 * entries every interval and as soon as new mail is committed to q/
 * (inotify, IN_MOVED_TO of an .env; the interval is the fallback timer),
 * one daemon per queue (a pid file under flock), SIGTERM/SIGINT finish
 * the current run and exit 0, SIGHUP re-reads the configuration. Once a
 * day it keeps every signed-in OAuth account's token healthy. A held
 * account is tried only in its turn (holdsched.h): neither new mail nor
 * the daemon's own renames make it try again sooner.
 */
#ifndef DAEMON_H
#define DAEMON_H

#include <time.h>

#include "common.h"
#include "args.h"
#include "conf.h"
#include "status.h"
#include "token.h"

/* The pid file, in the queue directory. */
#define DAEMON_PIDFILE		"daemon.pid"
/* Refresh a token whose last activity is older than this (Microsoft: 90). */
#define DAEMON_REFRESH_AGE	(14 * 86400)
/* Warn this long before a sign-in will be needed. */
#define DAEMON_WARN_AHEAD	(3 * 86400)
/* Google "Testing" apps: refresh tokens die 7 days after the sign-in. */
#define DAEMON_GOOGLE_TESTING	(7 * 86400)
/* Microsoft: refresh tokens die after 90 days unused. */
#define DAEMON_MS_INACTIVITY	(90 * 86400)
/* How often the token check runs. */
#define DAEMON_TOKEN_EVERY	86400

/*
 * Runs until SIGTERM/SIGINT, then returns the exit status (EX_OK). cf is
 * the configuration main loaded (never freed here; a SIGHUP reload keeps
 * its own copy). Returns EX_TEMPFAIL with a message on stderr if another
 * daemon already runs on the queue, EX_CANTCREAT/EX_OSERR on setup errors.
 */
int	daemon_run(const struct invocation *inv, const struct config *cf);

/* What the token check decided for one record (exposed for tests). */
enum daemon_tokact {
	TOKACT_NONE = 0,	/* healthy, nothing to do */
	TOKACT_REFRESH,		/* refresh now (force) */
	TOKACT_LOGIN		/* sign-in needed: warn */
};
/*
 * Decides from the record at time now: needs_login -> TOKACT_LOGIN; last
 * activity (the latest of refresh_issued, last_success, expires_at - 1 h)
 * older than DAEMON_REFRESH_AGE -> TOKACT_REFRESH. *warn (may be NULL) is
 * set to the time a sign-in will be needed when that is less than
 * DAEMON_WARN_AHEAD away (Google testing apps: refresh_issued + 7 days;
 * Microsoft: last activity + 90 days), else 0.
 */
enum daemon_tokact daemon_token_check(const struct account *,
	    const struct token_record *, time_t now, time_t *warn);

#endif
