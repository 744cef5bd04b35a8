/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* test_envelope.c -- envelope text form: round trips and hostile input. */
#include "unit.h"

#include <errno.h>

#include "buf.h"
#include "envelope.h"
#include "status.h"

#define ID	"0123456789abcdef0123456789abcdef"

static const char *base =
    "version: 1\n"
    "id: " ID "\n"
    "account: \"work\"\n"
    "sender: <alice@example.com>\n"
    "created: 1767225600\n"
    "attempts: 2\n"
    "next-try: 1767225720\n"
    "state: queued\n"
    "size: 1234\n"
    "rcpt: pending <bob@example.org>\n";

static void
fill(struct envelope *env)
{
	envelope_init(env);
	memcpy(env->id, ID, sizeof(env->id));
	env->account = strdup("my \"work\" \\ acct");
	env->sender = strdup("we<i>rd@example.com");
	env->created = 1767225600;
	env->attempts = 3;
	env->next_try = 1767229200;
	env->last_error = strdup("451 4.3.0 \"try\" later \\ please");
	env->state = ENV_HELD;
	env->size = 987654321;
	env->body8bit = 1;
	env->smtputf8 = 1;
	env->dsn_notify = strdup("SUCCESS,FAILURE");
	env->dsn_ret = strdup("HDRS");
	env->envid = strdup("env id=1");
	env->is_bounce = 1;
	assert_int_equal(envelope_add_rcpt(env, "bob@example.org", "root"), 0);
	assert_int_equal(envelope_add_rcpt(env, "j\xc3\xb6rg@b\xc3\xbc.de",
	    NULL), 0);
	assert_int_equal(envelope_add_rcpt(env, "\"a>b\"@x.example",
	    "a\\b"), 0);
	env->rcpts[0].state = RCPT_DEFERRED;
	env->rcpts[0].reply = strdup("451 4.3.0 try \"later\"");
	env->rcpts[1].state = RCPT_SENT;
	env->rcpts[2].state = RCPT_FAILED;
	env->rcpts[2].reply = strdup("550 5.1.1 <a>b> no");
	env->rcpts[2].reported = 1;
}

static void
test_roundtrip(void **state)
{
	struct envelope a, b;
	struct buf t1, t2;
	struct err err;
	size_t i;

	(void)state;
	fill(&a);
	buf_init(&t1, ENVELOPE_MAX, 0);
	buf_init(&t2, ENVELOPE_MAX, 0);
	assert_int_equal(envelope_dump(&a, &t1, &err), 0);
	assert_int_equal(envelope_load(&b, t1.data, t1.len, &err), 0);
	assert_string_equal(b.id, a.id);
	assert_string_equal(b.account, a.account);
	assert_string_equal(b.sender, a.sender);
	assert_int_equal(b.created, a.created);
	assert_int_equal(b.attempts, a.attempts);
	assert_int_equal(b.next_try, a.next_try);
	assert_string_equal(b.last_error, a.last_error);
	assert_int_equal(b.state, ENV_HELD);
	assert_int_equal(b.size, a.size);
	assert_int_equal(b.body8bit, 1);
	assert_int_equal(b.smtputf8, 1);
	assert_string_equal(b.dsn_notify, a.dsn_notify);
	assert_string_equal(b.dsn_ret, a.dsn_ret);
	assert_string_equal(b.envid, a.envid);
	assert_int_equal(b.is_bounce, 1);
	assert_int_equal(b.nrcpts, 3);
	for (i = 0; i < 3; i++) {
		assert_string_equal(b.rcpts[i].addr, a.rcpts[i].addr);
		assert_int_equal(b.rcpts[i].state, a.rcpts[i].state);
		assert_int_equal(b.rcpts[i].reported, a.rcpts[i].reported);
		if (a.rcpts[i].orig == NULL)
			assert_null(b.rcpts[i].orig);
		else
			assert_string_equal(b.rcpts[i].orig, a.rcpts[i].orig);
		if (a.rcpts[i].reply == NULL)
			assert_null(b.rcpts[i].reply);
		else
			assert_string_equal(b.rcpts[i].reply,
			    a.rcpts[i].reply);
	}
	/* The progress line is last: deferred, sent, failed and reported. */
	assert_true(t1.len > 15);
	assert_string_equal(t1.data + t1.len - 15, "\nprogress: dsb\n");
	/* Dumping what was loaded gives the same bytes. */
	assert_int_equal(envelope_dump(&b, &t2, &err), 0);
	assert_string_equal(t1.data, t2.data);
	assert_int_equal(envelope_rcpts_open(&b), 1);
	envelope_free(&a);
	envelope_free(&b);
	buf_free(&t1);
	buf_free(&t2);
}

static void
test_dump_exact(void **state)
{
	struct envelope e;
	struct buf t;
	struct err err;

	(void)state;
	envelope_init(&e);
	memcpy(e.id, ID, sizeof(e.id));
	e.account = strdup("work");
	e.sender = strdup("");
	e.created = 100;
	e.next_try = 160;
	e.size = 5;
	envelope_add_rcpt(&e, "bob@b.example", "bob");
	e.rcpts[0].reply = strdup("451 4.3.0 \"busy\"");
	buf_init(&t, ENVELOPE_MAX, 0);
	assert_int_equal(envelope_dump(&e, &t, &err), 0);
	assert_string_equal(t.data,
	    "version: 1\n"
	    "id: " ID "\n"
	    "account: \"work\"\n"
	    "sender: <>\n"
	    "created: 100\n"
	    "attempts: 0\n"
	    "next-try: 160\n"
	    "state: queued\n"
	    "size: 5\n"
	    "body8bit: 0\n"
	    "smtputf8: 0\n"
	    "bounce: 0\n"
	    "rcpt: pending <bob@b.example> orig=<bob> "
	    "reply=\"451 4.3.0 \\\"busy\\\"\"\n"
	    "progress: p\n");
	buf_free(&t);
	envelope_free(&e);
}

static void
test_dump_rejects(void **state)
{
	struct envelope e;
	struct buf t;
	struct err err;

	(void)state;
	envelope_init(&e);
	memcpy(e.id, ID, sizeof(e.id));
	e.account = strdup("work");
	e.sender = strdup("a@b");
	buf_init(&t, ENVELOPE_MAX, 0);
	/* No recipient. */
	assert_int_equal(envelope_dump(&e, &t, &err), -1);
	assert_int_equal(err.class, ERR_DATA);
	envelope_add_rcpt(&e, "x@y", NULL);
	e.last_error = strdup("line1\nrcpt: sent <evil@x>");
	buf_free(&t);
	buf_init(&t, ENVELOPE_MAX, 0);
	assert_int_equal(envelope_dump(&e, &t, &err), -1);
	assert_int_equal(err.class, ERR_DATA);
	buf_free(&t);
	envelope_free(&e);
}

static void
test_add_rcpt(void **state)
{
	struct envelope e;
	char addr[64];
	int i;

	(void)state;
	envelope_init(&e);
	snprintf(addr, sizeof(addr), "%s", "Bob@Example.org");
	assert_int_equal(envelope_add_rcpt(&e, addr, NULL), 0);
	addr[0] = 'X';		/* the envelope has its own copy */
	assert_string_equal(e.rcpts[0].addr, "Bob@Example.org");
	assert_int_equal(envelope_add_rcpt(&e, "bob@example.ORG", "b"), 1);
	assert_int_equal(envelope_add_rcpt(&e, "bob@example.org.uk", NULL),
	    0);
	assert_int_equal(e.nrcpts, 2);
	envelope_free(&e);
	assert_int_equal(e.nrcpts, 0);
	assert_null(e.rcpts);

	/* The cap. */
	for (i = 0; i < LIM_RCPTS; i++) {
		snprintf(addr, sizeof(addr), "u%d@x", i);
		assert_int_equal(envelope_add_rcpt(&e, addr, NULL), 0);
	}
	errno = 0;
	assert_int_equal(envelope_add_rcpt(&e, "one-more@x", NULL), -1);
	assert_int_equal(errno, E2BIG);
	assert_int_equal(e.nrcpts, LIM_RCPTS);
	envelope_free(&e);
}

static void
test_load_min(void **state)
{
	struct envelope e;
	struct err err;

	(void)state;
	assert_int_equal(envelope_load(&e, base, strlen(base), &err), 0);
	assert_string_equal(e.account, "work");
	assert_string_equal(e.sender, "alice@example.com");
	assert_int_equal(e.attempts, 2);
	assert_int_equal(e.next_try, 1767225720);
	assert_null(e.last_error);
	assert_int_equal(e.nrcpts, 1);
	assert_int_equal(e.rcpts[0].state, RCPT_PENDING);
	assert_null(e.rcpts[0].reply);
	envelope_free(&e);
}

static void
test_load_ignores_unknown(void **state)
{
	struct envelope e;
	struct err err;
	char *t;

	(void)state;
	t = malloc(strlen(base) + 200);
	snprintf(t, strlen(base) + 200, "%s%s", base,
	    "future-key: whatever \"here\n"
	    "rcpt: sent <c@d> weight=\"3\" orig=<e@f> via=<relay>\n");
	assert_int_equal(envelope_load(&e, t, strlen(t), &err), 0);
	assert_int_equal(e.nrcpts, 2);
	assert_string_equal(e.rcpts[1].addr, "c@d");
	assert_string_equal(e.rcpts[1].orig, "e@f");
	assert_int_equal(e.rcpts[1].state, RCPT_SENT);
	envelope_free(&e);
	free(t);
}

/* base with line `from` (a prefix of the line) replaced by `to`. */
static char *
variant(const char *from, const char *to, size_t *lenp)
{
	const char *p = strstr(base, from), *eol;
	size_t n;
	char *t;

	assert_non_null(p);
	eol = strchr(p, '\n') + 1;
	n = (size_t)(p - base) + strlen(to) + strlen(eol);
	t = malloc(n + 1);
	memcpy(t, base, (size_t)(p - base));
	memcpy(t + (p - base), to, strlen(to));
	memcpy(t + (p - base) + strlen(to), eol, strlen(eol) + 1);
	*lenp = n;
	return t;
}

static void
test_load_hostile(void **state)
{
	static const struct {
		const char	*line;	/* line prefix to replace */
		const char	*with;	/* replacement (with LF) */
	} tab[] = {
		{ "version:", "" },		/* no version */
		{ "version:", "version: 2\n" },	/* unknown version */
		{ "version:", "version: one\n" },
		{ "version:", "Version: 1\n" },
		{ "id:", "" },				/* required */
		{ "id:", "id: 0123\n" },
		{ "id:", "id: 0123456789ABCDEF0123456789ABCDEF\n" },
		{ "account:", "account: work\n" },	/* not quoted */
		{ "account:", "account: \"\"\n" },
		{ "account:", "account: \"wo\"rk\"\n" },
		{ "account:", "account: \"wo\\rk\"\n" },	/* bad escape */
		{ "account:", "account: \"work\n" },	/* unterminated */
		{ "sender:", "sender: alice@example.com\n" },
		{ "sender:", "" },
		{ "created:", "created: -5\n" },
		{ "created:", "created: 12x\n" },
		{ "created:", "created: \n" },
		{ "created:", "created: 99999999999999999999999\n" },
		{ "attempts:", "" },
		{ "attempts:", "attempts: +1\n" },
		{ "state:", "state: lost\n" },
		{ "size:", "size: \n" },
		{ "rcpt:", "" },			/* no recipient */
		{ "rcpt:", "rcpt: pending bob@example.org\n" },
		{ "rcpt:", "rcpt: pending <>\n" },
		{ "rcpt:", "rcpt: gone <bob@example.org>\n" },
		{ "rcpt:", "rcpt: pending <bob@example.org>x\n" },
		{ "rcpt:", "rcpt: pending <bob@example.org> reply=\"x\n" },
		{ "rcpt:", "rcpt: pending <bob@example.org> reply=\"a\" "
		    "reply=\"b\"\n" },
		{ "rcpt:", "rcpt: pending <bob@example.org>  orig=<x>\n" },
		{ "rcpt:", "rcpt: pending <b@x>\nrcpt: sent <B@X>\n" },
		{ "state:", "state: queued\nstate: held\n" },	/* twice */
		{ "size:", "size:1\n" },		/* no space */
		{ "size:", "size 1\n" },
		{ "size:", "size: 1\r\n" },		/* CR */
		{ "size:", "size: 1\tx\n" },
		{ "size:", "\n" },			/* empty line */
		{ "size:", ": 1\n" },
		{ "size:", "body8bit: 2\n" },
		/* One known byte per recipient, after every rcpt line. */
		{ "rcpt:", "rcpt: pending <b@x>\nprogress: \n" },
		{ "rcpt:", "rcpt: pending <b@x>\nprogress: ss\n" },
		{ "rcpt:", "rcpt: pending <b@x>\nprogress: x\n" },
		{ "rcpt:", "rcpt: pending <b@x>\nprogress: S\n" },
		{ "rcpt:", "rcpt: pending <b@x>\nprogress:  s\n" },
		{ "rcpt:", "progress: s\nrcpt: pending <b@x>\n" },
		{ "rcpt:", "rcpt: pending <b@x>\nprogress: s\n"
		    "rcpt: pending <c@x>\n" },
		{ "rcpt:", "rcpt: pending <b@x>\nprogress: s\nprogress: s\n" },
	};
	struct envelope e;
	struct err err;
	size_t i, len;
	char *t;

	(void)state;
	for (i = 0; i < nitems(tab); i++) {
		t = variant(tab[i].line, tab[i].with, &len);
		err_clear(&err);
		if (envelope_load(&e, t, len, &err) != -1)
			fail_msg("case %zu accepted: %s", i, t);
		assert_int_equal(err.class, ERR_DATA);
		envelope_free(&e);
		free(t);
	}
}

static void
test_load_bytes(void **state)
{
	struct envelope e;
	struct err err;
	size_t len = strlen(base), i;
	char *t = malloc(len + 1), *big;

	(void)state;
	/* Every truncation is refused (the final LF is required). */
	for (i = 0; i < len; i++) {
		if (envelope_load(&e, base, i, &err) != -1)
			fail_msg("truncation at %zu accepted", i);
		envelope_free(&e);
	}
	/* A NUL anywhere. */
	memcpy(t, base, len + 1);
	t[20] = '\0';
	assert_int_equal(envelope_load(&e, t, len, &err), -1);
	assert_int_equal(err.class, ERR_DATA);
	envelope_free(&e);
	free(t);
	/* A huge line. */
	big = malloc(len + ENVELOPE_LINE_MAX + 64);
	memcpy(big, base, len);
	memcpy(big + len, "x-pad: \"", 8);
	memset(big + len + 8, 'a', ENVELOPE_LINE_MAX);
	memcpy(big + len + 8 + ENVELOPE_LINE_MAX, "\"\n", 2);
	assert_int_equal(envelope_load(&e, big, len + 10 + ENVELOPE_LINE_MAX,
	    &err), -1);
	assert_int_equal(err.class, ERR_DATA);
	assert_non_null(strstr(err.msg, "too long"));
	envelope_free(&e);
	free(big);
}

static void
test_load_many_rcpts(void **state)
{
	struct envelope e;
	struct buf t;
	struct err err;
	int i;

	(void)state;
	buf_init(&t, ENVELOPE_MAX, 0);
	assert_int_equal(buf_adds(&t, base), 0);
	for (i = 1; i < LIM_RCPTS; i++)
		assert_int_equal(buf_addf(&t, "rcpt: pending <u%d@x>\n", i), 0);
	assert_int_equal(envelope_load(&e, t.data, t.len, &err), 0);
	assert_int_equal(e.nrcpts, LIM_RCPTS);
	envelope_free(&e);
	assert_int_equal(buf_adds(&t, "rcpt: pending <over@x>\n"), 0);
	assert_int_equal(envelope_load(&e, t.data, t.len, &err), -1);
	assert_int_equal(err.class, ERR_DATA);
	assert_non_null(strstr(err.msg, "recipients"));
	envelope_free(&e);
	buf_free(&t);
}

/*
 * The progress line (one byte per recipient, updated in place by
 * queue_mark) wins over the rcpt lines' states.
 */
static void
test_progress(void **state)
{
	static const char *more =
	    "rcpt: deferred <c@d> reply=\"451 4.2.0 later\"\n"
	    "rcpt: sent <e@f> reply=\"250 ok\"\n"
	    "progress: sbs\n";
	struct envelope e;
	struct buf t;
	struct err err;
	size_t n;
	char *p;

	(void)state;
	n = strlen(base) + strlen(more);
	p = malloc(n + 1);
	snprintf(p, n + 1, "%s%s", base, more);
	assert_int_equal(envelope_load(&e, p, n, &err), 0);
	assert_int_equal(e.nrcpts, 3);
	assert_int_equal(e.rcpts[0].state, RCPT_SENT);
	assert_int_equal(e.rcpts[1].state, RCPT_FAILED);
	assert_int_equal(e.rcpts[1].reported, 1);
	/* The 451 was the reply of an earlier attempt. */
	assert_null(e.rcpts[1].reply);
	assert_int_equal(e.rcpts[2].state, RCPT_SENT);
	assert_int_equal(e.rcpts[2].reported, 0);
	assert_string_equal(e.rcpts[2].reply, "250 ok");	/* agrees */
	assert_int_equal(envelope_rcpts_open(&e), 0);
	/* Dumped again, the rcpt lines agree with it. */
	buf_init(&t, ENVELOPE_MAX, 0);
	assert_int_equal(envelope_dump(&e, &t, &err), 0);
	assert_non_null(strstr(t.data, "\nrcpt: sent <bob@example.org>\n"
	    "rcpt: failed <c@d>\n"
	    "rcpt: sent <e@f> reply=\"250 ok\"\nprogress: sbs\n"));
	/* The line alone: 11 bytes and one per recipient, every time. */
	buf_reset(&t);
	assert_int_equal(envelope_dump_progress(&e, &t), 0);
	assert_string_equal(t.data, "progress: sbs\n");
	e.rcpts[0].state = RCPT_PENDING;
	e.rcpts[2].state = RCPT_DEFERRED;
	buf_reset(&t);
	assert_int_equal(envelope_dump_progress(&e, &t), 0);
	assert_string_equal(t.data, "progress: pbd\n");
	buf_free(&t);
	envelope_free(&e);
	free(p);
}

static void
test_state_strings(void **state)
{
	(void)state;
	assert_string_equal(envelope_state_str(ENV_QUEUED), "queued");
	assert_string_equal(envelope_state_str(ENV_HELD), "held");
	assert_string_equal(envelope_state_str(ENV_FAILED), "failed");
	assert_string_equal(envelope_state_str(ENV_SENT), "sent");
	assert_string_equal(envelope_rcpt_state_str(RCPT_DEFERRED),
	    "deferred");
	assert_string_equal(envelope_rcpt_state_str((enum rcpt_state)99),
	    "unknown");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_dump_exact),
		cmocka_unit_test(test_dump_rejects),
		cmocka_unit_test(test_add_rcpt),
		cmocka_unit_test(test_load_min),
		cmocka_unit_test(test_load_ignores_unknown),
		cmocka_unit_test(test_load_hostile),
		cmocka_unit_test(test_load_bytes),
		cmocka_unit_test(test_load_many_rcpts),
		cmocka_unit_test(test_progress),
		cmocka_unit_test(test_state_strings),
	};

	return cmocka_run_group_tests_name("envelope", tests, NULL, NULL);
}
