/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * net.h -- TCP sockets: name resolution (IPv4 and IPv6, every address
 * tried in turn), non-blocking connect with a timeout, reads and writes
 * with poll(2) timeouts, EINTR handled. The fd stays non-blocking.
 *
 * Error classes: ERR_NOHOST (the name does not resolve), ERR_TEMP
 * (refused, unreachable, timeout, reset, EOF while writing), ERR_OS.
 * Messages name host:port.
 */
#ifndef NET_H
#define NET_H

#include "common.h"
#include "status.h"

/* Connects; *fdp gets a non-blocking socket. timeout_ms <= 0: 5 minutes. */
int	net_connect(const char *host, int port, int timeout_ms, int *fdp,
	    struct err *err);
/*
 * Waits until fd is readable (events POLLIN) or writable (POLLOUT).
 * ERR_TEMP "timed out" after timeout_ms (<= 0: no limit).
 */
int	net_wait(int fd, short events, int timeout_ms, struct err *err);
/* Reads up to len bytes; *nread = 0 means EOF. */
int	net_read(int fd, void *buf, size_t len, int timeout_ms,
	    size_t *nread, struct err *err);
/* Writes all len bytes (MSG_NOSIGNAL on sockets). */
int	net_write(int fd, const void *buf, size_t len, int timeout_ms,
	    struct err *err);
/* 1 if host is an IPv4 or IPv6 literal. */
int	net_is_ip_literal(const char *host);
/* 1 if the peer of fd is a loopback address or a local (AF_UNIX) socket. */
int	net_peer_is_local(int fd);
/*
 * The peer's address of fd, numeric ("192.0.2.1", "2001:db8::1"); "" when
 * it has none (not a socket, AF_UNIX). Always terminates dst.
 */
void	net_peer_addr(int fd, char *dst, size_t size);
/* Makes fd non-blocking. */
int	net_set_nonblock(int fd, struct err *err);

#endif
