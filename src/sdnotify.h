/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * sdnotify.h -- the service manager's notification protocol, without
 * libsystemd: one AF_UNIX datagram per state change to the socket named
 * by $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace), with
 * newline-separated VAR=value lines: READY=1 once the queue daemon
 * serves, STATUS=... (what "systemctl status" shows), RELOADING=1 while a
 * SIGHUP is handled, STOPPING=1 on the way out, and WATCHDOG=1 every half
 * $WATCHDOG_USEC when the unit sets WatchdogSec= (and $WATCHDOG_PID, if
 * set, is this process). Without $NOTIFY_SOCKET every call does nothing.
 */
#ifndef SDNOTIFY_H
#define SDNOTIFY_H

#include <sys/socket.h>
#include <sys/un.h>

#include <stdint.h>
#include <time.h>

#include "common.h"
#include "status.h"

struct sdnotify {
	int			 fd;		/* -1: not under a manager */
	struct sockaddr_un	 sa;
	socklen_t		 salen;
	uint64_t		 wd_usec;	/* 0: no watchdog */
	struct timespec		 wd_last;	/* CLOCK_MONOTONIC */
};

/*
 * From the environment: NOTIFY_SOCKET, WATCHDOG_USEC, WATCHDOG_PID.
 * Returns 1 if notifications will be sent, 0 if there is no socket
 * (n->fd is -1), -1 with ERR_CONFIG for a socket name that cannot be
 * used (n->fd is -1 then too: the daemon runs on, unannounced).
 */
int	sdnotify_open(struct sdnotify *n, struct err *err);
/* The same from explicit values (tests); any may be NULL. */
int	sdnotify_open_with(struct sdnotify *n, const char *socket,
	    const char *wd_usec, const char *wd_pid, struct err *err);
void	sdnotify_close(struct sdnotify *n);
/*
 * Sends one datagram: text as given (one or more VAR=value lines). 0 if
 * sent or nothing to send to; -1 with errno if the send failed.
 */
int	sdnotify_send(struct sdnotify *n, const char *text);
/* "STATUS=..." from a format; control characters become spaces. */
int	sdnotify_status(struct sdnotify *n, const char *fmt, ...)
	    OM_PRINTF(2, 3);
/*
 * The watchdog: milliseconds until the next WATCHDOG=1 is due (-1: no
 * watchdog), and the ping itself, sent only when half the interval has
 * passed since the last one (so it may be called on every loop turn).
 */
long long sdnotify_watchdog_ms(const struct sdnotify *n);
void	sdnotify_watchdog(struct sdnotify *n);

#endif
