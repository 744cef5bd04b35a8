/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * runq_list.c -- the mailq listing (sendmail -bp, mailq, oauthmail queue):
 * the entries of q/, hold/ and failed/, each with its recipients, its last
 * error and the catalogue's fix, then the total; see runq_list.h. The
 * runner (selection and delivery runs) is runq.c; queue --json is
 * report.c's.
 */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "advice.h"
#include "apiswitch.h"
#include "envelope.h"
#include "holdsched.h"
#include "log.h"
#include "queue.h"
#include "runq_list.h"
#include "status.h"
#include "util.h"

static const char *
section_title(enum queue_area a)
{
	switch (a) {
	case QAREA_ACTIVE:
		return "Queued or deferred";
	case QAREA_HOLD:
		return "Held, needs sign-in";
	case QAREA_FAILED:
		return "Failed";
	default:
		return "Corrupt";
	}
}

static void
print_entry(FILE *out, enum queue_area a, const struct envelope *env,
    time_t now, const struct holdsched *hs)
{
	const struct advice *adv = advice_find(env->last_error);
	const struct holdsched_rec *hr;
	const struct rcpt *r;
	char age[32], next[32], fix[512];
	size_t i;

	util_fmt_dur(age, sizeof(age), (long long)(now - env->created));
	fprintf(out, "%s  %lld bytes  age %s  from <%s>  account %s\n",
	    env->id, (long long)env->size, age, env->sender, env->account);
	switch (a) {
	case QAREA_ACTIVE:
		if (env->next_try <= now)
			fprintf(out, "    attempts %d, next try now\n",
			    env->attempts);
		else {
			util_fmt_dur(next, sizeof(next),
			    (long long)(env->next_try - now));
			fprintf(out, "    attempts %d, next try in %s\n",
			    env->attempts, next);
		}
		break;
	case QAREA_HOLD:
		if (adv != NULL && adv->react == ADV_HOLD)
			fprintf(out, "    attempts %d, held: %s (retried "
			    "once it is fixed)\n", env->attempts, adv->label);
		else
			fprintf(out, "    attempts %d, waiting for sign-in: "
			    "oauthmail login %s\n", env->attempts,
			    env->account);
		/* The account's next turn (holdsched.h), if it has to wait. */
		hr = holdsched_find(hs, env->account);
		if (hr != NULL && hr->next > now) {
			util_fmt_dur(next, sizeof(next),
			    (long long)(hr->next - now));
			fprintf(out, "    account held: next try in %s\n", next);
		}
		break;
	default:
		fprintf(out, "    attempts %d, gave up\n", env->attempts);
		break;
	}
	if (env->last_error != NULL)
		fprintf(out, "    last error: %s\n", env->last_error);
	/* The catalogue's fix, unless delivery already added it. */
	if (adv != NULL && !advice_in(adv, env->last_error)) {
		advice_fill(adv, env->account, NULL, fix, sizeof(fix));
		fprintf(out, "    fix: %s\n", fix);
	}
	for (i = 0; i < env->nrcpts; i++) {
		r = &env->rcpts[i];
		fprintf(out, "    %-8s <%s>%s%s\n",
		    envelope_rcpt_state_str(r->state), r->addr,
		    r->reply != NULL ? "  " : "",
		    r->reply != NULL ? r->reply : "");
	}
}

static int
list_area(struct queue *q, FILE *out, enum queue_area a, time_t now,
    const struct holdsched *hs, unsigned long long *bytes, size_t *count,
    struct err *err)
{
	struct envelope env;
	struct err lerr;
	char **ids;
	size_t n, i;

	if (queue_list(q, a, &ids, &n, err) == -1)
		return -1;
	if (n == 0) {
		queue_free_ids(ids, n);
		return 0;
	}
	if (*count > 0)
		fputc('\n', out);
	fprintf(out, "%s (%zu):\n", section_title(a), n);
	for (i = 0; i < n; i++) {
		if (queue_load(q, a, ids[i], &env, &lerr) == -1) {
			fprintf(out, "%s  (unreadable envelope: %s)\n",
			    ids[i], lerr.msg);
			envelope_free(&env);
			continue;
		}
		print_entry(out, a, &env, now, hs);
		if (a != QAREA_FAILED) {
			char line[200];

			apiswitch_mailq_line(q, env.account, now, line,
			    sizeof(line));
			if (line[0] != '\0')
				fprintf(out, "    %s\n", line);
		}
		*bytes += (unsigned long long)env.size;
		envelope_free(&env);
	}
	*count += n;
	queue_free_ids(ids, n);
	return 0;
}

int
runq_list_at(struct queue *q, FILE *out, time_t now, struct err *err)
{
	static const enum queue_area areas[] = { QAREA_ACTIVE, QAREA_HOLD,
	    QAREA_FAILED };
	unsigned long long bytes = 0;
	struct holdsched hs;
	struct err lerr;
	size_t i, count = 0;

	err_clear(&lerr);
	if (holdsched_load(q, &hs, &lerr) == -1)
		log_debug("%s", lerr.msg);	/* only the next try unknown */
	for (i = 0; i < nitems(areas); i++)
		if (list_area(q, out, areas[i], now, &hs, &bytes, &count,
		    err) == -1) {
			holdsched_free(&hs);
			return -1;
		}
	holdsched_free(&hs);
	if (count == 0)
		fprintf(out, "Mail queue is empty\n");
	else
		fprintf(out, "\n-- %llu Kbytes in %zu Request%s.\n",
		    (bytes + 1023) / 1024, count, count == 1 ? "" : "s");
	if (fflush(out) == EOF || ferror(out))
		return err_set(err, ERR_IO, "writing the queue listing: %s",
		    strerror(errno));
	return 0;
}

int
runq_list(struct queue *q, FILE *out, struct err *err)
{
	return runq_list_at(q, out, time(NULL), err);
}
