/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * test_buf.c -- the bounded buffer and spans: appending, the hard limit
 * (E2BIG frees the buffer), reset and detach, and BUF_SECRET wiping: the
 * old block on growth, the block on free and on reset.
 *
 * Wiping is observed where the memory is handed back: this program is
 * linked with -Wl,--wrap=free (Makefile.am), so every free() in buf.c and
 * in compat's freezero() reaches wrap_free() below, which checks the
 * watched block is all zero bytes before really freeing it.
 */
#include "unit.h"

#include <errno.h>

#include "buf.h"

void	__real_free(void *);
void	__wrap_free(void *);

static const unsigned char *watch_p;	/* the block to look at when freed */
static size_t watch_n;
static int watch_freed, watch_zero;

void
__wrap_free(void *p)
{
	size_t i;

	if (p != NULL && p == watch_p) {
		watch_freed = 1;
		watch_zero = 1;
		for (i = 0; i < watch_n; i++)
			if (watch_p[i] != 0)
				watch_zero = 0;
		watch_p = NULL;
	}
	__real_free(p);
}

static void
watch(const void *p, size_t n)
{
	watch_p = p;
	watch_n = n;
	watch_freed = watch_zero = 0;
}

static int
all_zero(const char *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (p[i] != 0)
			return 0;
	return 1;
}

static void
test_empty(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 100, 0);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	buf_reset(&b);
	assert_string_equal(buf_str(&b), "");
	buf_free(&b);
	buf_free(&b);		/* twice is fine */
	assert_null(b.data);
}

static void
test_append(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 1000, 0);
	assert_int_equal(buf_adds(&b, "Hello"), 0);
	assert_int_equal(buf_addc(&b, ','), 0);
	assert_int_equal(buf_add(&b, " world", 6), 0);
	assert_int_equal(buf_add(&b, "ignored", 0), 0);
	assert_int_equal(buf_addf(&b, " %d%s", 42, "!"), 0);
	assert_string_equal(buf_str(&b), "Hello, world 42!");
	assert_int_equal(b.len, strlen("Hello, world 42!"));
	assert_true(b.cap > b.len);
	buf_free(&b);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_int_equal(b.cap, 0);
}

static void
test_binary(void **state)
{
	static const char bin[] = { 'a', '\0', 'b', '\377', '\0' };
	struct buf b;

	(void)state;
	buf_init(&b, 100, 0);
	assert_int_equal(buf_add(&b, bin, sizeof(bin)), 0);
	assert_int_equal(b.len, sizeof(bin));
	assert_memory_equal(b.data, bin, sizeof(bin));
	assert_int_equal(b.data[b.len], '\0');
	buf_free(&b);
}

/* Growth keeps the content and the terminating NUL, in many small steps. */
static void
test_growth(void **state)
{
	struct buf b;
	size_t i;

	(void)state;
	buf_init(&b, 100000, 0);
	for (i = 0; i < 10000; i++)
		assert_int_equal(buf_addc(&b, 'a' + (int)(i % 26)), 0);
	assert_int_equal(b.len, 10000);
	assert_int_equal(strlen(buf_str(&b)), 10000);
	for (i = 0; i < 10000; i++)
		assert_int_equal(b.data[i], 'a' + (int)(i % 26));
	buf_free(&b);
}

/* Exactly max bytes fit; one more is E2BIG and the buffer is freed. */
static void
test_limit(void **state)
{
	char big[300];
	struct buf b;

	(void)state;
	memset(big, 'x', sizeof(big));
	buf_init(&b, 100, 0);
	assert_int_equal(buf_add(&b, big, 100), 0);
	assert_int_equal(b.len, 100);
	assert_true(b.cap <= 101);	/* never more than max + NUL */
	errno = 0;
	assert_int_equal(buf_addc(&b, 'y'), -1);
	assert_int_equal(errno, E2BIG);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");

	/* One call larger than max, and a length that would overflow. */
	buf_init(&b, 100, 0);
	errno = 0;
	assert_int_equal(buf_add(&b, big, 101), -1);
	assert_int_equal(errno, E2BIG);
	buf_init(&b, 100, 0);
	assert_int_equal(buf_adds(&b, "abc"), 0);
	errno = 0;
	assert_int_equal(buf_add(&b, big, SIZE_MAX - 1), -1);
	assert_int_equal(errno, E2BIG);
	assert_null(b.data);

	/* A zero limit holds only the empty string. */
	buf_init(&b, 0, 0);
	assert_int_equal(buf_add(&b, "", 0), 0);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_addc(&b, 'a'), -1);
	buf_free(&b);
}

/* buf_addf: past its 256-byte stack buffer, and past the limit. */
static void
test_addf(void **state)
{
	char big[1000];
	struct buf b;

	(void)state;
	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_init(&b, 5000, BUF_SECRET);
	assert_int_equal(buf_addf(&b, "<%s>", big), 0);
	assert_int_equal(b.len, 1001);
	assert_int_equal(b.data[0], '<');
	assert_int_equal(b.data[1000], '>');
	assert_int_equal(buf_addf(&b, "%s", ""), 0);
	assert_int_equal(b.len, 1001);
	buf_free(&b);

	buf_init(&b, 500, 0);
	errno = 0;
	assert_int_equal(buf_addf(&b, "%s", big), -1);
	assert_int_equal(errno, E2BIG);
	assert_null(b.data);
}

/* A secret buffer never reallocs: the old block is wiped, then freed. */
static void
test_secret_growth(void **state)
{
	struct buf b;
	const char *old;
	size_t oldcap, i;

	(void)state;
	buf_init(&b, 10000, BUF_SECRET);
	assert_int_equal(buf_adds(&b, "secret-token-1234"), 0);
	old = b.data;
	oldcap = b.cap;
	watch(old, oldcap);
	for (i = b.len; i <= oldcap; i++)
		assert_int_equal(buf_addc(&b, 'S'), 0);
	assert_true(b.cap > oldcap);
	assert_ptr_not_equal(b.data, old);
	assert_true(watch_freed);
	assert_true(watch_zero);
	assert_memory_equal(b.data, "secret-token-1234SSS", 20);
	assert_int_equal(b.data[b.len], '\0');

	/* And on free: the whole allocation, not just len bytes. */
	watch(b.data, b.cap);
	buf_free(&b);
	assert_true(watch_freed);
	assert_true(watch_zero);
	assert_null(b.data);
}

static void
test_secret_limit(void **state)
{
	struct buf b;

	(void)state;
	buf_init(&b, 16, BUF_SECRET);
	assert_int_equal(buf_adds(&b, "0123456789"), 0);
	watch(b.data, b.cap);
	errno = 0;
	assert_int_equal(buf_adds(&b, "0123456789"), -1);
	assert_int_equal(errno, E2BIG);
	assert_true(watch_freed);
	assert_true(watch_zero);
	assert_null(b.data);
}

static void
test_secret_reset(void **state)
{
	struct buf b;
	const char *p;

	(void)state;
	buf_init(&b, 1000, BUF_SECRET);
	assert_int_equal(buf_adds(&b, "refresh-token-abcdef"), 0);
	p = b.data;
	buf_reset(&b);
	assert_ptr_equal(b.data, p);		/* memory kept */
	assert_int_equal(b.len, 0);
	assert_string_equal(buf_str(&b), "");
	assert_true(all_zero(b.data, b.cap));
	assert_int_equal(buf_adds(&b, "next"), 0);
	assert_string_equal(buf_str(&b), "next");
	buf_free(&b);
}

/* The non-secret reset keeps the memory and empties the string. */
static void
test_reset(void **state)
{
	struct buf b;
	const char *p;

	(void)state;
	buf_init(&b, 1000, 0);
	assert_int_equal(buf_adds(&b, "abc"), 0);
	p = b.data;
	buf_reset(&b);
	assert_ptr_equal(b.data, p);
	assert_string_equal(buf_str(&b), "");
	assert_int_equal(buf_adds(&b, "de"), 0);
	assert_string_equal(buf_str(&b), "de");
	buf_free(&b);
}

static void
test_detach(void **state)
{
	struct buf b;
	char *s;
	size_t n = 99;

	(void)state;
	buf_init(&b, 100, 0);
	assert_int_equal(buf_adds(&b, "owned"), 0);
	s = buf_detach(&b, &n);
	assert_string_equal(s, "owned");
	assert_int_equal(n, 5);
	assert_null(b.data);
	assert_int_equal(b.len, 0);
	free(s);

	/* An empty buffer detaches as an allocated "". */
	buf_init(&b, 100, 0);
	s = buf_detach(&b, NULL);
	assert_non_null(s);
	assert_string_equal(s, "");
	free(s);
	/* The buffer is usable again. */
	assert_int_equal(buf_adds(&b, "again"), 0);
	assert_string_equal(buf_str(&b), "again");
	buf_free(&b);
}

static void
test_span(void **state)
{
	struct span s, t;
	char *d;

	(void)state;
	s = span_from(NULL);		/* {NULL, 0}: no NULL to memcmp */
	assert_int_equal(s.len, 0);
	assert_true(span_eq(s, ""));
	assert_true(span_ieq(s, ""));
	assert_false(span_eq(s, "x"));
	s = span_from("Bearer");
	assert_int_equal(s.len, 6);
	assert_true(span_eq(s, "Bearer"));
	assert_false(span_eq(s, "bearer"));
	assert_false(span_eq(s, "Bear"));
	assert_false(span_eq(s, "Bearer "));
	assert_true(span_ieq(s, "bEARER"));
	assert_false(span_ieq(s, "bearers"));

	t = span_trim(span_from(" \t\r\n value with  inner space \r\n"));
	assert_int_equal(t.len, strlen("value with  inner space"));
	assert_true(span_eq(t, "value with  inner space"));
	t = span_trim(span_from(" \t\r\n "));
	assert_int_equal(t.len, 0);
	t = span_trim(span_from("\vx\f"));	/* only SP, HTAB, CR, LF */
	assert_int_equal(t.len, 3);

	s.p = "abcdef";
	s.len = 3;
	d = span_dup(s);
	assert_string_equal(d, "abc");
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_binary),
		cmocka_unit_test(test_growth),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_addf),
		cmocka_unit_test(test_secret_growth),
		cmocka_unit_test(test_secret_limit),
		cmocka_unit_test(test_secret_reset),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_detach),
		cmocka_unit_test(test_span),
	};

	return cmocka_run_group_tests_name("buf", tests, NULL, NULL);
}
