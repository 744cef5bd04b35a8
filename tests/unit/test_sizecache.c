/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * test_sizecache.c -- the record of advertised SIZE limits: its parser,
 * its file (written atomically, refused when others could have written
 * it, changed by several processes at once without losing a value) and
 * the effective limit of an account.
 */
#include "unit.h"

#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include "conf.h"
#include "sizecache.h"
#include "status.h"

static void
test_parse(void **state)
{
	static const char text[] =
	    "# a comment\n"
	    "work smtp.example.test 587 1000000\n"
	    "home mail.example.test 465 0\n"
	    "bad line\n"
	    "x host 0 5\n"			/* port 0 */
	    "x host 65536 5\n"			/* port too big */
	    "x host 25 -5\n"
	    "x host 25 5x\n"
	    "x host 25 99999999999999999999\n"
	    "x host 25 4398046511105\n"		/* over SIZECACHE_MAX_SIZE */
	    "x  host 25 5\n"			/* two spaces */
	    "x host 25 5 6\n"
	    "x host 25 05\n"
	    "x\thost 25 5\n"
	    "\n"
	    "work other.example.test 587 2000\n"
	    "work smtp.example.test 587 3000000\n"	/* a later line wins */
	    "torn host 25 5";			/* no line end */
	struct sizecache c = { NULL, 0 };
	long long sz;

	(void)state;
	sizecache_parse(text, sizeof(text) - 1, &c);
	assert_int_equal(c.n, 3);
	assert_int_equal(sizecache_find(&c, "work", "smtp.example.test", 587,
	    &sz), 1);
	assert_int_equal(sz, 3000000);
	assert_int_equal(sizecache_find(&c, "home", "mail.example.test", 465,
	    &sz), 1);
	assert_int_equal(sz, 0);
	assert_int_equal(sizecache_find(&c, "work", "other.example.test", 587,
	    &sz), 1);
	assert_int_equal(sz, 2000);
	/* another port, account or host: not this server's */
	assert_int_equal(sizecache_find(&c, "work", "smtp.example.test", 465,
	    &sz), 0);
	assert_int_equal(sizecache_find(&c, "home", "smtp.example.test", 587,
	    &sz), 0);
	assert_int_equal(sizecache_find(&c, "torn", "host", 25, &sz), 0);
	assert_int_equal(sizecache_find(&c, "x", "host", 25, &sz), 0);
	assert_int_equal(sizecache_find(NULL, "x", "host", 25, &sz), 0);
	sizecache_free(&c);
	assert_int_equal(c.n, 0);
	/* binary garbage: nothing, no crash */
	sizecache_parse("\0\377 a 1 2\n\n\n", 11, &c);
	assert_int_equal(c.n, 0);
}

static void
test_limit(void **state)
{
	static const char conf[] =
	    "account work\nhost smtp.example.test\nfrom a@example.test\n"
	    "auth plain\nuser a\n"
	    "account set : work\nmax_message_size 2M\n"
	    "account default : work\n";
	static const char two[] = "work smtp.example.test 587 1000000\n"
	    "set smtp.example.test 587 1000000\n";
	static const char zero[] = "work smtp.example.test 587 0\n";
	struct sizecache c = { NULL, 0 };
	struct size_limit lim;
	struct config cf;
	struct err err;

	(void)state;
	memset(&cf, 0, sizeof(cf));
	assert_int_equal(conf_load_buffer("t", conf, sizeof(conf) - 1, &cf,
	    &err), 0);
	/* nothing learnt: the default */
	sizecache_limit(conf_account(&cf, "work"), NULL, &lim);
	assert_int_equal(lim.bytes, SIZECACHE_DEFAULT);
	assert_int_equal(lim.origin, SIZE_DEFAULT);
	assert_non_null(strstr(lim.why, "max_message_size"));
	/* learnt: the server's, named */
	sizecache_parse(two, strlen(two), &c);
	sizecache_limit(conf_account(&cf, "work"), &c, &lim);
	assert_int_equal(lim.bytes, 1000000);
	assert_int_equal(lim.origin, SIZE_ADVERTISED);
	assert_non_null(strstr(lim.why, "smtp.example.test:587"));
	assert_non_null(strstr(lim.why, "max_message_size"));
	/* configured: wins over the server's */
	sizecache_limit(conf_account(&cf, "set"), &c, &lim);
	assert_int_equal(lim.bytes, 2 * 1024 * 1024);
	assert_int_equal(lim.origin, SIZE_CONFIGURED);
	/* "SIZE 0": no fixed limit, the default */
	sizecache_free(&c);
	sizecache_parse(zero, strlen(zero), &c);
	sizecache_limit(conf_account(&cf, "work"), &c, &lim);
	assert_int_equal(lim.bytes, SIZECACHE_DEFAULT);
	sizecache_free(&c);
	conf_free(&cf);
}

static void
test_store_load(void **state)
{
	char top[] = "/tmp/test_sizecache.XXXXXX", cmd[512];
	struct sizecache c = { NULL, 0 }, d = { NULL, 0 };
	struct stat st;
	struct err err;
	long long sz;
	int dfd, fd;

	(void)state;
	assert_non_null(mkdtemp(top));
	dfd = open(top, O_RDONLY | O_DIRECTORY);
	assert_true(dfd != -1);
	/* none yet: empty */
	sizecache_load(dfd, "s", geteuid(), &c);
	assert_int_equal(c.n, 0);
	assert_int_equal(sizecache_store(dfd, "s", 0640, (gid_t)-1, "work",
	    "smtp.example.test", 587, 1000000, &err), 0);
	assert_int_equal(sizecache_store(dfd, "s", 0640, (gid_t)-1, "home",
	    "mail.example.test", 465, 5000, &err), 0);
	assert_int_equal(sizecache_store(dfd, "s", 0640, (gid_t)-1, "work",
	    "smtp.example.test", 587, 2000000, &err), 0);
	assert_int_equal(fstatat(dfd, "s", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	sizecache_load(dfd, "s", geteuid(), &c);
	assert_int_equal(c.n, 2);
	assert_int_equal(sizecache_find(&c, "work", "smtp.example.test", 587,
	    &sz), 1);
	assert_int_equal(sz, 2000000);
	sizecache_copy(&d, &c);
	assert_int_equal(sizecache_find(&d, "home", "mail.example.test", 465,
	    &sz), 1);
	assert_int_equal(sz, 5000);
	sizecache_free(&d);
	/* names that do not fit on a line are not recorded */
	assert_int_equal(sizecache_store(dfd, "s", 0640, (gid_t)-1, "a b",
	    "h", 25, 1, &err), -1);
	/* another owner's, or a file others may write: ignored */
	sizecache_load(dfd, "s", geteuid() + 1, &c);
	assert_int_equal(c.n, 0);
	assert_int_equal(fchmodat(dfd, "s", 0660, 0), 0);
	sizecache_load(dfd, "s", geteuid(), &c);
	assert_int_equal(c.n, 0);
	/* a symbolic link: ignored */
	assert_int_equal(fchmodat(dfd, "s", 0600, 0), 0);
	assert_int_equal(symlinkat("s", dfd, "l"), 0);
	sizecache_load(dfd, "l", geteuid(), &c);
	assert_int_equal(c.n, 0);
	/* garbage in the file: the good lines are kept, no temporary left */
	fd = openat(dfd, "g", O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "zz\nwork h 25 7\n\377", 16), 16);
	close(fd);
	sizecache_load(dfd, "g", geteuid(), &c);
	assert_int_equal(c.n, 1);
	sizecache_free(&c);
	(void)snprintf(cmd, sizeof(cmd), "test $(ls -A '%s' | wc -l) = 3",
	    top);
	assert_int_equal(system(cmd), 0);
	close(dfd);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	assert_int_equal(system(cmd), 0);
}

#define WRITERS		3
#define PER_WRITER	40

/* Records PER_WRITER servers of account "wK" through its own descriptor. */
static void
writer(const char *dir, int k)
{
	char acct[16], host[32];
	struct err err;
	int dfd, i;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY)) == -1)
		_exit(2);
	(void)snprintf(acct, sizeof(acct), "w%d", k);
	for (i = 0; i < PER_WRITER; i++) {
		(void)snprintf(host, sizeof(host), "smtp%d.example.test", i);
		if (sizecache_store(dfd, "s", 0600, (gid_t)-1, acct, host, 587,
		    1000 + i, &err) == -1)
			_exit(3);
	}
	_exit(0);
}

/* Sessions of several processes recording at once: every value stays. */
static void
test_store_concurrent(void **state)
{
	char top[] = "/tmp/test_sizecache.XXXXXX", cmd[512];
	struct sizecache c = { NULL, 0 };
	pid_t pid[WRITERS];
	int dfd, k, st;

	(void)state;
	assert_non_null(mkdtemp(top));
	for (k = 0; k < WRITERS; k++) {
		pid[k] = fork();
		assert_true(pid[k] != -1);
		if (pid[k] == 0)
			writer(top, k);
	}
	for (k = 0; k < WRITERS; k++) {
		assert_int_equal(waitpid(pid[k], &st, 0), pid[k]);
		assert_true(WIFEXITED(st));
		assert_int_equal(WEXITSTATUS(st), 0);
	}
	dfd = open(top, O_RDONLY | O_DIRECTORY);
	assert_true(dfd != -1);
	sizecache_load(dfd, "s", geteuid(), &c);
	assert_int_equal(c.n, WRITERS * PER_WRITER);
	sizecache_free(&c);
	close(dfd);
	(void)snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	assert_int_equal(system(cmd), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_limit),
		cmocka_unit_test(test_store_load),
		cmocka_unit_test(test_store_concurrent),
	};

	return cmocka_run_group_tests_name("sizecache", tests, NULL, NULL);
}
