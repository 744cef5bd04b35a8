/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * test_smtp.c -- drives smtp.c over a socketpair against a scripted fake
 * server in a forked child. The child checks every client line exactly
 * (CRLF-terminated, no bare CR or LF) and then expects EOF; it exits 0
 * only if the whole script matched.
 */
#include "unit.h"

#include <sys/socket.h>
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include "buf.h"
#include "conf.h"
#include "conn.h"
#include "envelope.h"
#include "sasl.h"
#include "smtp.h"
#include "status.h"
#include "xmalloc.h"

/*
 * Steps: 'S' server line (consecutive ones go out in one write), 'C'
 * expected client line, 'X' close the connection now, 'B' send a
 * 10,000-line reply and stop (the client gives up half-way).
 */
struct step {
	char		 kind;
	const char	*text;
};

#define S(t)	{ 'S', (t) }
#define C(t)	{ 'C', (t) }
#define END	{ 0, NULL }

static const struct step greet[] = {
	S("220 mx.test ESMTP"),
	C("EHLO client.test"),
	END,
};

/* ---- child ---- */

static char cbuf[65536];
static size_t cpos, clen;

static int
child_getline(int fd, char *line, size_t size)
{
	size_t n = 0;
	ssize_t r;

	for (;;) {
		char c;

		if (cpos == clen) {
			r = read(fd, cbuf, sizeof(cbuf));
			if (r <= 0)
				return n == 0 ? 0 : -2;
			cpos = 0;
			clen = (size_t)r;
		}
		c = cbuf[cpos++];
		if (c == '\n') {
			if (n == 0 || line[n - 1] != '\r')
				return -3;	/* bare LF */
			line[n - 1] = '\0';
			if (memchr(line, '\r', n - 1) != NULL)
				return -4;	/* bare CR */
			return 1;
		}
		if (n + 1 >= size)
			return -5;
		line[n++] = c;
	}
}

static void
child_fail(int i, const char *want, const char *got)
{
	fprintf(stderr, "fake server: step %d: expected [%.200s] got "
	    "[%.200s]\n", i, want, got);
	_exit(1);
}

static void
child_run(int fd, const struct step *const *parts)
{
	static char line[65536];
	struct buf out;
	const struct step *st;
	int i = 0, r, p;

	signal(SIGPIPE, SIG_IGN);
	alarm(20);
	buf_init(&out, 1 << 20, 0);
	for (p = 0; parts[p] != NULL; p++) {
		for (st = parts[p]; st->kind != 0; st++, i++) {
			if (st->kind == 'S') {
				(void)buf_addf(&out, "%s\r\n", st->text);
				if (st[1].kind == 'S')
					continue;
				if (write(fd, out.data, out.len) !=
				    (ssize_t)out.len)
					child_fail(i, "write", "error");
				buf_reset(&out);
				continue;
			}
			if (st->kind == 'X')
				_exit(0);
			if (st->kind == 'B') {
				int k;

				for (k = 0; k < 10000; k++)
					if (write(fd, "250-xxxxxxxxxxxx\r\n",
					    18) != 18)
						_exit(0);
				if (write(fd, "250 end\r\n", 9) != 9)
					_exit(0);
				_exit(0);
			}
			r = child_getline(fd, line, sizeof(line));
			if (r != 1)
				child_fail(i, st->text, r == 0 ? "EOF" :
				    "malformed line");
			if (strcmp(line, st->text) != 0)
				child_fail(i, st->text, line);
		}
	}
	r = child_getline(fd, line, sizeof(line));
	if (r != 0)
		child_fail(i, "EOF", r == 1 ? line : "malformed line");
	_exit(0);
}

/* ---- parent ---- */

static struct buf transcript;

static void
capture(void *arg, const char *dir, const char *line, size_t len)
{
	(void)arg;
	(void)buf_addf(&transcript, "%s %.*s\n", dir, (int)len, line);
}

struct fake {
	pid_t		 pid;
	struct conn	*conn;
};

static void
fake_start(struct fake *f, const struct step *const *parts)
{
	int sv[2];

	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	f->pid = fork();
	assert_true(f->pid != -1);
	if (f->pid == 0) {
		close(sv[0]);
		child_run(sv[1], parts);
	}
	close(sv[1]);
	f->conn = conn_from_fd(sv[0], "mx.test", 587);
	buf_free(&transcript);
	buf_init(&transcript, 1 << 20, 0);
	conn_set_transcript(f->conn, capture, NULL);
}

static void
fake_wait(struct fake *f)
{
	int status;

	assert_int_equal(waitpid(f->pid, &status, 0), f->pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static struct account *
test_account(int tls, enum conf_auth auth)
{
	static struct account a;

	memset(&a, 0, sizeof(a));
	a.name = "test";
	a.host = "mx.test";
	a.port = 587;
	a.tls = tls;
	a.tls_starttls = 1;
	a.timeout = 5;
	a.domain = "client.test";
	a.user = "user@test";
	a.auth = auth;
	return &a;
}

static int
body_fd(const char *text)
{
	FILE *fp = tmpfile();
	int fd;

	assert_non_null(fp);
	fd = dup(fileno(fp));
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	fclose(fp);
	return fd;
}

static void
env_make(struct envelope *env, const char *sender, const char *const *rcpts,
    off_t size)
{
	envelope_init(env);
	env->sender = xstrdup(sender);
	for (; *rcpts != NULL; rcpts++)
		envelope_add_rcpt(env, *rcpts, NULL);
	env->size = size;
}

static const char *const three[] = { "a@test", "b@test", "c@test", NULL };
static const char *const one[] = { "a@test", NULL };

/* ---- tests ---- */

static void
test_pipelining_mix(void **state)
{
	static const struct step s1[] = {
		S("250-mx.test"), S("250-PIPELINING"), S("250-SIZE 100000"),
		S("250-DSN"), S("250-AUTH XOAUTH2"), S("250 8BITMIME"),
		C("AUTH XOAUTH2 dXNlcj11c2VyQHRlc3QBYXV0aD1CZWFyZXIgU0VDUkVUVE9LRU4BAQ=="),
		S("235 2.7.0 Authentication successful"),
		C("MAIL FROM:<from@test> SIZE=42 RET=HDRS ENVID=id+2B1+3D"),
		C("RCPT TO:<a@test> NOTIFY=FAILURE,DELAY"),
		C("RCPT TO:<b@test> NOTIFY=FAILURE,DELAY"),
		C("RCPT TO:<c@test> NOTIFY=FAILURE,DELAY"),
		C("DATA"),
		S("250 2.1.0 ok"), S("250 2.1.5 a ok"),
		S("451 4.2.0 b later"), S("550 5.1.1 c unknown"),
		S("354 go"),
		C("Subject: hi"), C(""), C("body"), C("."),
		S("250 2.0.0 queued as X"),
		/* second message on the same session, only b left */
		C("MAIL FROM:<from@test> SIZE=42 RET=HDRS ENVID=id+2B1+3D"),
		C("RCPT TO:<b@test> NOTIFY=FAILURE,DELAY"),
		C("DATA"),
		S("250 ok"), S("250 b ok"), S("354 go"),
		C("Subject: hi"), C(""), C("body"), C("."),
		S("250 queued"),
		C("QUIT"), S("221 bye"),
		END,
	};
	const struct step *parts[] = { greet, s1, NULL };
	struct fake f;
	struct smtp_session *s;
	struct envelope env;
	struct err err;
	int fd;

	(void)state;
	fake_start(&f, parts);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(0, AUTH_XOAUTH2), &s, &err), 0);
	assert_true(smtp_caps(s) & SMTP_CAP_PIPELINING);
	assert_string_equal(smtp_auth_offered(s), "XOAUTH2");
	assert_int_equal(smtp_auth(s, AUTH_XOAUTH2, "user@test",
	    "SECRETTOKEN", 11, &err), 0);
	env_make(&env, "from@test", three, 42);
	env.dsn_ret = xstrdup("hdrs");
	env.dsn_notify = xstrdup("failure,delay");
	env.envid = xstrdup("id+1=");
	fd = body_fd("Subject: hi\n\nbody\n");
	assert_int_equal(smtp_send(s, &env, fd, &err), 0);
	assert_int_equal(env.rcpts[0].state, RCPT_SENT);
	assert_string_equal(env.rcpts[0].reply, "250 2.0.0 queued as X");
	assert_int_equal(env.rcpts[1].state, RCPT_DEFERRED);
	assert_string_equal(env.rcpts[1].reply, "451 4.2.0 b later");
	assert_int_equal(env.rcpts[2].state, RCPT_FAILED);
	assert_string_equal(env.rcpts[2].reply, "550 5.1.1 c unknown");
	/* Retry: only the deferred recipient is sent again. */
	assert_int_equal(smtp_send(s, &env, fd, &err), 0);
	assert_int_equal(env.rcpts[1].state, RCPT_SENT);
	assert_int_equal(env.rcpts[2].state, RCPT_FAILED);
	smtp_close(s);
	fake_wait(&f);
	/* The token never reaches the transcript. */
	assert_null(strstr(transcript.data, "SECRETTOKEN"));
	assert_null(strstr(transcript.data, "U0VDUkVUVE9LRU4"));
	assert_non_null(strstr(transcript.data,
	    "-> AUTH XOAUTH2 [redacted, 56 bytes]\n"));
	close(fd);
	envelope_free(&env);
}

static void
test_lockstep(void **state)
{
	static const struct step s1[] = {
		S("250-mx.test"), S("250 SIZE"),
		C("MAIL FROM:<> SIZE=10"), S("250 ok"),
		C("RCPT TO:<a@test>"), S("550 5.1.1 no"),
		C("RCPT TO:<b@test>"), S("250 ok"),
		C("RCPT TO:<c@test>"), S("452 4.5.3 too many"),
		C("DATA"), S("354 go"),
		C("x"), C("."), S("250 ok"),
		C("QUIT"), S("221 bye"),
		END,
	};
	const struct step *parts[] = { greet, s1, NULL };
	struct fake f;
	struct smtp_session *s;
	struct envelope env;
	struct err err;
	int fd;

	(void)state;
	fake_start(&f, parts);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(0, AUTH_NONE), &s, &err), 0);
	env_make(&env, "", three, 10);
	fd = body_fd("x");
	assert_int_equal(smtp_send(s, &env, fd, &err), 0);
	assert_int_equal(env.rcpts[0].state, RCPT_FAILED);
	assert_int_equal(env.rcpts[1].state, RCPT_SENT);
	assert_int_equal(env.rcpts[2].state, RCPT_DEFERRED);
	smtp_close(s);
	fake_wait(&f);
	close(fd);
	envelope_free(&env);
}

static void
test_all_refused(void **state)
{
	/* Lock-step: RSET, never DATA. */
	static const struct step s1[] = {
		S("250 mx.test"),
		C("MAIL FROM:<f@test>"), S("250 ok"),
		C("RCPT TO:<a@test>"), S("550 5.1.1 no"),
		C("RCPT TO:<b@test>"), S("550 5.1.1 no"),
		C("RCPT TO:<c@test>"), S("553 5.1.3 bad"),
		C("RSET"), S("250 reset"),
		C("QUIT"), S("221 bye"),
		END,
	};
	/* Pipelined: the DATA reply fails as expected, then RSET. */
	static const struct step s2[] = {
		S("250-mx.test"), S("250 PIPELINING"),
		C("MAIL FROM:<f@test>"), C("RCPT TO:<a@test>"), C("DATA"),
		S("250 ok"), S("451 4.3.0 later"), S("554 5.5.1 no valid rcpt"),
		C("RSET"), S("250 reset"),
		C("QUIT"), S("221 bye"),
		END,
	};
	const struct step *p1[] = { greet, s1, NULL };
	const struct step *p2[] = { greet, s2, NULL };
	struct fake f;
	struct smtp_session *s;
	struct envelope env;
	struct err err;
	int fd = body_fd("never sent\n");

	(void)state;
	fake_start(&f, p1);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(0, AUTH_NONE), &s, &err), 0);
	env_make(&env, "f@test", three, 0);
	assert_int_equal(smtp_send(s, &env, fd, &err), -1);
	assert_int_equal(err.class, ERR_PERM);
	assert_int_equal(err.smtp_code, 553);
	assert_int_equal(env.rcpts[0].state, RCPT_FAILED);
	assert_int_equal(env.rcpts[2].state, RCPT_FAILED);
	smtp_close(s);
	fake_wait(&f);
	envelope_free(&env);

	fake_start(&f, p2);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(0, AUTH_NONE), &s, &err), 0);
	env_make(&env, "f@test", one, 0);
	assert_int_equal(smtp_send(s, &env, fd, &err), -1);
	assert_int_equal(err.class, ERR_TEMP);
	assert_int_equal(env.rcpts[0].state, RCPT_DEFERRED);
	smtp_close(s);
	fake_wait(&f);
	envelope_free(&env);
	close(fd);
}

static void
test_size(void **state)
{
	static const struct step s1[] = {
		S("250-mx.test"), S("250 SIZE 1000"),
		/* 5000 > 1000: refused locally, no MAIL */
		C("MAIL FROM:<f@test> SIZE=500"),
		S("552 5.3.4 message size exceeds fixed limit"),
		C("QUIT"), S("221 bye"),
		END,
	};
	const struct step *parts[] = { greet, s1, NULL };
	struct fake f;
	struct smtp_session *s;
	struct envelope env;
	struct err err;
	int fd = body_fd("x\n");

	(void)state;
	fake_start(&f, parts);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(0, AUTH_NONE), &s, &err), 0);
	assert_int_equal(smtp_size_max(s), 1000);
	env_make(&env, "f@test", one, 5000);
	assert_int_equal(smtp_send(s, &env, fd, &err), -1);
	assert_int_equal(err.class, ERR_PERM);
	assert_non_null(strstr(err.msg, "5000"));
	assert_non_null(strstr(err.msg, "1000"));
	assert_int_equal(env.rcpts[0].state, RCPT_PENDING);
	env.size = 500;
	assert_int_equal(smtp_send(s, &env, fd, &err), -1);
	assert_int_equal(err.class, ERR_PERM);
	assert_int_equal(err.smtp_code, 552);
	assert_string_equal(err.esc, "5.3.4");
	assert_int_equal(env.rcpts[0].state, RCPT_FAILED);
	smtp_close(s);
	fake_wait(&f);
	envelope_free(&env);
	close(fd);
}

static void
test_auth_two_step(void **state)
{
	static char tok[3001], expect_dec[64];
	struct step s1[] = {
		S("250-mx.test"), S("250 AUTH PLAIN XOAUTH2"),
		C("AUTH XOAUTH2"), S("334 "),
		C(NULL),		/* filled below */
		S("235 2.7.0 ok"),
		C("QUIT"), S("221 bye"),
		END,
	};
	const struct step *parts[] = { greet, s1, NULL };
	struct fake f;
	struct smtp_session *s;
	struct buf resp;
	struct err err;

	(void)state;
	(void)expect_dec;
	memset(tok, 'T', 3000);
	assert_int_equal(sasl_xoauth2(&resp, "user@test", tok, 3000, &err),
	    0);
	s1[4].text = resp.data;
	fake_start(&f, parts);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(0, AUTH_XOAUTH2), &s, &err), 0);
	assert_int_equal(smtp_auth(s, AUTH_XOAUTH2, "user@test", tok, 3000,
	    &err), 0);
	smtp_close(s);
	fake_wait(&f);
	assert_null(strstr(transcript.data, "TTTTTTTT"));
	{
		char want[64];

		(void)snprintf(want, sizeof(want), "-> [redacted, %zu bytes]",
		    resp.len);
		assert_non_null(strstr(transcript.data, want));
	}
	buf_free(&resp);
}

static void
test_auth_error_challenge(void **state)
{
	/* Gmail: 334 base64 JSON, empty line, 535. */
	static const struct step s1[] = {
		S("250-mx.test"), S("250 AUTH XOAUTH2 OAUTHBEARER"),
		C("AUTH XOAUTH2 dXNlcj11c2VyQHRlc3QBYXV0aD1CZWFyZXIgYmFkAQE="),
		S("334 eyJzdGF0dXMiOiI0MDAiLCJzY2hlbWVzIjoiQmVhcmVyIiwic2Nv"
		  "cGUiOiJodHRwczovL21haWwuZ29vZ2xlLmNvbS8ifQ=="),
		C(""),
		S("535-5.7.8 Username and Password not accepted. Learn more at"),
		S("535 5.7.8 https://support.google.com/mail/?p=BadCredentials"),
		/* the session stays usable: try OAUTHBEARER */
		C("AUTH OAUTHBEARER bixhPXVzZXJAdGVzdCwBaG9zdD1teC50ZXN0AXBv"
		  "cnQ9NTg3AWF1dGg9QmVhcmVyIGJhZAEB"),
		S("334 eyJzdGF0dXMiOiJpbnZhbGlkX3Rva2VuIn0="),
		C("AQ=="),
		S("535 5.7.8 nope"),
		C("AUTH XOAUTH2 dXNlcj11c2VyQHRlc3QBYXV0aD1CZWFyZXIgYmFkAQE="),
		S("454 4.7.0 Temporary authentication failure"),
		C("QUIT"), S("221 bye"),
		END,
	};
	const struct step *parts[] = { greet, s1, NULL };
	struct fake f;
	struct smtp_session *s;
	struct err err;

	(void)state;
	fake_start(&f, parts);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(0, AUTH_XOAUTH2), &s, &err), 0);
	assert_int_equal(smtp_auth(s, AUTH_XOAUTH2, "user@test", "bad", 3,
	    &err), -1);
	assert_int_equal(err.class, ERR_AUTH);
	assert_int_equal(err.smtp_code, 535);
	assert_string_equal(err.esc, "5.7.8");
	assert_non_null(strstr(err.msg, "status=400"));
	assert_non_null(strstr(err.msg, "Username and Password not accepted"));
	assert_int_equal(smtp_auth(s, AUTH_OAUTHBEARER, "user@test", "bad", 3,
	    &err), -1);
	assert_int_equal(err.class, ERR_AUTH);
	assert_non_null(strstr(err.msg, "status=invalid_token"));
	assert_int_equal(smtp_auth(s, AUTH_XOAUTH2, "user@test", "bad", 3,
	    &err), -1);
	assert_int_equal(err.class, ERR_TEMP);
	assert_int_equal(err.smtp_code, 454);
	smtp_close(s);
	fake_wait(&f);
}

static void
test_auth_policy(void **state)
{
	static const struct step s1[] = {
		S("250-mx.test"), S("250 AUTH LOGIN PLAIN"),
		C("AUTH LOGIN"), S("334 VXNlcm5hbWU6"),
		C("dXNlckB0ZXN0"), S("334 UGFzc3dvcmQ6"),
		C("cGFzcw=="), S("235 ok"),
		C("QUIT"), S("221 bye"),
		END,
	};
	const struct step *parts[] = { greet, s1, NULL };
	struct fake f;
	struct smtp_session *s;
	struct err err;

	(void)state;
	fake_start(&f, parts);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(0, AUTH_LOGIN), &s, &err), 0);
	/* Not offered: ERR_PERM naming what is offered; nothing sent. */
	assert_int_equal(smtp_auth(s, AUTH_XOAUTH2, "user@test", "t", 1,
	    &err), -1);
	assert_int_equal(err.class, ERR_PERM);
	assert_non_null(strstr(err.msg, "LOGIN PLAIN"));
	assert_int_equal(smtp_auth(s, AUTH_LOGIN, "user@test", "pass", 4,
	    &err), 0);
	smtp_close(s);
	fake_wait(&f);
	assert_null(strstr(transcript.data, "cGFzcw"));
}

static void
test_body_conversion(void **state)
{
	static const struct step s1[] = {
		S("250 mx.test"),
		C("MAIL FROM:<f@test>"), S("250 ok"),
		C("RCPT TO:<a@test>"), S("250 ok"),
		C("DATA"), S("354 go"),
		C("Subject: dots"), C(""),
		C("..hello"), C("...two"), C(".."), C("mid . dot"),
		C("crlf"), C("a"), C("b"), C(""), C(".."), C(" .x"),
		C("last line without newline"),
		C("."),
		S("250 ok"),
		/* empty message, and one ending in a lone CR */
		C("MAIL FROM:<f@test>"), S("250 ok"),
		C("RCPT TO:<a@test>"), S("250 ok"),
		C("DATA"), S("354 go"),
		C("."), S("250 ok"),
		C("MAIL FROM:<f@test>"), S("250 ok"),
		C("RCPT TO:<a@test>"), S("250 ok"),
		C("DATA"), S("354 go"),
		C("..x"), C("."), S("250 ok"),
		C("QUIT"), S("221 bye"),
		END,
	};
	const struct step *parts[] = { greet, s1, NULL };
	struct fake f;
	struct smtp_session *s;
	struct envelope env;
	struct err err;
	int fd, fd2, fd3;

	(void)state;
	fd = body_fd("Subject: dots\n\n.hello\n..two\n.\nmid . dot\n"
	    "crlf\r\na\rb\n\n.\n .x\nlast line without newline");
	fd2 = body_fd("");
	fd3 = body_fd(".x\r");
	fake_start(&f, parts);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(0, AUTH_NONE), &s, &err), 0);
	env_make(&env, "f@test", one, 0);
	assert_int_equal(smtp_send(s, &env, fd, &err), 0);
	env.rcpts[0].state = RCPT_PENDING;
	assert_int_equal(smtp_send(s, &env, fd2, &err), 0);
	env.rcpts[0].state = RCPT_PENDING;
	assert_int_equal(smtp_send(s, &env, fd3, &err), 0);
	smtp_close(s);
	fake_wait(&f);
	envelope_free(&env);
	close(fd);
	close(fd2);
	close(fd3);
}

static void
test_421_midsession(void **state)
{
	static const struct step s1[] = {
		S("250 mx.test"),
		C("MAIL FROM:<f@test>"),
		S("421 4.7.0 Try again later, closing connection"),
		END,	/* no QUIT after 421 */
	};
	const struct step *parts[] = { greet, s1, NULL };
	struct fake f;
	struct smtp_session *s;
	struct envelope env;
	struct err err;
	int fd = body_fd("x\n");

	(void)state;
	fake_start(&f, parts);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(0, AUTH_NONE), &s, &err), 0);
	env_make(&env, "f@test", one, 0);
	assert_int_equal(smtp_send(s, &env, fd, &err), -1);
	assert_int_equal(err.class, ERR_TEMP);
	assert_int_equal(err.smtp_code, 421);
	assert_int_equal(env.rcpts[0].state, RCPT_PENDING);
	/* The session is dead now. */
	assert_int_equal(smtp_send(s, &env, fd, &err), -1);
	assert_int_equal(err.class, ERR_TEMP);
	smtp_close(s);
	fake_wait(&f);
	envelope_free(&env);
	close(fd);
}

static void
test_disconnect_mid_data(void **state)
{
	static const struct step s1[] = {
		S("250 mx.test"),
		C("MAIL FROM:<f@test>"), S("250 ok"),
		C("RCPT TO:<a@test>"), S("250 ok"),
		C("DATA"), S("354 go"),
		{ 'X', NULL },
		END,
	};
	const struct step *parts[] = { greet, s1, NULL };
	struct fake f;
	struct smtp_session *s;
	struct envelope env;
	struct err err;
	int fd = body_fd("line\nline\n");

	(void)state;
	fake_start(&f, parts);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(0, AUTH_NONE), &s, &err), 0);
	env_make(&env, "f@test", one, 0);
	assert_int_equal(smtp_send(s, &env, fd, &err), -1);
	assert_int_equal(err.class, ERR_TEMP);
	assert_int_equal(env.rcpts[0].state, RCPT_PENDING);
	smtp_close(s);
	fake_wait(&f);
	envelope_free(&env);
	close(fd);
}

static void
test_huge_reply(void **state)
{
	static const struct step s1[] = { { 'B', NULL }, END };
	const struct step *parts[] = { greet, s1, NULL };
	struct fake f;
	struct smtp_session *s;
	struct err err;

	(void)state;
	fake_start(&f, parts);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(0, AUTH_NONE), &s, &err), -1);
	assert_null(s);
	assert_int_equal(err.class, ERR_PROTO);
	fake_wait(&f);
}

static void
test_greetings(void **state)
{
	static const struct step g554[] = {
		S("554 5.7.1 no service for you"),
		C("QUIT"), S("221 bye"),
		END,
	};
	static const struct step g421[] = {
		S("421 4.3.2 busy"),
		END,
	};
	static const struct step bad[] = {
		S("hello there"),
		END,
	};
	const struct step *p1[] = { g554, NULL };
	const struct step *p2[] = { g421, NULL };
	const struct step *p3[] = { bad, NULL };
	struct fake f;
	struct smtp_session *s;
	struct err err;

	(void)state;
	fake_start(&f, p1);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(0, AUTH_NONE), &s, &err), -1);
	assert_int_equal(err.class, ERR_PERM);
	assert_int_equal(err.smtp_code, 554);
	fake_wait(&f);

	fake_start(&f, p2);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(0, AUTH_NONE), &s, &err), -1);
	assert_int_equal(err.class, ERR_TEMP);
	fake_wait(&f);

	fake_start(&f, p3);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(0, AUTH_NONE), &s, &err), -1);
	assert_int_equal(err.class, ERR_PROTO);
	fake_wait(&f);
}

static void
test_starttls_policy(void **state)
{
	static const struct step none[] = {
		S("250-mx.test"), S("250 AUTH XOAUTH2"),
		C("QUIT"), S("221 bye"),
		END,
	};
	static const struct step busy[] = {
		S("250-mx.test"), S("250 STARTTLS"),
		C("STARTTLS"), S("454 4.7.0 TLS not available"),
		C("QUIT"), S("221 bye"),
		END,
	};
	/* A reply injected after the 220 in the same packet. */
	static const struct step inject[] = {
		S("250-mx.test"), S("250 STARTTLS"),
		C("STARTTLS"), S("220 go ahead"), S("250 injected"),
		END,
	};
	/* EHLO refused with TLS required: no HELO fallback. */
	static const struct step noehlo[] = {
		S("500 5.5.1 what"),
		C("QUIT"), S("221 bye"),
		END,
	};
	const struct step *p1[] = { greet, none, NULL };
	const struct step *p2[] = { greet, busy, NULL };
	const struct step *p3[] = { greet, inject, NULL };
	const struct step *p4[] = { greet, noehlo, NULL };
	struct fake f;
	struct smtp_session *s;
	struct err err;

	(void)state;
	fake_start(&f, p1);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(1, AUTH_XOAUTH2), &s, &err), -1);
	assert_int_equal(err.class, ERR_PERM);
	assert_non_null(strstr(err.msg, "does not offer STARTTLS"));
	fake_wait(&f);

	fake_start(&f, p2);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(1, AUTH_XOAUTH2), &s, &err), -1);
	assert_int_equal(err.class, ERR_TEMP);
	assert_int_equal(err.smtp_code, 454);
	fake_wait(&f);

	fake_start(&f, p3);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(1, AUTH_XOAUTH2), &s, &err), -1);
	assert_int_equal(err.class, ERR_PROTO);
	assert_non_null(strstr(err.msg, "plaintext"));
	fake_wait(&f);

	fake_start(&f, p4);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(1, AUTH_XOAUTH2), &s, &err), -1);
	assert_int_equal(err.class, ERR_PERM);
	fake_wait(&f);
}

static void
test_helo_fallback_and_utf8(void **state)
{
	static const struct step s1[] = {
		S("502 5.5.2 EHLO not implemented"),
		C("HELO client.test"), S("250 mx.test"),
		C("QUIT"), S("221 bye"),
		END,
	};
	const struct step *parts[] = { greet, s1, NULL };
	static const char *const u[] = { "j\xc3\xb6rg@test", NULL };
	struct fake f;
	struct smtp_session *s;
	struct envelope env;
	struct err err;

	(void)state;
	fake_start(&f, parts);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(0, AUTH_NONE), &s, &err), 0);
	env_make(&env, "f@test", u, 0);
	env.smtputf8 = 1;
	assert_int_equal(smtp_send(s, &env, -1, &err), -1);
	assert_int_equal(err.class, ERR_PERM);
	assert_non_null(strstr(err.msg, "does not support SMTPUTF8, needed "
	    "for j"));
	/* CR/LF in an address never reaches the wire. */
	free(env.sender);
	env.sender = xstrdup("f@test>\r\nRCPT TO:<evil@test");
	env.smtputf8 = 0;
	assert_int_equal(smtp_send(s, &env, -1, &err), -1);
	assert_int_equal(err.class, ERR_DATA);
	smtp_close(s);
	fake_wait(&f);
	envelope_free(&env);
}

static void
test_pipelined_mail_refused(void **state)
{
	static const struct step s1[] = {
		S("250-mx.test"), S("250 PIPELINING"),
		C("MAIL FROM:<f@test>"), C("RCPT TO:<a@test>"),
		C("RCPT TO:<b@test>"), C("DATA"),
		S("550 5.7.1 sender denied"), S("503 5.5.1 need MAIL"),
		S("503 5.5.1 need MAIL"), S("503 5.5.1 need MAIL"),
		C("QUIT"), S("221 bye"),
		END,
	};
	const struct step *parts[] = { greet, s1, NULL };
	static const char *const two[] = { "a@test", "b@test", NULL };
	struct fake f;
	struct smtp_session *s;
	struct envelope env;
	struct err err;
	int fd = body_fd("x\n");

	(void)state;
	fake_start(&f, parts);
	assert_int_equal(smtp_connect_conn(f.conn,
	    test_account(0, AUTH_NONE), &s, &err), 0);
	env_make(&env, "f@test", two, 0);
	assert_int_equal(smtp_send(s, &env, fd, &err), -1);
	assert_int_equal(err.class, ERR_PERM);
	assert_int_equal(err.smtp_code, 550);
	assert_string_equal(err.esc, "5.7.1");
	assert_int_equal(env.rcpts[0].state, RCPT_FAILED);
	assert_string_equal(env.rcpts[1].reply, "550 5.7.1 sender denied");
	smtp_close(s);
	fake_wait(&f);
	envelope_free(&env);
	close(fd);
}

static void
test_timeout(void **state)
{
	static const struct step s1[] = { END };	/* never answers EHLO */
	const struct step *parts[] = { greet, s1, NULL };
	struct account *a = test_account(0, AUTH_NONE);
	struct fake f;
	struct smtp_session *s;
	struct err err;

	(void)state;
	a->timeout = 1;
	fake_start(&f, parts);
	assert_int_equal(smtp_connect_conn(f.conn, a, &s, &err), -1);
	assert_int_equal(err.class, ERR_TEMP);
	assert_non_null(strstr(err.msg, "timed out"));
	fake_wait(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pipelining_mix),
		cmocka_unit_test(test_lockstep),
		cmocka_unit_test(test_all_refused),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_auth_two_step),
		cmocka_unit_test(test_auth_error_challenge),
		cmocka_unit_test(test_auth_policy),
		cmocka_unit_test(test_body_conversion),
		cmocka_unit_test(test_421_midsession),
		cmocka_unit_test(test_disconnect_mid_data),
		cmocka_unit_test(test_huge_reply),
		cmocka_unit_test(test_greetings),
		cmocka_unit_test(test_starttls_policy),
		cmocka_unit_test(test_helo_fallback_and_utf8),
		cmocka_unit_test(test_pipelined_mail_refused),
		cmocka_unit_test(test_timeout),
	};
	int r;

	signal(SIGPIPE, SIG_IGN);
	r = cmocka_run_group_tests_name("smtp", tests, NULL, NULL);
	buf_free(&transcript);
	return r;
}
