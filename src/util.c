/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* util.c -- small helpers; see util.h. */
#include "common.h"

#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_GETRANDOM
#include <sys/random.h>
#endif

#include "crypto.h"
#include "util.h"

/*
 * Length of the well-formed UTF-8 sequence (RFC 3629: no overlong forms,
 * no surrogates, nothing above U+10FFFF) at s[0..n), 0 if there is none.
 * The C1 controls U+0080..U+009F count as none: they are escaped too.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	if (s[0] == 0xc2 || s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

void
util_sanitize(char *dst, size_t size, const char *src, size_t len)
{
	const unsigned char *u = (const unsigned char *)src;
	const char *from;
	char esc[8];
	size_t i, o = 0, n, w;

	if (size == 0)
		return;
	for (i = 0; i < len; i += n) {
		from = src + i;
		n = w = 1;
		if (u[i] == '\t') {
			from = " ";
		} else if (u[i] >= 0x80 &&
		    (n = w = utf8_seq(u + i, len - i)) > 0) {
			/* a whole character, as is */
		} else if (u[i] < 0x20 || u[i] >= 0x7f) {
			(void)snprintf(esc, sizeof(esc), "\\x%02x", u[i]);
			from = esc;
			n = 1;
			w = 4;
		}
		if (o + w + 4 > size) {
			if (o + 4 <= size) {
				memcpy(dst + o, "...", 3);
				o += 3;
			}
			break;
		}
		memcpy(dst + o, from, w);
		o += w;
	}
	dst[o] = '\0';
}

int
util_date(char *dst, size_t size, time_t t)
{
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return -1;
	/* %z is numeric; day and month names come from the C locale. */
	static const char *days[] = { "Sun", "Mon", "Tue", "Wed", "Thu",
	    "Fri", "Sat" };
	static const char *months[] = { "Jan", "Feb", "Mar", "Apr", "May",
	    "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
	long off = tm.tm_gmtoff / 60;
	char sign = off < 0 ? '-' : '+';
	int r;

	if (off < 0)
		off = -off;
	r = snprintf(dst, size, "%s, %d %s %d %02d:%02d:%02d %c%02ld%02ld",
	    days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
	    off / 60, off % 60);
	return (r < 0 || (size_t)r >= size) ? -1 : 0;
}

/*
 * getrandom(2) first: RAND_bytes' first call initialises OpenSSL (reads
 * openssl.cnf, loads providers, seeds a DRBG), ~1.4 ms and ~2 MB that
 * every "sendmail -odq" paid for a 16-byte queue id. OpenSSL only where
 * getrandom is missing (old kernel, seccomp filter).
 */
int
util_random_bytes(void *dst, size_t n)
{
#ifdef HAVE_GETRANDOM
	unsigned char *p = dst;
	ssize_t r;

	while (n > 0) {
		r = getrandom(p, n > 256 ? 256 : n, 0);
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		p += r;
		n -= (size_t)r;
	}
	if (n == 0)
		return 0;
	dst = p;
#endif
	return crypto_random(dst, n);
}

int
util_random_hex(char *dst, size_t nbytes)
{
	unsigned char raw[64];
	size_t i;

	if (nbytes > sizeof(raw) || util_random_bytes(raw, nbytes) == -1)
		return -1;
	for (i = 0; i < nbytes; i++)
		(void)snprintf(dst + 2 * i, 3, "%02x", raw[i]);
	dst[2 * nbytes] = '\0';
	return 0;
}

int
util_message_id(char *dst, size_t size, const char *domain)
{
	char a[17], b[17];
	int r;

	if (util_random_hex(a, 8) == -1 || util_random_hex(b, 8) == -1)
		return -1;
	r = snprintf(dst, size, "<%s.%s@%s>", a, b, domain);
	return (r < 0 || (size_t)r >= size) ? -1 : 0;
}

const char *
util_hostname(void)
{
	static char name[256];
	struct addrinfo hints, *res = NULL;

	if (name[0] != '\0')
		return name;
	if (gethostname(name, sizeof(name) - 1) == -1 || name[0] == '\0') {
		(void)strlcpy(name, "localhost", sizeof(name));
		return name;
	}
	name[sizeof(name) - 1] = '\0';
	if (strchr(name, '.') != NULL)
		return name;
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_CANONNAME;
	hints.ai_family = AF_UNSPEC;
	if (getaddrinfo(name, NULL, &hints, &res) == 0 && res != NULL &&
	    res->ai_canonname != NULL && strchr(res->ai_canonname, '.'))
		(void)strlcpy(name, res->ai_canonname, sizeof(name));
	if (res != NULL)
		freeaddrinfo(res);
	return name;
}

int
util_b64_encode(struct buf *out, const void *in, size_t len)
{
	return crypto_b64_encode(out, in, len);
}

static int
b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Strict decoder for both alphabets; '=' padding only at the end. */
static int
b64_decode_any(struct buf *out, const char *in, size_t len, int url)
{
	unsigned long acc = 0;
	int bits = 0;
	size_t i, pad = 0;

	while (len > 0 && in[len - 1] == '=' && pad < 2) {
		len--;
		pad++;
	}
	if (pad != 0 && (len + pad) % 4 != 0)
		return -1;
	for (i = 0; i < len; i++) {
		int c = (unsigned char)in[i], v = b64_value(c);

		if (v < 0)
			return -1;
		if (url && (c == '+' || c == '/'))
			return -1;
		if (!url && (c == '-' || c == '_'))
			return -1;
		acc = (acc << 6) | (unsigned long)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			if (buf_addc(out, (int)((acc >> bits) & 0xff)) == -1)
				return -1;
		}
	}
	if (len % 4 == 1)
		return -1;
	return 0;
}

int
util_b64_decode(struct buf *out, const char *in, size_t len)
{
	return b64_decode_any(out, in, len, 0);
}

int
util_b64url_decode(struct buf *out, const char *in, size_t len)
{
	return b64_decode_any(out, in, len, 1);
}

int
util_b64url_encode(struct buf *out, const void *in, size_t len)
{
	struct buf tmp;
	size_t i, n;

	buf_init(&tmp, 4 * ((len + 2) / 3) + 1, out->flags);
	if (util_b64_encode(&tmp, in, len) == -1)
		return -1;
	n = tmp.len;
	while (n > 0 && tmp.data[n - 1] == '=')
		n--;
	for (i = 0; i < n; i++) {
		char c = tmp.data[i];

		if (c == '+')
			c = '-';
		else if (c == '/')
			c = '_';
		if (buf_addc(out, c) == -1) {
			buf_free(&tmp);
			return -1;
		}
	}
	buf_free(&tmp);
	return 0;
}

int
util_parse_ll(const char *s, long long min, long long max, long long *out,
    const char **errstr)
{
	char *end;
	long long v;

	*errstr = NULL;
	if (s == NULL || *s == '\0' || *s == ' ' || *s == '+') {
		*errstr = "invalid";
		return -1;
	}
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0') {
		*errstr = "invalid";
		return -1;
	}
	if ((errno == ERANGE && v == LLONG_MIN) || v < min) {
		*errstr = "too small";
		return -1;
	}
	if ((errno == ERANGE && v == LLONG_MAX) || v > max) {
		*errstr = "too large";
		return -1;
	}
	*out = v;
	return 0;
}

int
util_parse_scaled(const char *s, const char *suffixes,
    const long long *mults, long long max, long long *num, long long *mult)
{
	char buf[32];
	const char *p;
	size_t n = strlen(s);
	const char *errstr;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n + 1);
	*mult = 1;
	if ((p = strchr(suffixes, buf[n - 1])) != NULL) {
		*mult = mults[p - suffixes];
		buf[--n] = '\0';
	}
	return util_parse_ll(buf, 0, max, num, &errstr);
}

int
util_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
util_parse_duration(const char *s, long long *secs)
{
	static const long long mults[] = { 1, 60, 3600, 86400 };
	long long v, mult;

	if (util_parse_scaled(s, "smhd", mults, 100LL * 365 * 86400, &v,
	    &mult) == -1)
		return -1;
	*secs = v * mult;
	return 0;
}

void
util_fmt_dur(char *dst, size_t size, long long s)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		(void)snprintf(dst, size, "%llds", s);
	else if (s < 3600)
		(void)snprintf(dst, size, "%lldm", s / 60);
	else if (s < 86400)
		(void)snprintf(dst, size, "%lldh%02lldm", s / 3600,
		    (s % 3600) / 60);
	else
		(void)snprintf(dst, size, "%lldd%02lldh", s / 86400,
		    (s % 86400) / 3600);
}

int
util_mkdirs(const char *path, mode_t mode)
{
	char tmp[PATH_MAX];
	char *p;

	if (strlcpy(tmp, path, sizeof(tmp)) >= sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (p = tmp + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(tmp, mode) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

const char *
util_home(void)
{
	static char buf[PATH_MAX];
	const char *home = getenv("HOME");
	struct passwd *pw;
	struct stat st;

	if (home != NULL && home[0] == '/' && strcmp(home, "/") != 0 &&
	    stat(home, &st) == 0 && S_ISDIR(st.st_mode) &&
	    st.st_uid == getuid())
		return home;
	if ((pw = getpwuid(getuid())) == NULL || pw->pw_dir == NULL ||
	    pw->pw_dir[0] != '/' ||
	    strlcpy(buf, pw->pw_dir, sizeof(buf)) >= sizeof(buf))
		return home != NULL && home[0] == '/' ? home : NULL;
	return buf;
}

int
util_xdg_dir(char *dst, size_t size, const char *env, const char *fallback)
{
	const char *v = getenv(env), *home;
	int r;

	if (v != NULL && v[0] == '/') {
		r = snprintf(dst, size, "%s", v);
		return (r < 0 || (size_t)r >= size) ? -1 : 0;
	}
	if ((home = util_home()) == NULL)
		return -1;
	r = snprintf(dst, size, "%s/%s", home, fallback);
	return (r < 0 || (size_t)r >= size) ? -1 : 0;
}

int
util_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	ssize_t w;

	while (n > 0) {
		w = write(fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int
util_is_ascii(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return 0;
	return 1;
}

int
util_flock_wait(int fd, int ms)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };
	int i;

	for (i = 0; ; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		if (i >= ms / 10) {
			errno = EWOULDBLOCK;
			return -1;
		}
		(void)nanosleep(&ts, NULL);
	}
}
