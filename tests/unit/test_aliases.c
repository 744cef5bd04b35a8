/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* test_aliases.c -- aliases(5) parsing and expansion, table-driven. */
#include "unit.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aliases.h"
#include "status.h"
#include "util.h"

static const char table[] =
    "# /etc/aliases for a relay-only host\n"
    "postmaster: root\n"
    "root: admin@example.com, Ops\n"
    "ops:\tops-team@example.com,\n"
    "\t  oncall@example.com\n"
    "  # a comment inside an entry\n"
    "  , pager@example.net\n"
    "MixedCase: mixed@example.com\n"
    "www-data:root\n"
    "loop1: loop2\n"
    "loop2: loop1, loopend@example.com\n"
    "selfish: selfish\n"
    "copy: \\copy, copy@example.com\n"
    "onlycopy: \\onlycopy\n"
    "pipe: \"|/usr/bin/procmail -f-, x\"\n"
    "file: /var/mail/archive\n"
    "inc: :include:/etc/mail/list\n"
    "viahost: admin@localhost\n"
    "dup: admin@example.com, root\n"
    "\n"
    "deep0: deep1\ndeep1: deep2\ndeep2: deep3\ndeep3: deep4\ndeep4: deep5\n"
    "deep5: deep6\ndeep6: deep7\ndeep7: deep8\ndeep8: deep9\n"
    "deep9: deep10\ndeep10: deep11\ndeep11: deep12\ndeep12: deep13\n"
    "deep13: deep14\ndeep14: deep15\ndeep15: deep16\ndeep16: deep17\n"
    "deep17: deep@example.com\n"
    "admin: local-admin@example.org\n";

struct xcase {
	const char	*addr;
	const char	*want[6];	/* NULL-terminated; all NULL: error */
	enum err_class	 class;		/* when an error is expected */
	const char	*msg;		/* substring of the error */
};

static const struct xcase xcases[] = {
	{ "root", { "admin@example.com", "ops-team@example.com",
	    "oncall@example.com", "pager@example.net" }, ERR_NONE, NULL },
	{ "ROOT", { "admin@example.com", "ops-team@example.com",
	    "oncall@example.com", "pager@example.net" }, ERR_NONE, NULL },
	{ "postmaster", { "admin@example.com", "ops-team@example.com",
	    "oncall@example.com", "pager@example.net" }, ERR_NONE, NULL },
	{ "root@localhost", { "admin@example.com", "ops-team@example.com",
	    "oncall@example.com", "pager@example.net" }, ERR_NONE, NULL },
	{ "root@localhost.localdomain.", { "admin@example.com",
	    "ops-team@example.com", "oncall@example.com",
	    "pager@example.net" }, ERR_NONE, NULL },
	{ "root+cron", { "admin@example.com", "ops-team@example.com",
	    "oncall@example.com", "pager@example.net" }, ERR_NONE, NULL },
	{ "mixedcase", { "mixed@example.com" }, ERR_NONE, NULL },
	{ "www-data", { "admin@example.com", "ops-team@example.com",
	    "oncall@example.com", "pager@example.net" }, ERR_NONE, NULL },
	{ "loop1", { "loopend@example.com" }, ERR_NONE, NULL },
	{ "loop2", { "loopend@example.com" }, ERR_NONE, NULL },
	{ "copy", { "copy@example.com" }, ERR_NONE, NULL },
	{ "viahost", { "local-admin@example.org" }, ERR_NONE, NULL },
	{ "dup", { "admin@example.com", "ops-team@example.com",
	    "oncall@example.com", "pager@example.net" }, ERR_NONE, NULL },
	{ "someone@example.com", { "someone@example.com" }, ERR_NONE, NULL },
	{ "Someone@Example.COM", { "Someone@Example.COM" }, ERR_NONE, NULL },
	{ "nobody", { NULL }, ERR_ADDR,
	    "'nobody' is local and has no alias; add 'nobody: you@example.com'" },
	{ "nobody@localhost", { NULL }, ERR_ADDR, "'nobody'" },
	{ "selfish", { NULL }, ERR_ADDR, "no email address" },
	{ "onlycopy", { NULL }, ERR_ADDR, "no email address" },
	{ "pipe", { NULL }, ERR_CONFIG, "t.aliases:15: alias 'pipe' delivers "
	    "to a program" },
	{ "file", { NULL }, ERR_CONFIG, "t.aliases:16: alias 'file' delivers "
	    "to a file" },
	{ "inc", { NULL }, ERR_CONFIG, "an include file ':include:" },
	{ "deep0", { NULL }, ERR_CONFIG, "deeper than" },
	{ "@localhost", { NULL }, ERR_ADDR, "local part" },
};

static struct aliases *
load_ok(const char *name, const char *text)
{
	struct aliases *al;
	struct err err;

	if (aliases_load_buffer(name, text, strlen(text), &al, &err) != 0)
		fail_msg("load: %s", err.msg);
	return al;
}

static void
free_list(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

static void
test_expand_table(void **state)
{
	struct aliases *al;
	struct err err;
	char **v = NULL;
	size_t n = 0, i, j;
	int r;

	(void)state;
	al = load_ok("t.aliases", table);
	for (i = 0; i < nitems(xcases); i++) {
		const struct xcase *c = &xcases[i];

		err_clear(&err);
		r = aliases_expand(al, c->addr, &v, &n, &err);
		if (c->want[0] == NULL) {
			if (r != -1)
				fail_msg("%s: expanded, want an error",
				    c->addr);
			if (err.class != c->class ||
			    strstr(err.msg, c->msg) == NULL)
				fail_msg("%s: error %d '%s', want %d '%s'",
				    c->addr, err.class, err.msg, c->class,
				    c->msg);
			assert_int_equal(n, 0);
			continue;
		}
		if (r != 0)
			fail_msg("%s: %s", c->addr, err.msg);
		for (j = 0; c->want[j] != NULL; j++)
			if (j >= n || strcmp(v[j], c->want[j]) != 0)
				fail_msg("%s: result %zu is '%s', want '%s'",
				    c->addr, j, j < n ? v[j] : "(none)",
				    c->want[j]);
		if (j != n)
			fail_msg("%s: %zu results, want %zu", c->addr, n, j);
		free_list(v, n);
		v = NULL;
		n = 0;
	}
	assert_true(aliases_count(al) > 20);
	aliases_free(al);
}

/* Results accumulate across calls without duplicates; errors roll back. */
static void
test_accumulate(void **state)
{
	struct aliases *al;
	struct err err;
	char **v = NULL;
	size_t n = 0;

	(void)state;
	al = load_ok("t.aliases", table);
	assert_int_equal(aliases_expand(al, "mixedcase", &v, &n, &err), 0);
	assert_int_equal(aliases_expand(al, "MIXED@example.com", &v, &n, &err),
	    0);
	assert_int_equal(n, 1);
	assert_int_equal(aliases_expand(al, "ops", &v, &n, &err), 0);
	assert_int_equal(n, 4);
	assert_int_equal(aliases_expand(al, "pipe", &v, &n, &err), -1);
	assert_int_equal(n, 4);
	assert_int_equal(aliases_expand(al, "root", &v, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_string_equal(v[4], "admin@example.com");
	free_list(v, n);
	aliases_free(al);
}

static void
test_catchall(void **state)
{
	static const char *const texts[] = {
		"root: a@example.com\ndefault: catch@example.com\n",
		"root: a@example.com\n*: catch@example.com\n",
	};
	struct aliases *al;
	struct err err;
	char **v = NULL;
	size_t n = 0, i;

	(void)state;
	for (i = 0; i < nitems(texts); i++) {
		al = load_ok("c", texts[i]);
		assert_int_equal(aliases_expand(al, "www-data", &v, &n, &err),
		    0);
		assert_int_equal(n, 1);
		assert_string_equal(v[0], "catch@example.com");
		assert_int_equal(aliases_expand(al, "root", &v, &n, &err), 0);
		assert_int_equal(n, 2);
		assert_string_equal(v[1], "a@example.com");
		assert_int_equal(aliases_check(al, &err), 0);
		free_list(v, n);
		v = NULL;
		n = 0;
		aliases_free(al);
	}
	/* A catch-all pointing at an unknown local name loops to nothing. */
	al = load_ok("c", "default: someone\n");
	assert_int_equal(aliases_expand(al, "x", &v, &n, &err), -1);
	assert_int_equal(err.class, ERR_ADDR);
	aliases_free(al);
}

static void
test_no_file(void **state)
{
	struct err err;
	char **v = NULL;
	size_t n = 0;

	(void)state;
	assert_int_equal(aliases_expand(NULL, "root", &v, &n, &err), -1);
	assert_int_equal(err.class, ERR_ADDR);
	assert_non_null(strstr(err.msg, "no aliases file"));
	assert_int_equal(aliases_expand(NULL, "a@example.com", &v, &n, &err),
	    0);
	assert_int_equal(n, 1);
	free_list(v, n);
}

struct badalias {
	const char	*text;
	const char	*msg;
};

static const struct badalias badaliases[] = {
	{ "root admin@example.com\n", "b:1: no ':'" },
	{ "  root: x@example.com\n", "b:1: continuation line" },
	{ "# c\n\nroot:\n", "b:3: alias 'root' has no target" },
	{ "root: ,\n", "b:1: alias 'root' has no target" },
	{ "my name: x@y.example\n", "b:1: invalid alias name" },
	{ "a@b: x@y.example\n", "b:1: invalid alias name" },
	{ ": x@y.example\n", "b:1: invalid alias name" },
	{ "root: a@x.example\nx: y@x.example\nROOT: b@x.example\n",
	  "b:3: alias 'root' is also defined at line 1" },
	{ "root: a\0b\n", "NUL" },
};

static void
test_load_errors(void **state)
{
	struct aliases *al;
	struct err err;
	size_t i, len;

	(void)state;
	for (i = 0; i < nitems(badaliases); i++) {
		len = strlen(badaliases[i].text);
		if (strcmp(badaliases[i].msg, "NUL") == 0)
			len = 11;
		err_clear(&err);
		if (aliases_load_buffer("b", badaliases[i].text, len, &al,
		    &err) != -1)
			fail_msg("bad aliases %zu accepted", i);
		assert_null(al);
		if (err.class != ERR_CONFIG ||
		    strstr(err.msg, badaliases[i].msg) == NULL)
			fail_msg("bad aliases %zu: '%s' lacks '%s'", i, err.msg,
			    badaliases[i].msg);
	}
}

static void
test_check(void **state)
{
	struct aliases *al;
	struct err err;

	(void)state;
	al = load_ok("k", "root: admin\nadmin: a@example.com\n");
	assert_int_equal(aliases_check(al, &err), 0);
	aliases_free(al);
	al = load_ok("k", "root: admin\nadmin: a@example.com\nx: |cmd\n");
	assert_int_equal(aliases_check(al, &err), -1);
	assert_int_equal(err.class, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "k:3: alias 'x' delivers to a program"));
	aliases_free(al);
	al = load_ok("k", "root: admin\n");
	assert_int_equal(aliases_check(al, &err), -1);
	assert_non_null(strstr(err.msg, "k:1: alias 'root'"));
	assert_non_null(strstr(err.msg, "'admin' is local"));
	aliases_free(al);
}

static void
test_is_local(void **state)
{
	static const struct {
		const char	*addr;
		int		 local;
	} cases[] = {
		{ "root", 1 },
		{ "root@localhost", 1 },
		{ "root@LOCALHOST", 1 },
		{ "root@localhost.localdomain", 1 },
		{ "root@[127.0.0.1]", 1 },
		{ "root@", 1 },
		{ "root@example.com", 0 },
		{ "root@localhost.example.com", 0 },
		{ "\"a@b\"@example.com", 0 },
	};
	char buf[600];
	const char *host = util_hostname(), *dot;
	size_t i;

	(void)state;
	for (i = 0; i < nitems(cases); i++)
		if (aliases_is_local(cases[i].addr) != cases[i].local)
			fail_msg("%s: is_local %d", cases[i].addr,
			    !cases[i].local);
	(void)snprintf(buf, sizeof(buf), "root@%s", host);
	assert_true(aliases_is_local(buf));
	if ((dot = strchr(host, '.')) != NULL) {
		(void)snprintf(buf, sizeof(buf), "root@%.*s",
		    (int)(dot - host), host);
		assert_true(aliases_is_local(buf));
	}
}

static void
test_load_file(void **state)
{
	char path[] = "/tmp/test_aliases.XXXXXX";
	struct aliases *al;
	struct err err;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "root: a@example.com\n", 20), 20);
	assert_int_equal(close(fd), 0);
	assert_int_equal(aliases_load(path, &al, &err), 0);
	assert_int_equal(aliases_count(al), 1);
	aliases_free(al);
	assert_int_equal(chmod(path, 0666), 0);
	assert_int_equal(aliases_load(path, &al, &err), -1);
	assert_non_null(strstr(err.msg, "chmod 600"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(aliases_load(path, &al, &err), -1);
	assert_int_equal(err.class, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "'aliases' setting"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand_table),
		cmocka_unit_test(test_accumulate),
		cmocka_unit_test(test_catchall),
		cmocka_unit_test(test_no_file),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_is_local),
		cmocka_unit_test(test_load_file),
	};

	return cmocka_run_group_tests_name("aliases", tests, NULL, NULL);
}
