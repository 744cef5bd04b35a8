/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* net.c -- TCP sockets with timeouts; see net.h. */
#include "common.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "net.h"
#include "status.h"

#define NET_DEFAULT_TIMEOUT_MS	(5 * 60 * 1000)

static long long
now_ms(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
net_set_nonblock(int fd, struct err *err)
{
	int fl;

	if ((fl = fcntl(fd, F_GETFL)) == -1 ||
	    fcntl(fd, F_SETFL, fl | O_NONBLOCK) == -1)
		return err_set(err, ERR_OS, "fcntl: %s", strerror(errno));
	return 0;
}

int
net_wait(int fd, short events, int timeout_ms, struct err *err)
{
	struct pollfd pfd;
	long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
	int r, left, slow = log_slow_ms();
	long long note = slow >= 0 ? now_ms() + slow : 0, n;

	for (;;) {
		left = -1;
		if (deadline) {
			long long d = deadline - now_ms();

			if (d <= 0)
				return err_set(err, ERR_TEMP, "timed out "
				    "after %d seconds", (timeout_ms + 999) /
				    1000);
			left = (int)d;
		}
		/* A peer this slow gets a note (log.h). */
		if (note && (n = note - now_ms()) <= 0) {
			log_slow_note();
			note = 0;
		} else if (note && (left < 0 || n < left))
			left = (int)n;
		pfd.fd = fd;
		pfd.events = events;
		pfd.revents = 0;
		r = poll(&pfd, 1, left);
		if (r == -1) {
			if (errno == EINTR)
				continue;
			return err_set(err, ERR_OS, "poll: %s",
			    strerror(errno));
		}
		if (r == 0)
			continue;	/* the deadline check reports it */
		/* POLLHUP/POLLERR: let the read or write report the cause. */
		return 0;
	}
}

static int
connect_one(const struct addrinfo *ai, int timeout_ms, int *fdp,
    int *errnop)
{
	int fd, soerr = 0;
	socklen_t sl = sizeof(soerr);
	struct err tmp;

	*errnop = 0;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd == -1) {
		*errnop = errno;
		return -1;
	}
	if (net_set_nonblock(fd, &tmp) == -1) {
		*errnop = errno;
		(void)close(fd);
		return -1;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
		*fdp = fd;
		return 0;
	}
	if (errno != EINPROGRESS && errno != EINTR) {
		*errnop = errno;
		(void)close(fd);
		return -1;
	}
	if (net_wait(fd, POLLOUT, timeout_ms, &tmp) == -1) {
		*errnop = ETIMEDOUT;
		(void)close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == -1)
		soerr = errno;
	if (soerr != 0) {
		*errnop = soerr;
		(void)close(fd);
		return -1;
	}
	*fdp = fd;
	return 0;
}

int
net_connect(const char *host, int port, int timeout_ms, int *fdp,
    struct err *err)
{
	struct addrinfo hints, *res = NULL, *ai;
	char service[16];
	int r, lasterr = 0;

	*fdp = -1;
	if (timeout_ms <= 0)
		timeout_ms = NET_DEFAULT_TIMEOUT_MS;
	if (host == NULL || *host == '\0')
		return err_set(err, ERR_NOHOST, "no host name");
	(void)snprintf(service, sizeof(service), "%d", port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_ADDRCONFIG;
	r = getaddrinfo(host, service, &hints, &res);
	if (r == EAI_AGAIN)
		return err_set(err, ERR_TEMP, "cannot resolve %s: %s",
		    host, gai_strerror(r));
	if (r == EAI_SYSTEM)
		return err_set(err, ERR_TEMP, "cannot resolve %s: %s",
		    host, strerror(errno));
	if (r != 0)
		return err_set(err, ERR_NOHOST, "cannot resolve %s: %s",
		    host, gai_strerror(r));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if (connect_one(ai, timeout_ms, fdp, &lasterr) == 0) {
			freeaddrinfo(res);
			return 0;
		}
	}
	freeaddrinfo(res);
	if (lasterr == ETIMEDOUT)
		return err_set(err, ERR_TEMP, "connect to %s:%d: timed out "
		    "after %d seconds", host, port, timeout_ms / 1000);
	return err_set(err, ERR_TEMP, "connect to %s:%d: %s", host, port,
	    strerror(lasterr ? lasterr : ECONNREFUSED));
}

int
net_read(int fd, void *buf, size_t len, int timeout_ms, size_t *nread,
    struct err *err)
{
	ssize_t n;

	*nread = 0;
	for (;;) {
		n = read(fd, buf, len);
		if (n >= 0) {
			*nread = (size_t)n;
			return 0;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return err_set(err, ERR_TEMP, "read: %s",
			    strerror(errno));
		if (net_wait(fd, POLLIN, timeout_ms, err) == -1)
			return -1;
	}
}

int
net_write(int fd, const void *buf, size_t len, int timeout_ms,
    struct err *err)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == ENOTSOCK)
			n = write(fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (net_wait(fd, POLLOUT, timeout_ms, err) == -1)
				return -1;
			continue;
		}
		return err_set(err, ERR_TEMP, "write: %s",
		    n == 0 ? "connection closed" : strerror(errno));
	}
	return 0;
}

int
net_is_ip_literal(const char *host)
{
	unsigned char tmp[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, tmp) == 1 ||
	    inet_pton(AF_INET6, host, tmp) == 1;
}

void
net_peer_addr(int fd, char *dst, size_t size)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	if (size == 0)
		return;
	dst[0] = '\0';
	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6))
		return;
	if (getnameinfo((struct sockaddr *)&ss, sl, dst, (socklen_t)size,
	    NULL, 0, NI_NUMERICHOST) != 0)
		dst[0] = '\0';
}

int
net_peer_is_local(int fd)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	memset(&ss, 0, sizeof(ss));
	if (getpeername(fd, (struct sockaddr *)&ss, &sl) == -1)
		return 0;
	switch (ss.ss_family) {
	case AF_UNIX:
		return 1;
	case AF_INET: {
		const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;

		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	case AF_INET6: {
		const struct sockaddr_in6 *s6 =
		    (const struct sockaddr_in6 *)&ss;
		const unsigned char *a = s6->sin6_addr.s6_addr;

		if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr))
			return 1;
		/* ::ffff:127.x.y.z */
		return IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && a[12] == 127;
	}
	default:
		return 0;
	}
}
