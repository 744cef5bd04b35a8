/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * test_sysq.c -- the system-mode maildrop's parsers (the drop file's first
 * line, the usage ledger) and the cleaning of corrupt/ by age.
 */
#include "unit.h"

#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "queue.h"
#include "status.h"
#include "sysq.h"
#include "util.h"

static void
test_parse_header(void **state)
{
	unsigned long long msg;
	int a, f;
	char h[SYSQ_HDR_LEN + 1];

	(void)state;
	assert_int_equal(sysq_parse_header("oauthmail-drop 1 a=1 f=0 "
	    "msg=00000000000000001234\n", &a, &f, &msg), 0);
	assert_int_equal(a, 1);
	assert_int_equal(f, 0);
	assert_int_equal(msg, 1234);
	/* the limit of the length field: no overflow */
	assert_int_equal(sysq_parse_header("oauthmail-drop 1 a=0 f=1 "
	    "msg=99999999999999999999\n", &a, &f, &msg), -1);
	assert_int_equal(sysq_parse_header("oauthmail-drop 2 a=0 f=1 "
	    "msg=00000000000000001234\n", &a, &f, &msg), -1);
	assert_int_equal(sysq_parse_header("oauthmail-drop 1 a=2 f=1 "
	    "msg=00000000000000001234\n", &a, &f, &msg), -1);
	assert_int_equal(sysq_parse_header("oauthmail-drop 1 a=0 f=1 "
	    "msg=0000000000000000123x\n", &a, &f, &msg), -1);
	assert_int_equal(sysq_parse_header("oauthmail-drop 1 a=0 f=1 "
	    "msg=00000000000000001234 ", &a, &f, &msg), -1);
	memset(h, ' ', SYSQ_HDR_LEN);
	h[SYSQ_HDR_LEN] = '\0';
	assert_int_equal(sysq_parse_header(h, &a, &f, &msg), -1);
}

static void
test_ledger_parse(void **state)
{
	static const char text[] =
	    "1001 3 2048\n"
	    "0 1 10\n"
	    "bad line\n"
	    "1002 x 5\n"
	    "1003 1 2 3\n"
	    "1004  1 2\n"
	    "99999999999999999999 1 1\n"
	    "1005 7 77\n"
	    "1001 4 4096\n"		/* a later line wins */
	    "1006 9 9";			/* torn: no line end */
	struct ledger l;
	size_t i;
	int seen = 0;

	(void)state;
	memset(&l, 0, sizeof(l));
	sysq_ledger_parse(text, sizeof(text) - 1, &l);
	assert_int_equal(l.n, 3);
	for (i = 0; i < l.n; i++) {
		switch (l.v[i].uid) {
		case 1001:
			assert_int_equal(l.v[i].files, 4);
			assert_int_equal(l.v[i].bytes, 4096);
			seen |= 1;
			break;
		case 0:
			assert_int_equal(l.v[i].files, 1);
			assert_int_equal(l.v[i].bytes, 10);
			seen |= 2;
			break;
		case 1005:
			assert_int_equal(l.v[i].files, 7);
			seen |= 4;
			break;
		default:
			fail_msg("unexpected uid %lu", l.v[i].uid);
		}
	}
	assert_int_equal(seen, 7);
	free(l.v);
}

static void
test_clean_corrupt(void **state)
{
	char top[] = "/tmp/test_sysq.XXXXXX", path[512];
	struct queue q;
	struct stat st;
	struct err err;
	time_t now;
	int fd;

	(void)state;
	assert_non_null(mkdtemp(top));
	(void)snprintf(path, sizeof(path), "%s/queue", top);
	assert_int_equal(queue_open(&q, path, &err), 0);
	fd = openat(q.areafd[QAREA_CORRUPT], "maildrop-x", O_WRONLY |
	    O_CREAT, 0600);
	assert_true(fd != -1);
	close(fd);
	assert_int_equal(fstatat(q.areafd[QAREA_CORRUPT], "maildrop-x", &st,
	    0), 0);
	now = st.st_ctime;
	/* younger than the age, or no age: kept */
	assert_int_equal(sysq_clean_corrupt(&q, 86400, now + 86400), 0);
	assert_int_equal(sysq_clean_corrupt(&q, 0, now + 10 * 86400), 0);
	assert_int_equal(sysq_clean_corrupt(&q, -1, now + 10 * 86400), 0);
	assert_int_equal(faccessat(q.areafd[QAREA_CORRUPT], "maildrop-x",
	    F_OK, 0), 0);
	/* older: removed */
	assert_int_equal(sysq_clean_corrupt(&q, 86400, now + 86401), 1);
	assert_int_equal(faccessat(q.areafd[QAREA_CORRUPT], "maildrop-x",
	    F_OK, 0), -1);
	queue_close(&q);
	(void)snprintf(path, sizeof(path), "rm -rf '%s'", top);
	assert_int_equal(system(path), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_header),
		cmocka_unit_test(test_ledger_parse),
		cmocka_unit_test(test_clean_corrupt),
	};

	return cmocka_run_group_tests_name("sysq", tests, NULL, NULL);
}
