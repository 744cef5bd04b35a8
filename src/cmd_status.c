/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * cmd_status.c -- the text report of `oauthmail status`; see cmd_status.h.
 * Per account: the server, the transport, the size limit, the keyring and
 * the token's state with its times, held and rate-limited mail with the
 * fix; then the queue's counts. The other formats are report.c's.
 */
#include "common.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "advice.h"
#include "apiswitch.h"
#include "buf.h"
#include "cmd_status.h"
#include "envelope.h"
#include "jwt.h"
#include "queue.h"
#include "seal.h"
#include "store.h"
#include "submit.h"
#include "token.h"
#include "util.h"

static void
print_time(const char *label, time_t t, time_t now)
{
	char when[64];

	if (t <= 0) {
		printf("  %-16s never\n", label);
		return;
	}
	if (util_date(when, sizeof(when), t) == -1)
		(void)strlcpy(when, "?", sizeof(when));
	if (t > now)
		printf("  %-16s %s (in %lld min)\n", label, when,
		    (long long)(t - now) / 60);
	else
		printf("  %-16s %s (%lld min ago)\n", label, when,
		    (long long)(now - t) / 60);
}

/* The kernel copy of the access token (token_cache), if it is kept. */
static void
status_cache(const struct account *a, struct store *st)
{
	time_t exp;

	if (!store_cache_on(st))
		return;
	if (token_cache_expires(a, st, &exp) == 0)
		print_time("kernel copy", exp, time(NULL));
	else
		printf("  %-16s none\n", "kernel copy");
}

/*
 * The sealed token copy: kept by this process (it has the token-key
 * credential), or left by the daemon, with its age.
 */
static void
status_sealed(const struct account *a, const struct store *st)
{
	struct stat sb;
	struct err err;
	char name[512];
	int fd, r;

	err_clear(&err);
	if ((fd = store_queue_dir(a, 0, &err)) == -1)
		return;
	r = seal_file_name(name, sizeof(name), a->name) == 0 &&
	    fstatat(fd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISREG(sb.st_mode);
	(void)close(fd);
	if (store_sealed(st))
		printf("  %-16s kept (token-key credential)\n", "sealed copy");
	else if (r)
		printf("  %-16s present, but no token-key credential here "
		    "(the daemon's unit has it)\n", "sealed copy");
	if (r)
		print_time("sealed written", sb.st_mtime, time(NULL));
}

/* Whether a systemd credential supplies the client secret. */
static void
status_credential(const struct account *a)
{
	struct buf b;
	struct err err;
	int r;

	buf_init(&b, LIM_TOKEN, BUF_SECRET);
	err_clear(&err);
	r = store_credential_for(a->name, STORE_CLIENT_SECRET, &b, &err);
	if (r == 0)
		printf("  %-16s systemd credential secret.%s\n",
		    "client secret", a->name);
	else if (r == -1)
		printf("  %-16s %s\n", "client secret", err.msg);
	buf_free(&b);
}

/* App-only without a secret: where the key is, or the assertion file. */
static void
status_client_auth(const struct account *a, struct store *st)
{
	struct buf b;
	struct err err;
	int r;

	if (a->client_certificate == NULL && a->client_assertion_file == NULL)
		return;
	buf_init(&b, JWT_MAX_KEY, BUF_SECRET);
	err_clear(&err);
	if (a->client_assertion_file != NULL) {
		r = jwt_read_assertion(a->client_assertion_file, time(NULL), &b,
		    &err);
		printf("  %-16s %s%s\n", "assertion file", r == 0 ?
		    a->client_assertion_file : err.msg, r == 0 ?
		    " (a token, not expired)" : "");
	} else {
		printf("  %-16s %s\n", "certificate", a->client_certificate);
		r = store_credential_for(a->name, STORE_CLIENT_KEY, &b, &err);
		if (r == 1)
			r = store_get(st, a->name, STORE_CLIENT_KEY, &b, &err) ==
			    0 ? 2 : r;
		if (r == 0)
			printf("  %-16s systemd credential key.%s\n",
			    "private key", a->name);
		else if (r == 2)
			printf("  %-16s in the %s keyring\n", "private key",
			    store_backend_name(st));
		else if (r == 1)
			printf("  %-16s none: run 'oauthmail secret %s --key "
			    "KEY.pem'\n", "private key", a->name);
		else
			printf("  %-16s %s\n", "private key", err.msg);
	}
	buf_free(&b);
}

/* What keeps an account's mail from going out, mildest first. */
enum blocker {
	BLK_NONE = 0,
	BLK_KEYRING,	/* the keyring cannot be reached: 75 */
	BLK_ACTION	/* sign-in or an administrator needed, mail held: 77 */
};

/* The account's entries that wait for someone or for a limit. */
struct acct_queue {
	size_t	 held;
	time_t	 held_at;		/* newest held entry */
	char	 held_why[512];		/* its last error */
	size_t	 limited;
	time_t	 limit_until;
	char	 limit_why[512];
};

static void
scan_area(struct queue *q, enum queue_area area, const struct account *a,
    time_t now, struct acct_queue *aq)
{
	const struct advice *adv;
	struct envelope env;
	struct err err;
	char **ids;
	size_t i, n;

	if (queue_list(q, area, &ids, &n, &err) == -1)
		return;
	for (i = 0; i < n; i++) {
		envelope_init(&env);
		if (queue_load(q, area, ids[i], &env, &err) == -1 ||
		    env.account == NULL || strcmp(env.account, a->name) != 0) {
			envelope_free(&env);
			continue;
		}
		adv = advice_find(env.last_error);
		if (area == QAREA_HOLD) {
			aq->held++;
			if (aq->held == 1 || env.next_try > aq->held_at) {
				aq->held_at = env.next_try;
				(void)strlcpy(aq->held_why, env.last_error !=
				    NULL ? env.last_error : "",
				    sizeof(aq->held_why));
			}
		} else if (adv != NULL && adv->react == ADV_LIMIT &&
		    env.next_try > now) {
			aq->limited++;
			if (env.next_try > aq->limit_until) {
				aq->limit_until = env.next_try;
				(void)strlcpy(aq->limit_why, env.last_error,
				    sizeof(aq->limit_why));
			}
		}
		envelope_free(&env);
	}
	queue_free_ids(ids, n);
}

static void
scan_queue(const struct account *a, struct acct_queue *aq)
{
	struct queue q;
	struct err err;
	time_t now = time(NULL);

	memset(aq, 0, sizeof(*aq));
	if (queue_open(&q, a->queue_dir, &err) == -1)
		return;
	scan_area(&q, QAREA_HOLD, a, now, aq);
	scan_area(&q, QAREA_ACTIVE, a, now, aq);
	queue_close(&q);
}

static const char *
acct_user(const struct account *a)
{
	return a->user != NULL ? a->user : a->from;
}

/*
 * Held mail: the state says why (the catalogue's label when it knows the
 * reply) and the fix follows.
 */
static void
status_held(const struct account *a, const struct acct_queue *aq,
    char *why, size_t whysize)
{
	const struct advice *adv = advice_find(aq->held_why);
	char fix[512];

	if (adv != NULL && adv->react == ADV_HOLD)
		(void)strlcpy(why, adv->label, whysize);
	else
		(void)strlcpy(why, "the server refused the sign-in", whysize);
	printf("  %-16s %s\n", "state", why);
	if (adv != NULL) {
		advice_fill(adv, a->name, acct_user(a), fix, sizeof(fix));
		printf("  %-16s %s\n", "fix", fix);
	} else
		printf("  %-16s run 'oauthmail check %s', then 'oauthmail "
		    "login %s' if the token is refused\n", "fix", a->name,
		    a->name);
	printf("  %-16s %zu message%s; last error: %s\n", "held", aq->held,
	    aq->held == 1 ? "" : "s", aq->held_why);
}

static void
status_limited(const struct acct_queue *aq, time_t now)
{
	const struct advice *adv = advice_find(aq->limit_why);

	if (aq->limited == 0 || adv == NULL)
		return;
	printf("  %-16s %zu message%s: %s\n", "waiting", aq->limited,
	    aq->limited == 1 ? "" : "s", adv->label);
	print_time("until", aq->limit_until, now);
}

/* The token's state; returns what blocks the account. */
static enum blocker
status_token(const struct account *a, const struct acct_queue *aq,
    char *why, size_t whysize)
{
	struct token_record rec;
	struct store *st;
	struct buf raw;
	struct err err;
	time_t now = time(NULL);
	enum blocker b = BLK_NONE;
	int r;

	err_clear(&err);
	if (store_open_account(a, &st, &err) == -1) {
		printf("  %-16s unavailable: %s\n", "keyring", err.msg);
		(void)strlcpy(why, "the keyring cannot be reached", whysize);
		return BLK_KEYRING;
	}
	buf_init(&raw, LIM_TOKEN * 2, BUF_SECRET);
	memset(&rec, 0, sizeof(rec));
	/* First: keyring auto names the keyring the token is in. */
	r = store_get(st, a->name, STORE_TOKEN, &raw, &err);
	printf("  %-16s %s\n", "keyring", store_backend_name(st));
	status_credential(a);
	status_client_auth(a, st);
	status_sealed(a, st);
	status_cache(a, st);
	if (r == 1) {
		printf("  %-16s no token: run 'oauthmail login %s'\n", "state",
		    a->name);
		(void)strlcpy(why, "no token, sign-in needed", whysize);
		b = BLK_ACTION;
	} else if (r == -1 && err.class == ERR_AUTH) {
		/* The stored token is another identity's (store.h). */
		printf("  %-16s %s\n", "state", err.msg);
		(void)strlcpy(why, "sign-in needed", whysize);
		b = BLK_ACTION;
	} else if (r == -1) {
		printf("  %-16s %s\n", "state", err.msg);
		(void)strlcpy(why, "the keyring cannot be read", whysize);
		b = BLK_KEYRING;
	} else if (token_record_parse(&rec, raw.data, raw.len, &err) == -1) {
		printf("  %-16s unreadable token record: %s\n", "state",
		    err.msg);
		(void)strlcpy(why, "unreadable token record", whysize);
		b = BLK_ACTION;
	} else {
		if (rec.needs_login) {
			printf("  %-16s sign-in needed: run 'oauthmail login "
			    "%s'\n", "state", a->name);
			(void)strlcpy(why, "sign-in needed", whysize);
			b = BLK_ACTION;
		} else if (aq->held > 0) {
			status_held(a, aq, why, whysize);
			b = BLK_ACTION;
		} else
			printf("  %-16s %s\n", "state", "signed in");
		print_time("access expires", rec.expires_at, now);
		if (rec.refresh_token != NULL) {
			print_time("refresh issued", rec.refresh_issued, now);
			if (rec.refresh_issued > 0) {
				long long days = (now - rec.refresh_issued) /
				    86400;

				if (a->provider == PROVIDER_GOOGLE && days >= 5)
					printf("  warning: Google expires "
					    "refresh tokens of apps in testing "
					    "after 7 days\n");
				else if (days >= 80)
					printf("  warning: the refresh token "
					    "is %lld days old; Microsoft "
					    "retires it after 90 days of "
					    "inactivity\n", days);
			}
		} else
			printf("  %-16s none\n", "refresh token");
		print_time("last success", rec.last_success, now);
	}
	token_record_free(&rec);
	buf_free(&raw);
	store_close(st);
	return b;
}

/* How the account sends (transport, and auto's switch to the API). */
static void
status_transport(const struct account *a)
{
	struct queue q;
	struct err err;
	char line[600];

	if (a->transport == TRANSPORT_SMTP)
		return;
	err_clear(&err);
	if (queue_open(&q, a->queue_dir, &err) == -1) {
		printf("  %-16s %s\n", "transport",
		    conf_transport_name(a->transport));
		return;
	}
	apiswitch_describe(&q, a, time(NULL), line, sizeof(line));
	printf("  %-16s %s\n", "transport", line);
	queue_close(&q);
}

/* One account's lines; returns what blocks it, why says it in brief. */
static enum blocker
status_one(const struct config *cf, const struct account *a, char *why,
    size_t whysize)
{
	struct acct_queue aq;
	struct size_limit lim;
	enum blocker b = BLK_NONE;

	printf("account %s <%s>\n", a->name, a->from);
	printf("  %-16s %s:%d\n", "server", a->host, conf_port(a));
	status_transport(a);
	submit_size_limit_of(cf, a, &lim);
	printf("  %-16s %lld bytes (%s)\n", "size limit", lim.bytes, lim.from);
	scan_queue(a, &aq);
	if (conf_is_oauth(a))
		b = status_token(a, &aq, why, whysize);
	else
		printf("  %-16s password/none (no OAuth)\n", "auth");
	if (b != BLK_ACTION && aq.held > 0) {
		status_held(a, &aq, why, whysize);
		b = BLK_ACTION;
	}
	status_limited(&aq, time(NULL));
	return b;
}

static void
status_queue(const struct config *cf)
{
	static const struct { enum queue_area a; const char *name; } areas[] = {
		{ QAREA_ACTIVE, "queued" }, { QAREA_HOLD, "held" },
		{ QAREA_FAILED, "failed" },
	};
	const struct account *a = cf->def != NULL ? cf->def :
	    (cf->naccounts > 0 ? cf->accounts[0] : NULL);
	struct queue q;
	struct err err;
	size_t i, n;
	char **ids;

	err_clear(&err);
	if (queue_open(&q, a != NULL ? a->queue_dir : NULL, &err) == -1) {
		printf("queue: %s\n", err.msg);
		return;
	}
	printf("queue %s\n", q.dir);
	for (i = 0; i < nitems(areas); i++) {
		if (queue_list(&q, areas[i].a, &ids, &n, &err) == -1) {
			printf("  %s: %s\n", areas[i].name, err.msg);
			continue;
		}
		printf("  %-16s %zu\n", areas[i].name, n);
		queue_free_ids(ids, n);
	}
	queue_close(&q);
}

/*
 * Exit status (oauthmail(8)): 0 when every account can send, 77 when one
 * needs a sign-in or an administrator or has held mail, else 75 when a
 * keyring cannot be reached. stderr names the account concerned.
 */
int
cmd_status(const struct config *cf, const struct account *one,
    struct err *err)
{
	const struct account *worst_acct = NULL;
	enum blocker b, worst = BLK_NONE;
	char why[512], worst_why[512];
	size_t i, n;

	n = one != NULL ? 1 : cf->naccounts;
	worst_why[0] = '\0';
	for (i = 0; i < n; i++) {
		const struct account *a = one != NULL ? one : cf->accounts[i];

		why[0] = '\0';
		if ((b = status_one(cf, a, why, sizeof(why))) > worst) {
			worst = b;
			worst_acct = a;
			(void)strlcpy(worst_why, why, sizeof(worst_why));
		}
	}
	status_queue(cf);
	if (fflush(stdout) != 0)
		return err_set(err, ERR_IO, "stdout");
	if (worst == BLK_NONE || worst_acct == NULL)
		return 0;
	return err_set(err, worst == BLK_ACTION ? ERR_AUTH : ERR_TEMP,
	    "account %s cannot send: %s", worst_acct->name, worst_why);
}
