/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* test_bs.c -- the -bs reader: lines, verbs, MAIL/RCPT paths, DATA. */
#include "unit.h"

#include <errno.h>
#include <unistd.h>

#include "bs_parse.h"

/* A reader over a pipe holding text (written in full, then closed). */
static void
reader_on(struct bs_in *in, const char *text, size_t len)
{
	int fds[2];

	assert_int_equal(pipe(fds), 0);
	assert_true(len < 65536);	/* fits the pipe buffer */
	assert_int_equal(write(fds[1], text, len), (ssize_t)len);
	close(fds[1]);
	bs_in_init(in, fds[0], 5);
}

static const struct {
	const char	*in;
	size_t		 cap;
	int		 rc[4];		/* results, then BS_EOF */
	const char	*line[4];
} line_cases[] = {
	/* CRLF and LF both end lines; the CR is gone */
	{ "HELO a\r\nNOOP\n", 64, { BS_LINE, BS_LINE, BS_EOF },
	    { "HELO a", "NOOP" } },
	/* a bare CR inside a line stays data; CR CR LF keeps one CR */
	{ "a\rb\r\r\n", 64, { BS_LINE, BS_EOF }, { "a\rb\r" } },
	/* a last line without LF is still a line */
	{ "QUIT", 64, { BS_LINE, BS_EOF }, { "QUIT" } },
	/* empty lines */
	{ "\r\n\n", 64, { BS_LINE, BS_LINE, BS_EOF }, { "", "" } },
	/* exactly cap - 1 octets plus CRLF fits */
	{ "12345\r\nx\r\n", 6, { BS_LINE, BS_LINE, BS_EOF },
	    { "12345", "x" } },
	/* one more is too long; the rest of the line is skipped */
	{ "123456789\r\nnext\r\n", 6, { BS_LONG, BS_LINE, BS_EOF },
	    { "12345", "next" } },
	/* a CR that does not fit is part of an over-long line */
	{ "12345\rX\n", 6, { BS_LONG, BS_EOF }, { "12345" } },
	/* nothing at all */
	{ "", 64, { BS_EOF }, { NULL } },
};

static void
test_getline(void **state)
{
	struct bs_in in;
	char line[64];
	size_t i, k, len;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(line_cases) / sizeof(line_cases[0]); i++) {
		reader_on(&in, line_cases[i].in, strlen(line_cases[i].in));
		for (k = 0; k < 4; k++) {
			rc = bs_getline(&in, line, line_cases[i].cap, &len);
			if (rc != line_cases[i].rc[k])
				fail_msg("case %zu line %zu: rc %d, want %d",
				    i, k, rc, line_cases[i].rc[k]);
			if (rc == BS_EOF)
				break;
			assert_string_equal(line, line_cases[i].line[k]);
			assert_int_equal(len, strlen(line_cases[i].line[k]));
		}
		close(in.fd);
	}
}

/* Lines arrive in pieces smaller than a line, and the reader keeps up. */
static void
test_getline_big_and_pipelined(void **state)
{
	struct bs_in in;
	char text[30000], line[600];
	size_t off = 0, len;
	int i;

	(void)state;
	/* 1000 pipelined commands and one 20,000-octet line in between */
	for (i = 0; i < 500; i++)
		off += (size_t)snprintf(text + off, sizeof(text) - off,
		    "RCPT TO:<u%d@example.test>\r\n", i);
	memset(text + off, 'x', 5000);
	off += 5000;
	memcpy(text + off, "\r\nQUIT\r\n", 8);
	off += 8;
	reader_on(&in, text, off);
	for (i = 0; i < 500; i++) {
		char want[64];

		assert_int_equal(bs_getline(&in, line, sizeof(line), &len),
		    BS_LINE);
		(void)snprintf(want, sizeof(want), "RCPT TO:<u%d@example.test>",
		    i);
		assert_string_equal(line, want);
		if (i < 100)
			assert_true(bs_pending(&in));
	}
	assert_int_equal(bs_getline(&in, line, sizeof(line), &len), BS_LONG);
	assert_int_equal(len, sizeof(line) - 1);
	assert_int_equal(bs_getline(&in, line, sizeof(line), &len), BS_LINE);
	assert_string_equal(line, "QUIT");
	assert_false(bs_pending(&in));
	assert_int_equal(bs_getline(&in, line, sizeof(line), &len), BS_EOF);
	assert_int_equal(bs_getline(&in, line, sizeof(line), &len), BS_EOF);
	close(in.fd);
}

/* A client that says nothing: the reader gives up after its timeout. */
static void
test_getline_timeout(void **state)
{
	struct bs_in in;
	char line[16];
	size_t len;
	int fds[2];

	(void)state;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "HEL", 3), 3);
	bs_in_init(&in, fds[0], 1);
	assert_int_equal(bs_getline(&in, line, sizeof(line), &len), BS_ERR);
	assert_int_equal(errno, ETIMEDOUT);
	close(fds[0]);
	close(fds[1]);
}

static const struct {
	const char	*line;
	enum bs_verb	 verb;
	const char	*arg;
} verb_cases[] = {
	{ "HELO [127.0.0.1]", BSV_HELO, "[127.0.0.1]" },
	{ "ehlo x", BSV_EHLO, "x" },
	{ "MAIL FROM:<a@b>", BSV_MAIL, "FROM:<a@b>" },
	{ "mail\tFROM:<a@b>", BSV_MAIL, "FROM:<a@b>" },
	{ "RCPT  TO:<a@b>", BSV_RCPT, "TO:<a@b>" },
	{ "DATA", BSV_DATA, "" },
	{ "rset", BSV_RSET, "" },
	{ "NOOP hello", BSV_NOOP, "hello" },
	{ "VRFY root", BSV_VRFY, "root" },
	{ "EXPN list", BSV_EXPN, "list" },
	{ "HELP", BSV_HELP, "" },
	{ "QUIT", BSV_QUIT, "" },
	{ "STARTTLS", BSV_NOTIMPL, "" },
	{ "AUTH PLAIN x", BSV_NOTIMPL, "PLAIN x" },
	{ "BDAT 10 LAST", BSV_NOTIMPL, "10 LAST" },
	{ "MAILX", BSV_UNKNOWN, "" },
	{ "DAT", BSV_UNKNOWN, "" },
	{ "", BSV_UNKNOWN, "" },
	{ "GET / HTTP/1.1", BSV_UNKNOWN, "/ HTTP/1.1" },
};

static void
test_verbs(void **state)
{
	const char *arg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(verb_cases) / sizeof(verb_cases[0]); i++) {
		if (bs_parse_verb(verb_cases[i].line, &arg) !=
		    verb_cases[i].verb)
			fail_msg("'%s': wrong verb", verb_cases[i].line);
		assert_string_equal(arg, verb_cases[i].arg);
	}
}

static const struct {
	const char	*arg;
	int		 mail;
	int		 code;		/* 0: accepted */
	const char	*addr;
	int		 body8bit, smtputf8;
	long long	 size;
} path_cases[] = {
	{ "FROM:<alice@example.test>", 1, 0, "alice@example.test", 0, 0, -1 },
	{ "from: <alice@example.test>", 1, 0, "alice@example.test", 0, 0, -1 },
	{ "FROM:alice@example.test", 1, 0, "alice@example.test", 0, 0, -1 },
	{ "FROM:<>", 1, 0, "", 0, 0, -1 },
	{ "FROM:<a@b> BODY=8BITMIME SIZE=1234", 1, 0, "a@b", 1, 0, 1234 },
	{ "FROM:<a@b> body=7bit", 1, 0, "a@b", 0, 0, -1 },
	{ "FROM:<a@b> SMTPUTF8  RET=HDRS ENVID=x", 1, 0, "a@b", 0, 1, -1 },
	{ "FROM:<\"a>b\"@c>", 1, 0, "\"a>b\"@c", 0, 0, -1 },
	{ "FROM:<a@b> SIZE=x", 1, 501, NULL, 0, 0, 0 },
	{ "FROM:<a@b> SIZE=-1", 1, 501, NULL, 0, 0, 0 },
	{ "FROM:<a@b> BODY=BINARYMIME", 1, 555, NULL, 0, 0, 0 },
	{ "FROM:<a@b> NOTIFY=NEVER", 1, 555, NULL, 0, 0, 0 },
	{ "FROM:<a@b", 1, 501, NULL, 0, 0, 0 },
	{ "FROM:<a@b>x", 1, 501, NULL, 0, 0, 0 },
	{ "FROM", 1, 501, NULL, 0, 0, 0 },
	{ "FROM:", 1, 501, NULL, 0, 0, 0 },
	{ "TO:<a@b>", 1, 501, NULL, 0, 0, 0 },
	{ "TO:<bob@example.test>", 0, 0, "bob@example.test", 0, 0, -1 },
	{ "TO:<root>", 0, 0, "root", 0, 0, -1 },
	{ "To:<b@c> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;b@c", 0, 0, "b@c",
	    0, 0, -1 },
	{ "TO:<>", 0, 501, NULL, 0, 0, 0 },
	{ "TO:<b@c> SIZE=1", 0, 555, NULL, 0, 0, 0 },
	{ "FROM:<a@b>", 0, 501, NULL, 0, 0, 0 },
};

static void
test_paths(void **state)
{
	struct bs_path p;
	char reply[256], big[LIM_ADDR + 32];
	size_t i;
	int code;

	(void)state;
	for (i = 0; i < sizeof(path_cases) / sizeof(path_cases[0]); i++) {
		reply[0] = '\0';
		code = bs_parse_path(path_cases[i].arg, path_cases[i].mail ?
		    "FROM" : "TO", path_cases[i].mail, &p, reply,
		    sizeof(reply));
		if (code != path_cases[i].code)
			fail_msg("'%s': code %d, want %d (%s)",
			    path_cases[i].arg, code, path_cases[i].code, reply);
		if (code != 0) {
			char want[8];

			/* the reply starts with its code and a 5.x.x */
			(void)snprintf(want, sizeof(want), "%d 5.", code);
			assert_memory_equal(reply, want, strlen(want));
			continue;
		}
		assert_string_equal(p.addr, path_cases[i].addr);
		assert_int_equal(p.body8bit, path_cases[i].body8bit);
		assert_int_equal(p.smtputf8, path_cases[i].smtputf8);
		assert_int_equal(p.size, path_cases[i].size);
	}
	/* an address longer than LIM_ADDR is refused, not truncated */
	memcpy(big, "TO:<", 4);
	memset(big + 4, 'a', LIM_ADDR + 1);
	memcpy(big + 4 + LIM_ADDR + 1, ">", 2);
	assert_int_equal(bs_parse_path(big, "TO", 0, &p, reply,
	    sizeof(reply)), 501);
	/* a hostile parameter is echoed sanitised and bounded */
	assert_int_equal(bs_parse_path("FROM:<a@b> X=\x1b[2J", "FROM", 1, &p,
	    reply, sizeof(reply)), 555);
	assert_null(strchr(reply, '\x1b'));
}

/*
 * DATA: the message read through bs_data, then the next command line.
 * Only CR LF . CR LF ends DATA; a "." line next to a bare LF is the
 * smuggling pattern: it neither ends DATA nor counts as data, and the
 * message is refused (bs_data_read fails at the real end).
 */
static const struct {
	const char	*in;
	const char	*data;		/* what the reader returns */
	int		 refused;	/* bare_dot set, read fails at the end */
	const char	*next;		/* the next command line, NULL: EOF */
} data_cases[] = {
	{ "a\r\n.\r\nNOOP\r\n", "a\n", 0, "NOOP" },
	/* dot-unstuffing; a bare LF inside the data stays a line end */
	{ "..x\r\nb\nc\r\n...\r\n.\r\nQUIT\r\n", ".x\nb\nc\n..\n", 0,
	    "QUIT" },
	/* the end right after DATA */
	{ ".\r\nNOOP\r\n", "", 0, "NOOP" },
	/* LF-only lines, then a proper end */
	{ "a\nb\n\r\n.\r\nNOOP\r\n", "a\nb\n\n", 0, "NOOP" },
	/*
	 * <LF>.<LF>: the smuggled commands are read as part of the refused
	 * message; nothing after the bare-LF dot is data
	 */
	{ "a\n.\nMAIL FROM:<x@evil>\r\nRCPT TO:<v@victim>\r\nDATA\r\n"
	    "evil\r\n.\r\nNOOP\r\n", "a\n", 1, "NOOP" },
	/* <CR><LF>.<LF> */
	{ "a\r\n.\nRSET\r\nb\r\n.\r\nQUIT\r\n", "a\n", 1, "QUIT" },
	/* <LF>.<CR><LF> */
	{ "a\n.\r\nRSET\r\n.\r\nQUIT\r\n", "a\n", 1, "QUIT" },
	/* a bare-LF dot as the first line */
	{ ".\nRSET\r\n.\r\nQUIT\r\n", "", 1, "QUIT" },
	/* an LF-only client never ends DATA */
	{ "HELO x\n.\nQUIT\n", "HELO x\n", 1, NULL },
	/* a bare CR is no line end: ".\r" is a dot-stuffed data line */
	{ "a\r\n.\r\r\n.\r\nNOOP\r\n", "a\n\r\n", 0, "NOOP" },
};

static void
test_data(void **state)
{
	struct bs_in in;
	struct bs_data d;
	char out[512], line[64];
	size_t i, off, len;
	ssize_t n;

	(void)state;
	for (i = 0; i < sizeof(data_cases) / sizeof(data_cases[0]); i++) {
		reader_on(&in, data_cases[i].in, strlen(data_cases[i].in));
		bs_data_init(&d, &in);
		off = 0;
		/* small reads: the stream is cut anywhere */
		while ((n = bs_data_read(&d, out + off, 3)) > 0)
			off += (size_t)n;
		out[off] = '\0';
		if (strcmp(out, data_cases[i].data) != 0)
			fail_msg("case %zu: data '%s', want '%s'", i, out,
			    data_cases[i].data);
		assert_int_equal(d.bare_dot, data_cases[i].refused);
		assert_int_equal(n, data_cases[i].refused ? -1 : 0);
		assert_int_equal(d.eof, data_cases[i].next == NULL);
		if (data_cases[i].next == NULL)
			assert_int_equal(bs_getline(&in, line, sizeof(line),
			    &len), BS_EOF);
		else {
			assert_int_equal(bs_getline(&in, line, sizeof(line),
			    &len), BS_LINE);
			assert_string_equal(line, data_cases[i].next);
		}
		close(in.fd);
	}
}

/* The rest of a message intake did not read is drained to its end. */
static void
test_data_drain(void **state)
{
	static const char text[] = "x\r\n.\ny\r\n.\r\nQUIT\r\n";
	struct bs_in in;
	struct bs_data d;
	char c, line[16];
	size_t len;

	(void)state;
	reader_on(&in, text, sizeof(text) - 1);
	bs_data_init(&d, &in);
	assert_int_equal(bs_data_read(&d, &c, 1), 1);
	bs_data_drain(&d);
	assert_true(d.done);
	assert_true(d.bare_dot);
	assert_int_equal(bs_data_read(&d, &c, 1), -1);
	assert_int_equal(bs_getline(&in, line, sizeof(line), &len), BS_LINE);
	assert_string_equal(line, "QUIT");
	close(in.fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_getline),
		cmocka_unit_test(test_getline_big_and_pipelined),
		cmocka_unit_test(test_getline_timeout),
		cmocka_unit_test(test_verbs),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_data),
		cmocka_unit_test(test_data_drain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
