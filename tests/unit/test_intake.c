/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* test_intake.c -- stdin to spool: fixtures through intake_read(). */
#include "unit.h"

#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "aliases.h"
#include "buf.h"
#include "envelope.h"
#include "intake.h"
#include "status.h"
#include "xmalloc.h"

#define ALIASES	"root: admin@example.com\n" \
		"logwatch: ops@example.com\n" \
		"postmaster: a@example.com, b@example.com\n"

/* run flags */
#define F_I	0x01	/* -i */
#define F_T	0x02	/* -t */
#define F_NOAL	0x04	/* no aliases configured */
#define F_FULL	0x08	/* -F "Cron Daemon" */
#define F_VERIFY 0x10	/* verify mode (the maildrop read back) */

struct icase {
	const char	*name;
	const char	*file;	/* tests/data/msg/<file>.eml and .out */
	const char	*in;	/* inline input when file is NULL */
	size_t		 inlen;	/* 0: strlen(in) */
	int		 flags;
	const char	*rcpts;	/* command line, space separated */
	const char	*want;	/* inline expected output */
	const char	*want_rcpts;	/* envelope, space separated */
	enum err_class	 want_err;
	const char	*want_msg;	/* substring of err.msg */
};

#define HDRS	"From: a@example.org\nDate: D\nMessage-ID: <m@x>\n"
#define ADDED	"From: acct@example.com\nDate: *\nMessage-ID: <*@example.com>\n"

static const struct icase cases[] = {
	{ "lf", NULL, HDRS "Subject: s\n\nbody\n", 0, F_I, "bob@example.org",
	  HDRS "Subject: s\n\nbody\n", "bob@example.org", 0, NULL },
	{ "crlf", NULL, "From: a@example.org\r\nDate: D\r\nMessage-ID: <m@x>"
	  "\r\n\r\nbody\r\nline 2\r\n", 0, F_I, "bob@example.org",
	  HDRS "\nbody\nline 2\n", "bob@example.org", 0, NULL },
	{ "mixed", NULL, "From: a@example.org\r\nDate: D\nMessage-ID: <m@x>"
	  "\r\n\nbody\r\nline 2\n", 0, F_I, "bob@example.org",
	  HDRS "\nbody\nline 2\n", "bob@example.org", 0, NULL },
	{ "bare cr removed", NULL, HDRS "\na\rb\r\r\nc\r", 0, F_I,
	  "bob@example.org", HDRS "\nab\nc\n", "bob@example.org", 0, NULL },
	{ "no final newline", NULL, HDRS "\nlast", 0, F_I, "bob@example.org",
	  HDRS "\nlast\n", "bob@example.org", 0, NULL },
	{ "dot ends input", NULL, HDRS "\n..hidden\n.x\n.\nnot read\n", 0, 0,
	  "bob@example.org", HDRS "\n.hidden\n.x\n", "bob@example.org", 0,
	  NULL },
	{ "dot crlf ends input", NULL, HDRS "\na\r\n.\r\nnot read\r\n", 0, 0,
	  "bob@example.org", HDRS "\na\n", "bob@example.org", 0, NULL },
	{ "dots are data with -i", NULL, HDRS "\n..hidden\n.\nread\n", 0,
	  F_I, "bob@example.org", HDRS "\n..hidden\n.\nread\n",
	  "bob@example.org", 0, NULL },
	{ "dot in headers ends input", NULL, "Subject: s\n.\nbody\n", 0, 0,
	  "bob@example.org", "Subject: s\n" ADDED "\n", "bob@example.org", 0,
	  NULL },
	{ "mbox From_", "mbox", NULL, 0, F_I, "bob@example.org", NULL,
	  "bob@example.org", 0, NULL },
	{ ">From_", NULL, ">From x\n" HDRS "\nb\n", 0, F_I, "bob@example.org",
	  HDRS "\nb\n", "bob@example.org", 0, NULL },
	{ "no header", NULL, "just text\nTo: not a header\n", 0, F_I,
	  "bob@example.org", ADDED "\njust text\nTo: not a header\n",
	  "bob@example.org", 0, NULL },
	{ "empty first line", NULL, "\nbody\n", 0, F_I, "bob@example.org",
	  ADDED "\nbody\n", "bob@example.org", 0, NULL },
	{ "missing blank line", NULL, "Subject: s\nbody line\nmore\n", 0, F_I,
	  "bob@example.org", "Subject: s\n" ADDED "\nbody line\nmore\n",
	  "bob@example.org", 0, NULL },
	{ "headers only", NULL, HDRS "Subject: s\n", 0, F_I,
	  "bob@example.org", HDRS "Subject: s\n\n", "bob@example.org", 0,
	  NULL },
	{ "folded headers kept", NULL, HDRS "Subject: one\n two\n\tthree\n"
	  "X-A:\n v\n\nb\n", 0, F_I, "bob@example.org", HDRS "Subject: one\n"
	  " two\n\tthree\nX-A:\n v\n\nb\n", "bob@example.org", 0, NULL },
	{ "fullname", NULL, "Subject: s\n\nb\n", 0, F_I | F_FULL,
	  "bob@example.org", "Subject: s\nFrom: Cron Daemon <acct@example.com>"
	  "\nDate: *\nMessage-ID: <*\n\nb\n", "bob@example.org", 0, NULL },
	{ "cron", "cron", NULL, 0, F_I | F_FULL, "root", NULL,
	  "admin@example.com", 0, NULL },
	{ "logwatch -t, no -i", "logwatch", NULL, 0, F_T, NULL, NULL,
	  "admin@example.com", 0, NULL },
	{ "mdadm -t", "mdadm", NULL, 0, F_T, NULL, NULL,
	  "admin@example.com", 0, NULL },
	{ "php -t -i", "php", NULL, 0, F_T | F_I, NULL, NULL,
	  "bob@example.org", 0, NULL },
	{ "groups -t", "groups", NULL, 0, F_T | F_I, NULL, NULL,
	  "a@x.org b@y.org c@z.org d@x.org hidden@h.org also-hidden@h.org",
	  0, NULL },
	{ "groups -t plus argv", "groups", NULL, 0, F_T | F_I,
	  "extra@e.org a@x.org", NULL,
	  "extra@e.org a@x.org b@y.org c@z.org d@x.org hidden@h.org "
	  "also-hidden@h.org", 0, NULL },
	{ "groups without -t", "groups", NULL, 0, F_I, "x@e.org", NULL,
	  "x@e.org", 0, NULL },
	{ "resent -t", "resent", NULL, 0, F_T | F_I, NULL, NULL,
	  "new@y.org admin@example.com rb@y.org", 0, NULL },
	{ "alias to two", NULL, HDRS "To: Boss <postmaster>, x@y.org\n\nb\n",
	  0, F_T | F_I, NULL, HDRS "To: a@example.com, b@example.com, "
	  "x@y.org\n\nb\n", "a@example.com b@example.com x@y.org", 0, NULL },
	{ "root@localhost", NULL, "From: root@localhost\nTo: root@localhost"
	  "\nDate: D\nMessage-ID: <m@x>\n\nb\n", 0, F_T | F_I, NULL,
	  "From: acct@example.com\nTo: admin@example.com\nDate: D\n"
	  "Message-ID: <m@x>\n\nb\n", "admin@example.com", 0, NULL },
	{ "remote From kept", NULL, "From: Bob <bob@example.org>\nSender: "
	  "root\nDate: D\nMessage-ID: <m@x>\n\nb\n", 0, F_I, "x@y.org",
	  "From: Bob <bob@example.org>\nSender: root <acct@example.com>\n"
	  "Date: D\nMessage-ID: <m@x>\n\nb\n", "x@y.org", 0, NULL },
	{ "dedup", NULL, HDRS "To: x@y.org, X@Y.ORG\nCc: root\n\nb\n", 0,
	  F_T | F_I, "admin@example.com x@y.org", NULL,
	  "admin@example.com x@y.org", 0, NULL },
	{ "8bit and utf8 rcpt", NULL, HDRS "\n\xc3\xa9t\xc3\xa9\n", 0, F_I,
	  "j\xc3\xb6rg@example.org", HDRS "\n\xc3\xa9t\xc3\xa9\n",
	  "j\xc3\xb6rg@example.org", 0, NULL },
	/* errors */
	{ "nul", NULL, HDRS "\nab\0c\n", sizeof(HDRS "\nab\0c\n") - 1, F_I,
	  "bob@example.org", NULL, NULL, ERR_DATA,
	  "message contains NUL bytes" },
	{ "no rcpt -t", NULL, HDRS "Subject: s\n\nb\n", 0, F_T, NULL, NULL,
	  NULL, ERR_USAGE, "No recipient addresses found in message header" },
	{ "no rcpt -t, only empty group", NULL, HDRS "To: list:;\n\nb\n", 0,
	  F_T, NULL, NULL, NULL, ERR_USAGE,
	  "No recipient addresses found in message header" },
	{ "no rcpt", NULL, HDRS "To: x@y.org\n\nb\n", 0, 0, NULL, NULL, NULL,
	  ERR_USAGE, "Recipient addresses must be specified on the command "
	  "line or via the -t option" },
	{ "invalid argv", NULL, HDRS "\nb\n", 0, 0, "bad@@x.org", NULL, NULL,
	  ERR_ADDR, "bad@@x.org" },
	{ "invalid domain argv", NULL, HDRS "\nb\n", 0, 0, "u@x_y.org", NULL,
	  NULL, ERR_ADDR, "u@x_y.org" },
	{ "invalid To -t", NULL, HDRS "To: good@x.org, bad@\n\nb\n", 0, F_T,
	  NULL, NULL, NULL, ERR_ADDR, "bad@" },
	{ "local without aliases", NULL, HDRS "\nb\n", 0, F_NOAL, "root",
	  NULL, NULL, ERR_ADDR, "recipient 'root' is local; set 'aliases' in "
	  "the account and map it (e.g. 'root: you@example.com')" },
	{ "unmapped local", NULL, HDRS "\nb\n", 0, 0, "nobody", NULL, NULL,
	  ERR_ADDR, "nobody" },
	{ "invalid To without -t is left alone", NULL, HDRS "To: bad@\n\nb\n",
	  0, F_I, "x@y.org", HDRS "To: bad@\n\nb\n", "x@y.org", 0, NULL },
};

static char *
fixture(const char *name, const char *ext, size_t *len)
{
	const char *top = getenv("top_srcdir");
	char path[1024];
	struct stat st;
	char *p;
	int fd;

	if (top != NULL)
		(void)snprintf(path, sizeof(path), "%s/tests/data/msg/%s.%s",
		    top, name, ext);
	else {
		/* __FILE__ is .../tests/unit/test_intake.c */
		(void)snprintf(path, sizeof(path), "%s", __FILE__);
		assert_non_null(strstr(path, "tests/unit/test_intake.c"));
		*strstr(path, "unit/test_intake.c") = '\0';
		(void)snprintf(path + strlen(path), sizeof(path) - strlen(path),
		    "data/msg/%s.%s", name, ext);
	}
	fd = open(path, O_RDONLY);
	if (fd == -1)
		fail_msg("%s: %s", path, strerror(errno));
	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(read(fd, p, (size_t)st.st_size), st.st_size);
	p[st.st_size] = '\0';
	close(fd);
	*len = (size_t)st.st_size;
	return p;
}

static char *
slurp_fd(int fd, size_t *len)
{
	struct stat st;
	char *p;

	assert_int_equal(fstat(fd, &st), 0);
	p = malloc((size_t)st.st_size + 1);
	assert_non_null(p);
	assert_int_equal(pread(fd, p, (size_t)st.st_size, 0), st.st_size);
	p[st.st_size] = '\0';
	*len = (size_t)st.st_size;
	return p;
}

static int
tmpfile_fd(void)
{
	char path[] = "/tmp/test_intake.XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd != -1);
	(void)unlink(path);
	return fd;
}

/* a '*' in a want line matches any text there (one per line) */
static int
match(const char *got, const char *want)
{
	while (*got != '\0' || *want != '\0') {
		const char *gn = strchr(got, '\n'), *wn = strchr(want, '\n');
		size_t gl = gn ? (size_t)(gn - got) : strlen(got);
		size_t wl = wn ? (size_t)(wn - want) : strlen(want);

		const char *star = memchr(want, '*', wl);

		if (star != NULL) {
			size_t pl = (size_t)(star - want), sl = wl - pl - 1;

			if (gl < pl + sl || memcmp(got, want, pl) != 0 ||
			    memcmp(got + gl - sl, star + 1, sl) != 0)
				return 0;
		} else if (gl != wl || memcmp(got, want, gl) != 0)
			return 0;
		if ((gn == NULL) != (wn == NULL))
			return 0;
		if (gn == NULL)
			break;
		got = gn + 1;
		want = wn + 1;
	}
	return 1;
}

static size_t
count_lf(const char *p, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += p[i] == '\n';
	return n;
}

static char **
split_words(const char *s, size_t *n)
{
	char *copy, *p, **v = NULL;

	*n = 0;
	if (s == NULL)
		return NULL;
	copy = xstrdup(s);
	for (p = copy; *p != '\0';) {
		size_t l = strcspn(p, " ");

		v = xreallocarray(v, *n + 1, sizeof(*v));
		v[(*n)++] = xstrndup(p, l);
		p += l;
		p += strspn(p, " ");
	}
	free(copy);
	return v;
}

static void
free_words(char **v, size_t n)
{
	while (n-- > 0)
		free(v[n]);
	free(v);
}

struct run {
	struct envelope	 env;
	struct err	 err;
	char		*out;
	size_t		 outlen;
	int		 rc;
};

static void
run_intake_max(const char *in, size_t inlen, int flags, const char *rcpts,
    off_t max, struct run *r)
{
	struct intake_opts o;
	struct aliases *al = NULL;
	struct err e;
	FILE *f;
	int fd;

	memset(&o, 0, sizeof(o));
	if (!(flags & F_NOAL))
		assert_int_equal(aliases_load_buffer("test-aliases", ALIASES,
		    strlen(ALIASES), &al, &e), 0);
	o.aliases = al;
	o.ignore_dots = (flags & F_I) != 0;
	o.extract = (flags & F_T) != 0;
	o.fullname = (flags & F_FULL) ? "Cron Daemon" : NULL;
	o.from_addr = "acct@example.com";
	o.verify = (flags & F_VERIFY) != 0;
	o.max_size = max;
	o.rcpts = split_words(rcpts, &o.nrcpts);
	f = fmemopen((void *)in, inlen, "r");
	assert_non_null(f);
	fd = tmpfile_fd();
	envelope_init(&r->env);
	r->rc = intake_read(f, fd, &o, &r->env, &r->err);
	fclose(f);
	r->out = slurp_fd(fd, &r->outlen);
	close(fd);
	free_words(o.rcpts, o.nrcpts);
	if (al != NULL)
		aliases_free(al);
}

static void
run_intake(const char *in, size_t inlen, int flags, const char *rcpts,
    struct run *r)
{
	run_intake_max(in, inlen, flags, rcpts, 0, r);
}

static void
test_cases(void **state)
{
	size_t i, k, nw;

	(void)state;
	for (i = 0; i < nitems(cases); i++) {
		const struct icase *c = &cases[i];
		struct run r;
		char *in, *want = NULL, **w;
		size_t inlen, wlen;

		if (c->file != NULL)
			in = fixture(c->file, "eml", &inlen);
		else {
			in = xstrdup("");
			free(in);
			inlen = c->inlen ? c->inlen : strlen(c->in);
			in = malloc(inlen + 1);
			memcpy(in, c->in, inlen + 1);
		}
		run_intake(in, inlen, c->flags, c->rcpts, &r);
		if (c->want_err != ERR_NONE) {
			if (r.rc != -1)
				fail_msg("%s: succeeded, want error", c->name);
			assert_int_equal(r.err.class, c->want_err);
			if (strstr(r.err.msg, c->want_msg) == NULL)
				fail_msg("%s: message '%s' lacks '%s'", c->name,
				    r.err.msg, c->want_msg);
		} else {
			if (r.rc != 0)
				fail_msg("%s: %s", c->name, r.err.msg);
			if (c->want != NULL)
				want = xstrdup(c->want);
			else if (c->file != NULL)
				want = fixture(c->file, "out", &wlen);
			if (want != NULL && !match(r.out, want))
				fail_msg("%s: output\n---\n%s---\nwant\n---\n"
				    "%s---", c->name, r.out, want);
			free(want);
			/* size as sent: every LF becomes CRLF */
			assert_int_equal(r.env.size, r.outlen +
			    count_lf(r.out, r.outlen));
			w = split_words(c->want_rcpts, &nw);
			if (r.env.nrcpts != nw)
				fail_msg("%s: %zu recipients, want %zu (first "
				    "'%s')", c->name, r.env.nrcpts, nw,
				    r.env.nrcpts ? r.env.rcpts[0].addr : "");
			for (k = 0; k < nw; k++)
				assert_string_equal(r.env.rcpts[k].addr, w[k]);
			free_words(w, nw);
			/* body8bit iff the spool has a byte >= 0x80 */
			for (k = 0; k < r.outlen; k++)
				if ((unsigned char)r.out[k] >= 0x80)
					break;
			assert_int_equal(r.env.body8bit, k < r.outlen);
		}
		envelope_free(&r.env);
		free(r.out);
		free(in);
	}
}

static void
test_alias_orig_and_smtputf8(void **state)
{
	static const char in[] = HDRS "\nb\n";
	struct run r;

	(void)state;
	run_intake(in, sizeof(in) - 1, F_I, "root j\xc3\xb6rg@example.org",
	    &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.env.nrcpts, 2);
	assert_string_equal(r.env.rcpts[0].addr, "admin@example.com");
	assert_non_null(r.env.rcpts[0].orig);
	assert_string_equal(r.env.rcpts[0].orig, "root");
	assert_int_equal(r.env.smtputf8, 1);
	assert_int_equal(r.env.body8bit, 0);
	envelope_free(&r.env);
	free(r.out);

	run_intake(in, sizeof(in) - 1, F_I, "bob@example.org", &r);
	assert_int_equal(r.rc, 0);
	assert_int_equal(r.env.smtputf8, 0);
	assert_null(r.env.rcpts[0].orig);
	envelope_free(&r.env);
	free(r.out);
}

static void
test_long_lines(void **state)
{
	struct buf in;
	struct run r;
	const char *p, *body;
	size_t i, n;

	(void)state;
	buf_init(&in, 1 << 20, 0);
	/* a 1500-char Subject of words, a 1500-char unbreakable header */
	assert_int_equal(buf_adds(&in, HDRS "Subject:"), 0);
	for (i = 0; i < 150; i++)
		assert_int_equal(buf_adds(&in, " abcdefghi"), 0);
	assert_int_equal(buf_adds(&in, "\nX-Long: "), 0);
	for (i = 0; i < 1500; i++)
		assert_int_equal(buf_addc(&in, 'x'), 0);
	assert_int_equal(buf_adds(&in, "\n\n"), 0);
	/* a 2000-char body line, then an exactly 998-char one */
	for (i = 0; i < 2000; i++)
		assert_int_equal(buf_addc(&in, '0' + i % 10), 0);
	assert_int_equal(buf_addc(&in, '\n'), 0);
	for (i = 0; i < 998; i++)
		assert_int_equal(buf_addc(&in, 'y'), 0);
	assert_int_equal(buf_adds(&in, "\nend\n"), 0);
	run_intake(in.data, in.len, F_I, "bob@example.org", &r);
	assert_int_equal(r.rc, 0);
	/* no line over 998 octets */
	for (p = r.out; *p != '\0'; p += n + 1) {
		n = strcspn(p, "\n");
		assert_true(n <= 998);
		if (p[n] == '\0')
			break;
	}
	/* the Subject was folded at white space: unfolding restores it */
	p = strstr(r.out, "Subject:");
	assert_non_null(p);
	assert_int_equal(p[strcspn(p, "\n") + 1], ' ');
	/*
	 * the unbreakable header: folded at its only white space (after the
	 * colon), then broken with LF + space
	 */
	p = strstr(r.out, "X-Long:");
	assert_non_null(p);
	assert_memory_equal(p, "X-Long:\n ", 9);
	assert_int_equal(strspn(p + 9, "x"), 997);
	assert_memory_equal(p + 9 + 997, "\n ", 2);
	assert_int_equal(strspn(p + 9 + 999, "x"), 1500 - 997);
	assert_int_equal(p[9 + 999 + 503], '\n');
	/* the body line: 998 + 998 + 4, and the 998 line is intact */
	body = strstr(r.out, "\n\n");
	assert_non_null(body);
	body += 2;
	assert_int_equal(strcspn(body, "\n"), 998);
	assert_int_equal(strcspn(body + 999, "\n"), 998);
	assert_int_equal(strcspn(body + 1998, "\n"), 4);
	assert_memory_equal(body + 1998, "6789\n", 5);
	assert_int_equal(strcspn(body + 2003, "\n"), 998);
	assert_string_equal(body + 2003 + 999, "end\n");
	assert_int_equal(r.env.size, r.outlen + count_lf(r.out, r.outlen));
	envelope_free(&r.env);
	free(r.out);
	buf_free(&in);
}

static void
test_header_block_limit(void **state)
{
	struct buf in;
	struct run r;
	size_t i;

	(void)state;
	buf_init(&in, 8 << 20, 0);
	/* 80 folded fields of ~60 KB: over LIM_HDR_BLOCK */
	for (i = 0; i < 80; i++) {
		assert_int_equal(buf_addf(&in, "X-F%zu: v", i), 0);
		for (size_t k = 0; k < 60; k++) {
			assert_int_equal(buf_adds(&in, "\n "), 0);
			for (size_t j = 0; j < 999; j++)
				assert_int_equal(buf_addc(&in, 'z'), 0);
		}
		assert_int_equal(buf_addc(&in, '\n'), 0);
	}
	assert_int_equal(buf_adds(&in, "\nbody\n"), 0);
	run_intake(in.data, in.len, F_I, "bob@example.org", &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.class, ERR_DATA);
	assert_non_null(strstr(r.err.msg, "header block"));
	envelope_free(&r.env);
	free(r.out);
	buf_free(&in);

	/* one field over LIM_HDR_VALUE */
	buf_init(&in, 8 << 20, 0);
	assert_int_equal(buf_adds(&in, "Subject: x"), 0);
	for (i = 0; i < 70; i++) {
		assert_int_equal(buf_adds(&in, "\n "), 0);
		for (size_t j = 0; j < 999; j++)
			assert_int_equal(buf_addc(&in, 'z'), 0);
	}
	assert_int_equal(buf_adds(&in, "\n\nbody\n"), 0);
	run_intake(in.data, in.len, F_I, "bob@example.org", &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.class, ERR_DATA);
	envelope_free(&r.env);
	free(r.out);
	buf_free(&in);
}

/*
 * The maildrop read back in verify mode: what the first pass wrote passes
 * unchanged, however close to a header limit its input was (the first
 * pass adds fields and folds lines, so a second normal pass refused it).
 */
static void
verify_roundtrip(const struct buf *in)
{
	struct run r1, r2;

	run_intake(in->data, in->len, F_I, "bob@example.org", &r1);
	assert_int_equal(r1.rc, 0);
	run_intake(r1.out, r1.outlen, F_VERIFY, "bob@example.org", &r2);
	assert_int_equal(r2.rc, 0);
	assert_int_equal(r2.outlen, r1.outlen);
	assert_memory_equal(r2.out, r1.out, r1.outlen);
	assert_int_equal(r2.env.size, r1.env.size);
	assert_int_equal(r2.env.body8bit, r1.env.body8bit);
	assert_int_equal(r2.env.nrcpts, 1);
	assert_string_equal(r2.env.rcpts[0].addr, "bob@example.org");
	/* the same size limit passes both */
	envelope_free(&r2.env);
	free(r2.out);
	run_intake_max(r1.out, r1.outlen, F_VERIFY, "bob@example.org",
	    r1.env.size, &r2);
	assert_int_equal(r2.rc, 0);
	envelope_free(&r1.env);
	envelope_free(&r2.env);
	free(r1.out);
	free(r2.out);
}

static void
test_verify_mode(void **state)
{
	struct buf in;
	struct run r;
	size_t i;

	(void)state;
	/* 9,999 header fields, no From/Date/Message-ID: 10,002 come out */
	buf_init(&in, 1 << 20, 0);
	for (i = 0; i < LIM_HDR_COUNT - 1; i++)
		assert_int_equal(buf_addf(&in, "X-H%zu: v\n", i), 0);
	assert_int_equal(buf_adds(&in, "\nbody \xc3\xa9\n"), 0);
	verify_roundtrip(&in);
	buf_free(&in);

	/* one 65,500-byte field without white space: broken, it grows */
	buf_init(&in, 1 << 20, 0);
	assert_int_equal(buf_adds(&in, "X-Long: "), 0);
	for (i = 0; i < 65500 - 8; i++)
		assert_int_equal(buf_addc(&in, 'x'), 0);
	assert_int_equal(buf_adds(&in, "\n\n.\nbody\n"), 0);
	verify_roundtrip(&in);
	buf_free(&in);

	/* not a spool form: refused */
	run_intake("Subject: s\n\nab\0c\n", 17, F_VERIFY, "bob@example.org",
	    &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.class, ERR_DATA);
	envelope_free(&r.env);
	free(r.out);
	buf_init(&in, 4096, 0);
	assert_int_equal(buf_adds(&in, "Subject: s\n\n"), 0);
	for (i = 0; i < 999; i++)
		assert_int_equal(buf_addc(&in, 'y'), 0);
	assert_int_equal(buf_addc(&in, '\n'), 0);
	run_intake(in.data, in.len, F_VERIFY, "bob@example.org", &r);
	assert_int_equal(r.rc, -1);
	assert_non_null(strstr(r.err.msg, "longer than 998"));
	envelope_free(&r.env);
	free(r.out);
	buf_free(&in);
	/* recipients must be complete: no aliases in verify mode */
	run_intake("Subject: s\n\nb\n", 0 + 14, F_VERIFY, "root", &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.class, ERR_ADDR);
	envelope_free(&r.env);
	free(r.out);
}

/* max_size: the size as sent (CRLF endings), the limit itself passes. */
static void
test_max_size(void **state)
{
	const char *msg = HDRS "Subject: s\n\n0123456789\n";
	struct run r;
	off_t sent;

	(void)state;
	run_intake(msg, strlen(msg), F_I, "bob@example.org", &r);
	assert_int_equal(r.rc, 0);
	sent = r.env.size;
	assert_int_equal(sent, (off_t)(strlen(msg) + 6));
	envelope_free(&r.env);
	free(r.out);
	run_intake_max(msg, strlen(msg), F_I, "bob@example.org", sent, &r);
	assert_int_equal(r.rc, 0);
	envelope_free(&r.env);
	free(r.out);
	run_intake_max(msg, strlen(msg), F_I, "bob@example.org", sent - 1, &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err.class, ERR_DATA);
	assert_non_null(strstr(r.err.msg, "max_message_size"));
	envelope_free(&r.env);
	free(r.out);
}

/* A 50 MB body through a pipe: memory must not grow with the size. */
static void
test_streaming(void **state)
{
	struct intake_opts o;
	struct envelope env;
	struct rusage ru0, ru1;
	struct err err;
	char *rcpts[] = { "bob@example.org" };
	char line[100];
	FILE *f;
	pid_t pid;
	int p[2], fd, st;
	size_t i, total = 50u << 20, nlines;
	off_t want;

	(void)state;
	memset(line, 'a', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\n';
	nlines = total / sizeof(line);
	assert_int_equal(pipe(p), 0);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		FILE *w = fdopen(p[1], "w");

		close(p[0]);
		fputs(HDRS "\n", w);
		for (i = 0; i < nlines; i++)
			fwrite(line, 1, sizeof(line), w);
		fclose(w);
		_exit(0);
	}
	close(p[1]);
	f = fdopen(p[0], "r");
	assert_non_null(f);
	memset(&o, 0, sizeof(o));
	o.ignore_dots = 1;
	o.from_addr = "acct@example.com";
	o.rcpts = rcpts;
	o.nrcpts = 1;
	fd = tmpfile_fd();
	envelope_init(&env);
	assert_int_equal(getrusage(RUSAGE_SELF, &ru0), 0);
	assert_int_equal(intake_read(f, fd, &o, &env, &err), 0);
	assert_int_equal(getrusage(RUSAGE_SELF, &ru1), 0);
	fclose(f);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	/* spool size and size as sent */
	want = (off_t)(sizeof(HDRS) - 1 + 1 + nlines * sizeof(line));
	assert_int_equal(lseek(fd, 0, SEEK_END), want);
	assert_int_equal(env.size, want + (off_t)(nlines + 4));
	/* maxrss is in KB; a 50 MB body must not add more than ~8 MB */
	if (ru1.ru_maxrss - ru0.ru_maxrss > 8 * 1024)
		fail_msg("max RSS grew by %ld KB", ru1.ru_maxrss - ru0.ru_maxrss);
	close(fd);
	envelope_free(&env);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		/* first: ru_maxrss is a high-water mark */
		cmocka_unit_test(test_streaming),
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_alias_orig_and_smtputf8),
		cmocka_unit_test(test_long_lines),
		cmocka_unit_test(test_header_block_limit),
		cmocka_unit_test(test_verify_mode),
		cmocka_unit_test(test_max_size),
	};

	return cmocka_run_group_tests_name("intake", tests, NULL, NULL);
}
