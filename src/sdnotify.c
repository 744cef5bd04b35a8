/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * sdnotify.c -- the service manager's notification protocol; see
 * sdnotify.h. The socket is opened once (SOCK_DGRAM, close-on-exec) and
 * every notification is one sendto(): no connection state to lose when
 * the manager restarts.
 */
#include "common.h"

#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdnotify.h"
#include "util.h"

/* Longest STATUS= text sent. */
#define STATUS_MAX	256

static int
parse_watchdog(struct sdnotify *n, const char *usec, const char *pid)
{
	long long v, p;
	const char *es;

	if (usec == NULL || *usec == '\0')
		return 0;
	if (util_parse_ll(usec, 1, 1LL << 50, &v, &es) == -1)
		return 0;
	if (pid != NULL && *pid != '\0' &&
	    (util_parse_ll(pid, 1, 1LL << 31, &p, &es) == -1 ||
	    (pid_t)p != getpid()))
		return 0;		/* meant for another process */
	n->wd_usec = (uint64_t)v;
	return 0;
}

int
sdnotify_open_with(struct sdnotify *n, const char *socket_name,
    const char *wd_usec, const char *wd_pid, struct err *err)
{
	size_t len;

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	if (socket_name == NULL || *socket_name == '\0')
		return 0;
	len = strlen(socket_name);
	if ((socket_name[0] != '/' && socket_name[0] != '@') ||
	    len >= sizeof(n->sa.sun_path))
		return err_set(err, ERR_CONFIG, "NOTIFY_SOCKET \"%.100s\": "
		    "not an absolute path or @abstract name that fits a "
		    "socket address; running without notifications",
		    socket_name);
	n->sa.sun_family = AF_UNIX;
	memcpy(n->sa.sun_path, socket_name, len);
	if (socket_name[0] == '@')
		n->sa.sun_path[0] = '\0';	/* abstract: no trailing NUL */
	n->salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (socket_name[0] == '@' ? 0 : 1));
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (n->fd == -1)
		return err_set(err, ERR_OS, "notification socket: %s",
		    strerror(errno));
	(void)parse_watchdog(n, wd_usec, wd_pid);
	(void)clock_gettime(CLOCK_MONOTONIC, &n->wd_last);
	return 1;
}

int
sdnotify_open(struct sdnotify *n, struct err *err)
{
	return sdnotify_open_with(n, getenv("NOTIFY_SOCKET"),
	    getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), err);
}

void
sdnotify_close(struct sdnotify *n)
{
	if (n->fd != -1)
		(void)close(n->fd);
	n->fd = -1;
}

int
sdnotify_send(struct sdnotify *n, const char *text)
{
	ssize_t r;

	if (n->fd == -1)
		return 0;
	do
		r = sendto(n->fd, text, strlen(text), MSG_NOSIGNAL,
		    (const struct sockaddr *)&n->sa, n->salen);
	while (r == -1 && errno == EINTR);
	return r == -1 ? -1 : 0;
}

int
sdnotify_status(struct sdnotify *n, const char *fmt, ...)
{
	char text[STATUS_MAX], msg[STATUS_MAX + 8];
	va_list ap;
	size_t i;

	if (n->fd == -1)
		return 0;
	va_start(ap, fmt);
	(void)vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (i = 0; text[i] != '\0'; i++)
		if ((unsigned char)text[i] < 0x20 || text[i] == 0x7f)
			text[i] = ' ';	/* one line, one variable */
	(void)snprintf(msg, sizeof(msg), "STATUS=%s", text);
	return sdnotify_send(n, msg);
}

static long long
since_last_ms(const struct sdnotify *n)
{
	struct timespec now;

	(void)clock_gettime(CLOCK_MONOTONIC, &now);
	return (long long)(now.tv_sec - n->wd_last.tv_sec) * 1000 +
	    (now.tv_nsec - n->wd_last.tv_nsec) / 1000000;
}

long long
sdnotify_watchdog_ms(const struct sdnotify *n)
{
	long long half, left;

	if (n->fd == -1 || n->wd_usec == 0)
		return -1;
	half = (long long)(n->wd_usec / 2000);
	if (half < 100)
		half = 100;	/* never a busy loop */
	left = half - since_last_ms(n);
	return left > 0 ? left : 0;
}

void
sdnotify_watchdog(struct sdnotify *n)
{
	if (sdnotify_watchdog_ms(n) != 0)
		return;
	/* Even when the send fails: the next try is half an interval on. */
	(void)sdnotify_send(n, "WATCHDOG=1");
	(void)clock_gettime(CLOCK_MONOTONIC, &n->wd_last);
}
