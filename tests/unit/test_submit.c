/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * test_submit.c -- what the one submission path decides: a -bs message's
 * invocation, the intake options, the envelope fields, the sender rule,
 * the delivery mode and the exit status; the -bs dropper.
 */
#include "unit.h"

#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "submit.h"

static const char conf_text[] =
    "account work\n"
    "host smtp.example\n"
    "auth off\n"
    "tls off\n"
    "from alice@example.test\n"
    "send_as *@lists.example.test\n"
    "send_as noreply@example.test\n"
    "account queued : work\n"
    "delivery queue\n"
    "max_message_size 10K\n"
    "account loose : work\n"
    "allow_from_override on\n"
    "delivery background\n"
    "account default : work\n";

static struct config cf;

static int
setup(void **state)
{
	struct err err;

	(void)state;
	log_init(0, 0, "test_submit");
	err_clear(&err);
	if (conf_load_buffer("t.conf", conf_text, strlen(conf_text), &cf,
	    &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	conf_free(&cf);
	return 0;
}

static void
test_pick_sender(void **state)
{
	const struct account *w = conf_account(&cf, "work");
	const struct account *l = conf_account(&cf, "loose");

	(void)state;
	assert_string_equal(conf_pick_sender(w, NULL), "alice@example.test");
	assert_string_equal(conf_pick_sender(w, "ALICE@example.test"),
	    "ALICE@example.test");
	assert_string_equal(conf_pick_sender(w, "noreply@example.test"),
	    "noreply@example.test");
	assert_string_equal(conf_pick_sender(w, "x@lists.example.test"),
	    "x@lists.example.test");
	/* not an address the account may send as: its own instead */
	assert_string_equal(conf_pick_sender(w, "ceo@example.test"),
	    "alice@example.test");
	assert_string_equal(conf_pick_sender(w, "x@evil.lists.example.test"),
	    "alice@example.test");
	/* the null sender of MAIL FROM:<> / -f '' goes out as it is */
	assert_string_equal(conf_pick_sender(w, ""), "");
	assert_string_equal(conf_pick_sender(l, "ceo@example.test"),
	    "ceo@example.test");
}

static void
test_bs_invocation(void **state)
{
	struct invocation inv, m;
	char *rcpts[] = { "bob@example.test", "root" };

	(void)state;
	memset(&inv, 0, sizeof(inv));
	inv.sender = "f@example.test";
	inv.extract = 1;
	inv.smtputf8 = -1;
	inv.dsn_notify = "FAILURE";
	submit_bs_invocation(&m, &inv, "alice@example.test", rcpts, 2, 1, 1);
	assert_string_equal(m.sender, "alice@example.test");
	assert_ptr_equal(m.rcpts, rcpts);
	assert_int_equal(m.nrcpts, 2);
	assert_int_equal(m.ignore_dots, 1);
	assert_int_equal(m.extract, 0);
	assert_int_equal(m.body, BODY_8BITMIME);
	assert_int_equal(m.smtputf8, 1);
	assert_string_equal(m.dsn_notify, "FAILURE");
	/* MAIL FROM:<> keeps -f; no MAIL parameters keep the options */
	submit_bs_invocation(&m, &inv, "", rcpts, 1, 0, 0);
	assert_string_equal(m.sender, "f@example.test");
	assert_int_equal(m.body, BODY_UNSPEC);
	assert_int_equal(m.smtputf8, -1);
	inv.sender = NULL;
	submit_bs_invocation(&m, &inv, NULL, rcpts, 1, 0, 0);
	assert_null(m.sender);
	/* without -f, MAIL FROM:<> is the null sender */
	submit_bs_invocation(&m, &inv, "", rcpts, 1, 0, 0);
	assert_string_equal(m.sender, "");
}

static void
test_intake_opts(void **state)
{
	struct invocation inv;
	struct intake_opts io;
	struct size_limit lim;
	char *rcpts[] = { "bob@example.test" };

	(void)state;
	memset(&inv, 0, sizeof(inv));
	inv.ignore_dots = 1;
	inv.fullname = "Alice";
	inv.rcpts = rcpts;
	inv.nrcpts = 1;
	sizecache_limit(conf_account(&cf, "work"), NULL, &lim);
	submit_intake_opts(&io, &inv, conf_account(&cf, "work"), NULL, &lim);
	assert_int_equal(io.ignore_dots, 1);
	assert_int_equal(io.extract, 0);
	assert_string_equal(io.fullname, "Alice");
	assert_string_equal(io.from_addr, "alice@example.test");
	assert_ptr_equal(io.rcpts, rcpts);
	assert_int_equal(io.nrcpts, 1);
	assert_int_equal(io.max_size, CONF_MAX_MESSAGE_SIZE);
	assert_ptr_equal(io.size_cure, lim.why);
	sizecache_limit(conf_account(&cf, "queued"), NULL, &lim);
	submit_intake_opts(&io, &inv, conf_account(&cf, "queued"), NULL, &lim);
	assert_int_equal(io.max_size, 10 * 1024);
}

static void
test_envelope(void **state)
{
	struct invocation inv;
	struct envelope env;
	time_t t0 = time(NULL);

	(void)state;
	memset(&inv, 0, sizeof(inv));
	inv.sender = "ceo@example.test";
	inv.dsn_notify = "SUCCESS,FAILURE";
	inv.dsn_ret = "HDRS";
	inv.envid = "e1";
	envelope_init(&env);
	submit_envelope(&env, &inv, conf_account(&cf, "work"));
	assert_string_equal(env.account, "work");
	assert_string_equal(env.sender, "alice@example.test");
	assert_int_equal(env.smtputf8, 0);
	assert_int_equal(env.body8bit, 0);
	assert_string_equal(env.dsn_notify, "SUCCESS,FAILURE");
	assert_string_equal(env.dsn_ret, "HDRS");
	assert_string_equal(env.envid, "e1");
	assert_int_equal(env.state, ENV_QUEUED);
	assert_true(env.created >= t0 && env.next_try == env.created);
	envelope_free(&env);

	/* a UTF-8 sender needs SMTPUTF8; -B 8BITMIME sets the body type */
	memset(&inv, 0, sizeof(inv));
	inv.sender = "j\xc3\xbcrgen@example.test";
	inv.body = BODY_8BITMIME;
	envelope_init(&env);
	submit_envelope(&env, &inv, conf_account(&cf, "loose"));
	assert_string_equal(env.sender, "j\xc3\xbcrgen@example.test");
	assert_int_equal(env.smtputf8, 1);
	assert_int_equal(env.body8bit, 1);
	assert_null(env.dsn_notify);
	envelope_free(&env);
}

static void
test_delivery_mode(void **state)
{
	struct invocation inv;

	(void)state;
	memset(&inv, 0, sizeof(inv));
	assert_int_equal(submit_delivery_mode(&inv, conf_account(&cf,
	    "work")), DELIV_FOREGROUND);
	assert_int_equal(submit_delivery_mode(&inv, conf_account(&cf,
	    "queued")), DELIV_QUEUE);
	assert_int_equal(submit_delivery_mode(&inv, conf_account(&cf,
	    "loose")), DELIV_BACKGROUND);
	inv.delivery = DELIV_FOREGROUND;	/* -odi beats the account */
	assert_int_equal(submit_delivery_mode(&inv, conf_account(&cf,
	    "queued")), DELIV_FOREGROUND);
	inv.delivery = DELIV_QUEUE;
	assert_int_equal(submit_delivery_mode(&inv, conf_account(&cf,
	    "work")), DELIV_QUEUE);
}

static void
test_exitcode(void **state)
{
	struct err e;

	(void)state;
	err_clear(&e);
	(void)err_set(&e, ERR_PERM, "554 refused");
	assert_int_equal(submit_exitcode(DOUT_SENT, &e), EX_OK);
	assert_int_equal(submit_exitcode(DOUT_PARTIAL, &e), EX_OK);
	assert_int_equal(submit_exitcode(DOUT_DEFERRED, &e), EX_OK);
	assert_int_equal(submit_exitcode(DOUT_HELD, &e), EX_OK);
	assert_int_equal(submit_exitcode(DOUT_SKIPPED, &e), EX_OK);
	assert_int_equal(submit_exitcode(DOUT_FAILED, &e), EX_UNAVAILABLE);
	(void)err_set(&e, ERR_ADDR, "550 5.1.1 no such user");
	assert_int_equal(submit_exitcode(DOUT_FAILED, &e), EX_NOUSER);
	(void)err_set(&e, ERR_DATA, "554 5.6.0 bad message");
	assert_int_equal(err_refusal_exitcode(&e), EX_UNAVAILABLE);
}

/*
 * The -bs dropper: a helper process creates each drop file and passes its
 * descriptors back; the writer's lock travels with them. (The spool group
 * here is our own group: the helper's setresgid is then allowed.)
 */
static void
test_dropper(void **state)
{
	char root[] = "/tmp/test_submit.XXXXXX", md[64], text[256], path[128];
	struct submit_dropper dr;
	struct sysq_drop d[2];
	struct config scf;
	struct stat st;
	struct err err;
	int i, fd;

	(void)state;
	assert_non_null(mkdtemp(root));
	(void)snprintf(md, sizeof(md), "%s/maildrop", root);
	(void)snprintf(text, sizeof(text), "spool_dir %s\naccount a\nhost h\n"
	    "auth off\ntls off\nfrom a@example.test\n", root);
	err_clear(&err);
	if (conf_load_buffer("s.conf", text, strlen(text), &scf, &err) != 0)
		fail_msg("%s", err.msg);

	/* no maildrop yet: the helper's error comes back, class and text */
	assert_int_equal(submit_dropper_start(&dr, &scf, getgid(), &err), 0);
	assert_true(dr.pid > 0);
	assert_int_equal(submit_dropper_create(&dr, &d[0], &err), -1);
	assert_int_equal(err.class, ERR_CONFIG);
	assert_non_null(strstr(err.msg, "maildrop"));
	assert_int_equal(d[0].fd, -1);

	assert_int_equal(mkdir(md, 0730), 0);
	assert_int_equal(chmod(md, 01730), 0);
	for (i = 0; i < 2; i++) {
		assert_int_equal(submit_dropper_create(&dr, &d[i], &err), 0);
		assert_true(d[i].fd > 2);
		assert_int_equal(strlen(d[i].name), QUEUE_ID_LEN);
		/* the very file in the maildrop, written through our fd */
		assert_int_equal(write(d[i].fd, "x", 1), 1);
		(void)snprintf(path, sizeof(path), "%s/%s", md, d[i].name);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_size, 1);
		/* still locked for the writer, though the helper closed it */
		assert_true((fd = open(path, O_RDONLY)) != -1);
		assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
		assert_int_equal(errno, EWOULDBLOCK);
		(void)close(fd);
	}
	assert_string_not_equal(d[0].name, d[1].name);
	for (i = 0; i < 2; i++) {
		sysq_drop_abort(&d[i]);
		(void)snprintf(path, sizeof(path), "%s/%s", md, d[i].name);
		(void)unlink(path);
	}
	submit_dropper_stop(&dr);
	assert_int_equal(dr.pid, 0);
	assert_int_equal(dr.sock, -1);

	/* without a group to keep, no helper: files are made in-process */
	assert_int_equal(submit_dropper_start(&dr, &scf, (gid_t)-1, &err), 0);
	assert_int_equal(dr.pid, 0);
	assert_int_equal(submit_dropper_create(&dr, &d[0], &err), 0);
	sysq_drop_abort(&d[0]);
	(void)snprintf(path, sizeof(path), "%s/%s", md, d[0].name);
	(void)unlink(path);
	submit_dropper_stop(&dr);

	conf_free(&scf);
	assert_int_equal(rmdir(md), 0);
	assert_int_equal(rmdir(root), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pick_sender),
		cmocka_unit_test(test_bs_invocation),
		cmocka_unit_test(test_intake_opts),
		cmocka_unit_test(test_envelope),
		cmocka_unit_test(test_delivery_mode),
		cmocka_unit_test(test_exitcode),
		cmocka_unit_test(test_dropper),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
