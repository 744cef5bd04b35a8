/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * util.h -- small helpers: sanitising untrusted text, dates, ids, host
 * names, base64, numbers and paths.
 */
#ifndef UTIL_H
#define UTIL_H

#include <time.h>

#include "common.h"
#include "buf.h"

/*
 * Copies src[0..len) into dst (always NUL-terminated), escaping control
 * characters (C0, DEL, C1) and bytes that are not part of well-formed
 * UTF-8 as \xHH, HTAB as a space, and truncating with "..." when it does
 * not fit (never in the middle of an escape or a character).
 */
void	 util_sanitize(char *dst, size_t dstsize, const char *src, size_t len);
/* RFC 5322 date-time for t in local time: "Sat, 28 Nov 2026 18:45:01 +0000". */
int	 util_date(char *dst, size_t size, time_t t);
/* "<hex.hex@domain>" with 128 random bits. */
int	 util_message_id(char *dst, size_t size, const char *domain);
/* Fully qualified host name of this machine, or the short one. Static. */
const char *util_hostname(void);
/* n random bytes as 2n lower-case hex digits + NUL into dst (2n+1). */
int	 util_random_hex(char *dst, size_t nbytes);
int	 util_random_bytes(void *dst, size_t n);

/* Standard base64 with padding, no newlines. Output is NUL-terminated. */
int	 util_b64_encode(struct buf *out, const void *in, size_t len);
/* Decodes standard base64 (padding optional). -1 on invalid input. */
int	 util_b64_decode(struct buf *out, const char *in, size_t len);
/* base64url without padding (RFC 7636 / JWT). */
int	 util_b64url_encode(struct buf *out, const void *in, size_t len);
int	 util_b64url_decode(struct buf *out, const char *in, size_t len);

/* strtonum(3)-like: -1 with errstr set ("invalid", "too small", ...). */
int	 util_parse_ll(const char *s, long long min, long long max,
	    long long *out, const char **errstr);
/*
 * A number 0..max with an optional one-character suffix: the suffix at
 * index i of suffixes gives *mult = mults[i] (else 1). The caller bounds
 * the product. -1 on anything else.
 */
int	 util_parse_scaled(const char *s, const char *suffixes,
	    const long long *mults, long long max, long long *num,
	    long long *mult);
/* The value of a hexadecimal digit, or -1. */
int	 util_hexval(int c);
/* "30", "30s", "5m", "2h", "1d" -> seconds. */
int	 util_parse_duration(const char *s, long long *secs);
/* Seconds as a compact duration: 45s, 12m, 2h05m, 3d04h (< 0: 0s). */
void	 util_fmt_dur(char *dst, size_t size, long long s);

/* mkdir -p with mode for each created component. */
int	 util_mkdirs(const char *path, mode_t mode);
/*
 * The user's home directory: $HOME when it is an absolute path other than
 * "/" and a directory the user owns, else the password database's entry
 * (sudo's mailer and some daemons run programs with HOME=/ or the HOME of
 * another user). NULL when neither is usable. Static storage.
 */
const char *util_home(void);
/* $XDG_STATE_HOME or ~/.local/state, $XDG_CONFIG_HOME or ~/.config. */
int	 util_xdg_dir(char *dst, size_t size, const char *env,
	    const char *fallback_under_home);
/* write(2) until all n bytes are written (EINTR retried); -1 + errno. */
int	 util_write_all(int fd, const void *p, size_t n);
/*
 * flock(LOCK_EX|LOCK_NB) on fd, tried every 10 ms for at most ms
 * milliseconds (EINTR retried): for locks held only briefly, where a
 * stopped holder must not stall the caller. -1 + errno (EWOULDBLOCK once
 * the time is up).
 */
int	 util_flock_wait(int fd, int ms);
/* 1 if s is ASCII only. */
int	 util_is_ascii(const char *s, size_t len);

#endif
