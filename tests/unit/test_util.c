/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * test_util.c -- the small helpers: util_sanitize (what reaches a log or a
 * terminal), base64 and base64url (RFC 4648 vectors, strictness, limits),
 * the Date and Message-ID formats, random hex, number and duration
 * parsing, the home and XDG directories, util_mkdirs and util_write_all.
 */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "crypto.h"
#include "util.h"

/* ---------------------------------------------------------- sanitize --- */

static const char *
san(const char *s, size_t len, size_t dstsize)
{
	static char out[256];

	assert_true(dstsize <= sizeof(out));
	memset(out, 'Z', sizeof(out));
	util_sanitize(out, dstsize, s, len);
	return out;
}

#define SAN(s)	san((s), sizeof(s) - 1, 256)

static void
test_sanitize_plain(void **state)
{
	(void)state;
	assert_string_equal(SAN("250 2.0.0 OK queued as 12345"),
	    "250 2.0.0 OK queued as 12345");
	assert_string_equal(SAN(""), "");
	assert_string_equal(SAN("a\tb"), "a b");	/* HTAB is a space */
}

/* Control characters, DEL and NUL are escaped: a reply cannot forge log
 * lines or move a terminal's cursor. */
static void
test_sanitize_controls(void **state)
{
	(void)state;
	assert_string_equal(SAN("line\r\nforged: yes"),
	    "line\\x0d\\x0aforged: yes");
	assert_string_equal(SAN("\033[2J\033]0;title\007"),
	    "\\x1b[2J\\x1b]0;title\\x07");
	assert_string_equal(SAN("a\177b"), "a\\x7fb");
	assert_string_equal(SAN("nul\0after"), "nul\\x00after");
	assert_string_equal(SAN("\001\037"), "\\x01\\x1f");
}

/* Valid UTF-8 passes as is; a byte >= 0x80 that is not part of a valid
 * sequence is escaped (a lone 0x9b is CSI on an 8-bit terminal). */
static void
test_sanitize_utf8(void **state)
{
	(void)state;
	assert_string_equal(SAN("J\303\274rgen \342\202\254 \360\237\230\200"),
	    "J\303\274rgen \342\202\254 \360\237\230\200");
	assert_string_equal(SAN("\233" "2J"), "\\x9b2J");
	assert_string_equal(SAN("\377\376"), "\\xff\\xfe");
	/* A truncated sequence, a lead byte followed by ASCII. */
	assert_string_equal(SAN("x\342\202"), "x\\xe2\\x82");
	assert_string_equal(SAN("\303A"), "\\xc3A");
	/* C1 controls, even well-formed, are escaped. */
	assert_string_equal(SAN("\302\233" "2J"), "\\xc2\\x9b2J");
	assert_string_equal(SAN("\302\240"), "\302\240");	/* NBSP */
	/* Overlong, surrogate and too large encodings are not valid UTF-8. */
	assert_string_equal(SAN("\300\257"), "\\xc0\\xaf");
	assert_string_equal(SAN("\355\240\200"), "\\xed\\xa0\\x80");
	assert_string_equal(SAN("\340\200\200"), "\\xe0\\x80\\x80");
	assert_string_equal(SAN("\364\220\200\200"),
	    "\\xf4\\x90\\x80\\x80");
	assert_string_equal(SAN("\365\200\200\200"),
	    "\\xf5\\x80\\x80\\x80");
}

/* Truncation: always NUL-terminated, "..." when something was cut, never
 * half an escape. */
static void
test_sanitize_truncate(void **state)
{
	const char *r;

	(void)state;
	r = san("abcdefghij", 10, 8);	/* room is kept for the dots */
	assert_string_equal(r, "abcd...");
	r = san("abcd", 4, 8);		/* fits: no dots */
	assert_string_equal(r, "abcd");
	r = san("ab\001cdefgh", 9, 9);	/* the escape does not fit */
	assert_string_equal(r, "ab...");
	r = san("ab\001cdefgh", 9, 10);
	assert_string_equal(r, "ab\\x01...");
	r = san("ab\342\202\254cd", 7, 8);	/* nor does the euro sign */
	assert_string_equal(r, "ab...");
	r = san("abcdef", 6, 1);
	assert_string_equal(r, "");
	r = san("abcdef", 6, 3);
	assert_int_equal(r[0], '\0');
	r = san("xyz", 3, 0);		/* dstsize 0: nothing written */
	assert_int_equal(r[0], 'Z');
}

/* ------------------------------------------------------------ base64 --- */

static const struct {
	const char *raw, *b64, *url;
} rfc4648[] = {
	{ "", "", "" },
	{ "f", "Zg==", "Zg" },
	{ "fo", "Zm8=", "Zm8" },
	{ "foo", "Zm9v", "Zm9v" },
	{ "foob", "Zm9vYg==", "Zm9vYg" },
	{ "fooba", "Zm9vYmE=", "Zm9vYmE" },
	{ "foobar", "Zm9vYmFy", "Zm9vYmFy" },
};

static void
test_b64_vectors(void **state)
{
	struct buf b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
		const char *raw = rfc4648[i].raw;

		buf_init(&b, 100, 0);
		assert_int_equal(util_b64_encode(&b, raw, strlen(raw)), 0);
		assert_string_equal(buf_str(&b), rfc4648[i].b64);
		buf_free(&b);
		buf_init(&b, 100, 0);
		assert_int_equal(util_b64url_encode(&b, raw, strlen(raw)), 0);
		assert_string_equal(buf_str(&b), rfc4648[i].url);
		buf_free(&b);

		buf_init(&b, 100, 0);
		assert_int_equal(util_b64_decode(&b, rfc4648[i].b64,
		    strlen(rfc4648[i].b64)), 0);
		assert_string_equal(buf_str(&b), raw);
		buf_free(&b);
		/* Padding is optional for the decoders. */
		buf_init(&b, 100, 0);
		assert_int_equal(util_b64_decode(&b, rfc4648[i].url,
		    strlen(rfc4648[i].url)), 0);
		assert_string_equal(buf_str(&b), raw);
		buf_free(&b);
		buf_init(&b, 100, 0);
		assert_int_equal(util_b64url_decode(&b, rfc4648[i].url,
		    strlen(rfc4648[i].url)), 0);
		assert_string_equal(buf_str(&b), raw);
		buf_free(&b);
	}
}

/* 0xfb 0xff 0xbf uses the two alphabet-specific characters. */
static void
test_b64_alphabets(void **state)
{
	static const unsigned char raw[] = { 0xfb, 0xff, 0xbf, 0x00, 0x3e };
	struct buf b;

	(void)state;
	buf_init(&b, 100, 0);
	assert_int_equal(util_b64_encode(&b, raw, sizeof(raw)), 0);
	assert_string_equal(buf_str(&b), "+/+/AD4=");
	buf_free(&b);
	buf_init(&b, 100, 0);
	assert_int_equal(util_b64url_encode(&b, raw, sizeof(raw)), 0);
	assert_string_equal(buf_str(&b), "-_-_AD4");
	buf_free(&b);

	buf_init(&b, 100, 0);
	assert_int_equal(util_b64_decode(&b, "+/+/AD4=", 8), 0);
	assert_int_equal(b.len, sizeof(raw));
	assert_memory_equal(b.data, raw, sizeof(raw));
	buf_free(&b);
	buf_init(&b, 100, 0);
	assert_int_equal(util_b64url_decode(&b, "-_-_AD4", 7), 0);
	assert_int_equal(b.len, sizeof(raw));
	assert_memory_equal(b.data, raw, sizeof(raw));
	buf_free(&b);

	/* Each decoder refuses the other alphabet. */
	buf_init(&b, 100, 0);
	assert_int_equal(util_b64_decode(&b, "-_-_AD4", 7), -1);
	buf_free(&b);
	buf_init(&b, 100, 0);
	assert_int_equal(util_b64url_decode(&b, "+/+/AD4=", 8), -1);
	buf_free(&b);
}

static void
test_b64_invalid(void **state)
{
	static const char *bad[] = {
		"Z",		/* one character of a quantum */
		"Zm9vY",	/* 4n + 1 */
		"Zg=",		/* padding to a length that is not 4n */
		"Zg===",	/* three pads */
		"Zg==Zg==",	/* padding in the middle */
		"Zm9v!",	/* not in the alphabet */
		"Zm 9v",	/* no whitespace */
		"Zm9v\n",
		"=",
		"==",
	};
	struct buf b;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_init(&b, 100, 0);
		if (util_b64_decode(&b, bad[i], strlen(bad[i])) != -1)
			fail_msg("base64 \"%s\" was accepted", bad[i]);
		buf_free(&b);
	}
	/* The length counts, not the NUL: a NUL inside is invalid. */
	buf_init(&b, 100, 0);
	assert_int_equal(util_b64_decode(&b, "Zm9v\0Zm9v", 9), -1);
	buf_free(&b);
}

/* Round trips of every length up to 300, all byte values; and the output
 * limit of the buffer is honoured. */
static void
test_b64_roundtrip(void **state)
{
	unsigned char raw[300];
	struct buf enc, dec;
	size_t n, i;

	(void)state;
	for (i = 0; i < sizeof(raw); i++)
		raw[i] = (unsigned char)(i * 7 + 3);
	for (n = 0; n <= sizeof(raw); n++) {
		buf_init(&enc, 1000, 0);
		buf_init(&dec, 1000, 0);
		assert_int_equal(util_b64_encode(&enc, raw, n), 0);
		assert_int_equal(enc.len, 4 * ((n + 2) / 3));
		assert_int_equal(util_b64_decode(&dec, enc.data, enc.len), 0);
		assert_int_equal(dec.len, n);
		assert_memory_equal(dec.data, raw, n);
		buf_free(&enc);
		buf_free(&dec);

		buf_init(&enc, 1000, BUF_SECRET);
		buf_init(&dec, 1000, BUF_SECRET);
		assert_int_equal(util_b64url_encode(&enc, raw, n), 0);
		assert_null(memchr(buf_str(&enc), '=', enc.len));
		assert_int_equal(util_b64url_decode(&dec, enc.data, enc.len), 0);
		assert_int_equal(dec.len, n);
		assert_memory_equal(dec.data, raw, n);
		buf_free(&enc);
		buf_free(&dec);
	}

	buf_init(&enc, 7, 0);		/* "Zm9vYmFy" needs 8 */
	assert_int_equal(util_b64_encode(&enc, "foobar", 6), -1);
	buf_free(&enc);
	buf_init(&dec, 5, 0);		/* "foobar" needs 6 */
	assert_int_equal(util_b64_decode(&dec, "Zm9vYmFy", 8), -1);
	buf_free(&dec);
	buf_init(&enc, 7, 0);
	assert_int_equal(util_b64url_encode(&enc, "foobar", 6), -1);
	buf_free(&enc);
}

/* -------------------------------------------------- date, Message-ID --- */

static void
set_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

/* RFC 5322 date-time: day-name, day month year, time, numeric zone;
 * English names whatever the locale. */
static void
test_date(void **state)
{
	char d[64];

	(void)state;
	set_tz("UTC0");
	assert_int_equal(util_date(d, sizeof(d), 0), 0);
	assert_string_equal(d, "Thu, 1 Jan 1970 00:00:00 +0000");
	assert_int_equal(util_date(d, sizeof(d), 1795891501), 0);
	assert_string_equal(d, "Sat, 28 Nov 2026 18:45:01 +0000");
	assert_int_equal(util_date(d, sizeof(d), 951782400), 0);
	assert_string_equal(d, "Tue, 29 Feb 2000 00:00:00 +0000");

	set_tz("IST-5:30");		/* POSIX: east of Greenwich */
	assert_int_equal(util_date(d, sizeof(d), 0), 0);
	assert_string_equal(d, "Thu, 1 Jan 1970 05:30:00 +0530");
	set_tz("NST3:30");
	assert_int_equal(util_date(d, sizeof(d), 0), 0);
	assert_string_equal(d, "Wed, 31 Dec 1969 20:30:00 -0330");
	set_tz("EST5");
	assert_int_equal(util_date(d, sizeof(d), 1795891501), 0);
	assert_string_equal(d, "Sat, 28 Nov 2026 13:45:01 -0500");

	/* Too small for the whole date: -1, never a truncated header. */
	set_tz("UTC0");
	assert_int_equal(util_date(d, strlen("Thu, 1 Jan 1970 00:00:00 +0000"), 0), -1);
	assert_int_equal(util_date(d, strlen("Thu, 1 Jan 1970 00:00:00 +0000") + 1, 0), 0);
	unsetenv("TZ");
	tzset();
}

static int
is_lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* "<16 hex.16 hex@domain>": 128 random bits, different every time. */
static void
test_message_id(void **state)
{
	char a[128], b[128];

	(void)state;
	assert_int_equal(util_message_id(a, sizeof(a), "example.test"), 0);
	assert_int_equal(strlen(a), 1 + 16 + 1 + 16 + 1 + 12 + 1);
	assert_int_equal(a[0], '<');
	assert_true(is_lower_hex(a + 1, 16));
	assert_int_equal(a[17], '.');
	assert_true(is_lower_hex(a + 18, 16));
	assert_string_equal(a + 34, "@example.test>");
	assert_int_equal(util_message_id(b, sizeof(b), "example.test"), 0);
	assert_string_not_equal(a, b);
	/* Too small: -1. */
	assert_int_equal(util_message_id(a, 40, "example.test"), -1);
	assert_int_equal(util_message_id(a, 49, "example.test"), 0);
}

static void
test_random_hex(void **state)
{
	char h[129], h2[129];

	(void)state;
	assert_int_equal(util_random_hex(h, 64), 0);
	assert_int_equal(strlen(h), 128);
	assert_true(is_lower_hex(h, 128));
	assert_int_equal(util_random_hex(h2, 64), 0);
	assert_string_not_equal(h, h2);
	assert_int_equal(util_random_hex(h, 0), 0);
	assert_string_equal(h, "");
	assert_int_equal(util_random_hex(h, 65), -1);	/* more than it can */
}

static void
test_hostname(void **state)
{
	const char *h;

	(void)state;
	h = util_hostname();
	assert_non_null(h);
	assert_true(strlen(h) > 0);
	assert_ptr_equal(util_hostname(), h);	/* cached */
}

/* ----------------------------------------------------------- numbers --- */

static void
test_parse_ll(void **state)
{
	static const struct {
		const char *s, *err;
		long long want;
	} cases[] = {
		{ "0", NULL, 0 },
		{ "42", NULL, 42 },
		{ "-7", NULL, -7 },
		{ "100", NULL, 100 },
		{ "101", "too large", 0 },
		{ "-11", "too small", 0 },
		{ "", "invalid", 0 },
		{ " 1", "invalid", 0 },
		{ "+1", "invalid", 0 },
		{ "1 ", "invalid", 0 },
		{ "1x", "invalid", 0 },
		{ "0x10", "invalid", 0 },
		{ "99999999999999999999", "too large", 0 },
		{ "-99999999999999999999", "too small", 0 },
	};
	const char *errstr;
	long long v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = 12345;
		if (cases[i].err == NULL) {
			assert_int_equal(util_parse_ll(cases[i].s, -10, 100, &v,
			    &errstr), 0);
			assert_null(errstr);
			assert_int_equal(v, cases[i].want);
		} else {
			assert_int_equal(util_parse_ll(cases[i].s, -10, 100, &v,
			    &errstr), -1);
			assert_non_null(errstr);
			assert_string_equal(errstr, cases[i].err);
			assert_int_equal(v, 12345);	/* untouched */
		}
	}
	assert_int_equal(util_parse_ll(NULL, 0, 1, &v, &errstr), -1);
	assert_int_equal(util_parse_ll("9223372036854775807", 0, LLONG_MAX, &v,
	    &errstr), 0);
	assert_true(v == LLONG_MAX);
}

static void
test_parse_duration(void **state)
{
	static const struct {
		const char *s;
		long long want;		/* -1: refused */
	} cases[] = {
		{ "0", 0 }, { "30", 30 }, { "30s", 30 }, { "5m", 300 },
		{ "2h", 7200 }, { "1d", 86400 }, { "3153600000", 3153600000LL },
		{ "36500d", 3153600000LL },
		{ "", -1 }, { "s", -1 }, { "m", -1 }, { "-1", -1 }, { "-1m", -1 },
		{ "5x", -1 }, { "1.5h", -1 }, { "5 m", -1 }, { "5mm", -1 },
		{ "3153600001", -1 },
		{ "1111111111111111111111111111111111111", -1 },
	};
	long long v;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		v = -42;
		if (cases[i].want >= 0) {
			if (util_parse_duration(cases[i].s, &v) != 0)
				fail_msg("duration \"%s\" refused", cases[i].s);
			assert_true(v == cases[i].want);
		} else if (util_parse_duration(cases[i].s, &v) != -1)
			fail_msg("duration \"%s\" accepted", cases[i].s);
	}
}

static void
test_fmt_dur(void **state)
{
	static const struct {
		long long s;
		const char *want;
	} cases[] = {
		{ -5, "0s" }, { 0, "0s" }, { 45, "45s" }, { 59, "59s" },
		{ 60, "1m" }, { 12 * 60 + 59, "12m" }, { 3599, "59m" },
		{ 3600, "1h00m" }, { 2 * 3600 + 5 * 60, "2h05m" },
		{ 86399, "23h59m" }, { 86400, "1d00h" },
		{ 3 * 86400 + 4 * 3600 + 59, "3d04h" },
	};
	char d[32];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		util_fmt_dur(d, sizeof(d), cases[i].s);
		assert_string_equal(d, cases[i].want);
	}
}

static void
test_is_ascii(void **state)
{
	(void)state;
	assert_true(util_is_ascii("", 0));
	assert_true(util_is_ascii("plain\001\177", 7));
	assert_false(util_is_ascii("caf\303\251", 5));
	assert_true(util_is_ascii("caf\303\251", 3));	/* length counts */
	assert_false(util_is_ascii("\200", 1));
}

/* ------------------------------------------------------ files, fds --- */

static void
test_mkdirs(void **state)
{
	char tmpl[] = "/tmp/om-test-util.XXXXXX", p[256];
	struct stat st;
	mode_t old;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	old = umask(022);
	(void)snprintf(p, sizeof(p), "%s/a/b/c", tmpl);
	assert_int_equal(util_mkdirs(p, 0700), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	(void)snprintf(p, sizeof(p), "%s/a", tmpl);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	/* Existing: fine; trailing slash: fine. */
	(void)snprintf(p, sizeof(p), "%s/a/b/c/", tmpl);
	assert_int_equal(util_mkdirs(p, 0700), 0);
	/* A file in the way: -1. */
	(void)snprintf(p, sizeof(p), "%s/f", tmpl);
	close(open(p, O_CREAT | O_WRONLY, 0600));
	(void)snprintf(p, sizeof(p), "%s/f/g", tmpl);
	assert_int_equal(util_mkdirs(p, 0700), -1);
	assert_int_equal(errno, ENOTDIR);
	umask(old);
	(void)snprintf(p, sizeof(p), "rm -rf '%s'", tmpl);
	assert_int_equal(system(p), 0);
}

/* $HOME counts when it is an absolute directory of ours other than "/";
 * else the password database's home. */
static void
test_home(void **state)
{
	char tmpl[] = "/tmp/om-test-home.XXXXXX";
	struct passwd *pw;

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	pw = getpwuid(getuid());
	assert_non_null(pw);
	assert_int_equal(setenv("HOME", tmpl, 1), 0);
	assert_string_equal(util_home(), tmpl);
	assert_int_equal(setenv("HOME", "/", 1), 0);	/* sudo's HOME */
	assert_string_equal(util_home(), pw->pw_dir);
	assert_int_equal(setenv("HOME", "/nonexistent/home", 1), 0);
	assert_string_equal(util_home(), pw->pw_dir);
	assert_int_equal(setenv("HOME", "relative", 1), 0);
	assert_string_equal(util_home(), pw->pw_dir);
	assert_int_equal(rmdir(tmpl), 0);
}

static void
test_xdg_dir(void **state)
{
	char tmpl[] = "/tmp/om-test-xdg.XXXXXX", d[64], want[64];

	(void)state;
	assert_non_null(mkdtemp(tmpl));
	assert_int_equal(setenv("HOME", tmpl, 1), 0);
	(void)snprintf(want, sizeof(want), "%s/.local/state", tmpl);
	assert_int_equal(setenv("XDG_STATE_HOME", "/x/state", 1), 0);
	assert_int_equal(util_xdg_dir(d, sizeof(d), "XDG_STATE_HOME",
	    ".local/state"), 0);
	assert_string_equal(d, "/x/state");
	/* A relative value is ignored, as the XDG spec says. */
	assert_int_equal(setenv("XDG_STATE_HOME", "rel/state", 1), 0);
	assert_int_equal(util_xdg_dir(d, sizeof(d), "XDG_STATE_HOME",
	    ".local/state"), 0);
	assert_string_equal(d, want);
	assert_int_equal(unsetenv("XDG_STATE_HOME"), 0);
	assert_int_equal(util_xdg_dir(d, sizeof(d), "XDG_STATE_HOME",
	    ".local/state"), 0);
	assert_string_equal(d, want);
	/* Too long for dst: -1, not a truncated path. */
	assert_int_equal(util_xdg_dir(d, 10, "XDG_STATE_HOME", ".local/state"), -1);
	assert_int_equal(rmdir(tmpl), 0);
}

/* A bounded wait for a lock another open file description holds. */
static void
test_flock_wait(void **state)
{
	char path[] = "/tmp/test_util_flockXXXXXX";
	int a, b;

	(void)state;
	a = mkstemp(path);
	assert_true(a >= 0);
	b = open(path, O_RDONLY);
	assert_true(b >= 0);
	(void)unlink(path);
	assert_int_equal(util_flock_wait(a, 0), 0);
	errno = 0;
	assert_int_equal(util_flock_wait(b, 30), -1);	/* a holds it */
	assert_int_equal(errno, EWOULDBLOCK);
	assert_int_equal(util_flock_wait(a, 30), 0);	/* its own: again */
	close(a);				/* released with a's description */
	assert_int_equal(util_flock_wait(b, 30), 0);
	close(b);
	errno = 0;
	assert_int_equal(util_flock_wait(-1, 30), -1);
	assert_int_equal(errno, EBADF);
}

static void
test_write_all(void **state)
{
	char big[200000], back[200000];
	int fds[2];
	size_t got = 0;
	ssize_t r;
	pid_t pid;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)(i % 251);
	/* More than a pipe holds: a reader in a child, short writes here. */
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		_exit(util_write_all(fds[1], big, sizeof(big)) == 0 ? 0 : 1);
	}
	close(fds[1]);
	while ((r = read(fds[0], back + got, sizeof(back) - got)) > 0)
		got += (size_t)r;
	close(fds[0]);
	assert_int_equal(got, sizeof(big));
	assert_memory_equal(back, big, sizeof(big));

	errno = 0;
	assert_int_equal(util_write_all(-1, "x", 1), -1);
	assert_int_equal(errno, EBADF);
	assert_int_equal(util_write_all(-1, "", 0), 0);	/* nothing to do */
}

/* crypto.c: known answers (FIPS 180-2, RFC 4648, the GCM specification's
 * AES-256 test cases 13 and 14), then a tampered AAD, tag and text. */
static void
hex_to(unsigned char *dst, const char *hex)
{
	size_t i;

	for (i = 0; hex[2 * i] != '\0'; i++)
		dst[i] = (unsigned char)(util_hexval(hex[2 * i]) << 4 |
		    util_hexval(hex[2 * i + 1]));
}

static void
test_crypto_sha256_b64(void **state)
{
	unsigned char md[CRYPTO_SHA256_LEN], want[CRYPTO_SHA256_LEN];
	struct buf b;

	(void)state;
	assert_int_equal(crypto_sha256("abc", 3, md), 0);
	hex_to(want, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	assert_memory_equal(md, want, sizeof(md));
	buf_init(&b, 64, 0);
	assert_int_equal(crypto_b64_encode(&b, "foobar", 6), 0);
	assert_string_equal(buf_str(&b), "Zm9vYmFy");
	buf_reset(&b);
	assert_int_equal(crypto_b64_encode(&b, "fo", 2), 0);
	assert_string_equal(buf_str(&b), "Zm8=");
	buf_free(&b);
}

static void
test_crypto_gcm(void **state)
{
	unsigned char key[32] = { 0 }, nonce[12] = { 0 }, pt[16] = { 0 };
	unsigned char ct[16], tag[16], want[16], back[16];
	struct crypto_aad aad = { { "magic", "acct" }, { 5, 4 }, 2 };

	(void)state;
	assert_int_equal(crypto_gcm_seal(key, nonce, NULL, "", 0, ct, tag), 0);
	hex_to(want, "530f8afbc74536b9a963b4f1c4cb738b");
	assert_memory_equal(tag, want, 16);
	assert_int_equal(crypto_gcm_seal(key, nonce, NULL, pt, 16, ct, tag),
	    0);
	hex_to(want, "cea7403d4d606b6e074ec5d3baf39d18");
	assert_memory_equal(ct, want, 16);
	hex_to(want, "d0d1c8a799996bf0265b98b5d48ab919");
	assert_memory_equal(tag, want, 16);

	memcpy(pt, "sixteen byte msg", 16);
	assert_int_equal(crypto_gcm_seal(key, nonce, &aad, pt, 16, ct, tag),
	    0);
	assert_int_equal(crypto_gcm_open(key, nonce, &aad, ct, 16, tag, back),
	    0);
	assert_memory_equal(back, pt, 16);
	aad.p[1] = "accu";
	assert_int_equal(crypto_gcm_open(key, nonce, &aad, ct, 16, tag, back),
	    -1);
	assert_memory_equal(back, (unsigned char [16]){ 0 }, 16);
	aad.p[1] = "acct";
	tag[0] ^= 1;
	assert_int_equal(crypto_gcm_open(key, nonce, &aad, ct, 16, tag, back),
	    -1);
	tag[0] ^= 1;
	ct[15] ^= 0x80;
	assert_int_equal(crypto_gcm_open(key, nonce, &aad, ct, 16, tag, back),
	    -1);
	key[0] = 1;
	ct[15] ^= 0x80;
	assert_int_equal(crypto_gcm_open(key, nonce, &aad, ct, 16, tag, back),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sanitize_plain),
		cmocka_unit_test(test_sanitize_controls),
		cmocka_unit_test(test_sanitize_utf8),
		cmocka_unit_test(test_sanitize_truncate),
		cmocka_unit_test(test_b64_vectors),
		cmocka_unit_test(test_b64_alphabets),
		cmocka_unit_test(test_b64_invalid),
		cmocka_unit_test(test_b64_roundtrip),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_message_id),
		cmocka_unit_test(test_random_hex),
		cmocka_unit_test(test_hostname),
		cmocka_unit_test(test_parse_ll),
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_fmt_dur),
		cmocka_unit_test(test_is_ascii),
		cmocka_unit_test(test_mkdirs),
		cmocka_unit_test(test_home),
		cmocka_unit_test(test_xdg_dir),
		cmocka_unit_test(test_write_all),
		cmocka_unit_test(test_flock_wait),
		cmocka_unit_test(test_crypto_sha256_b64),
		cmocka_unit_test(test_crypto_gcm),
	};

	return cmocka_run_group_tests_name("util", tests, NULL, NULL);
}
