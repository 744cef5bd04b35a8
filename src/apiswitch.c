/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* apiswitch.c -- transport auto's switch to the API; see apiswitch.h. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "advice.h"
#include "api.h"
#include "apiswitch.h"
#include "conf.h"
#include "log.h"
#include "queue.h"
#include "status.h"
#include "util.h"

/* The file's name: the prefix and the account, odd bytes as '_'. */
static int
file_name(char *dst, size_t size, const char *account)
{
	size_t n = strlen(APISWITCH_PREFIX), i;

	if (n + strlen(account) + 1 > size || *account == '\0')
		return -1;
	memcpy(dst, APISWITCH_PREFIX, n);
	for (i = 0; account[i] != '\0'; i++) {
		char c = account[i];

		dst[n + i] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '.' || c == '-' ||
		    c == '_' || c == '@' || c == '+' ? c : '_';
	}
	dst[n + i] = '\0';
	return 0;
}

int
apiswitch_get(struct queue *q, const char *account, struct apiswitch *sw)
{
	char name[300], text[APISWITCH_REASON_MAX + 64], *tab, *nl;
	const char *es;
	long long since;
	ssize_t n;
	int fd;

	memset(sw, 0, sizeof(*sw));
	if (file_name(name, sizeof(name), account) == -1)
		return 0;
	fd = openat(q->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return 0;
	n = read(fd, text, sizeof(text) - 1);
	(void)close(fd);
	if (n <= 0)
		return 0;
	text[n] = '\0';
	if ((tab = strchr(text, '\t')) == NULL ||
	    (nl = strchr(tab, '\n')) == NULL)
		return 0;
	*tab = *nl = '\0';
	if (util_parse_ll(text, 0, 1LL << 40, &since, &es) == -1)
		return 0;
	sw->since = (time_t)since;
	util_sanitize(sw->reason, sizeof(sw->reason), tab + 1, strlen(tab + 1));
	return 1;
}

int
apiswitch_set(struct queue *q, const char *account, time_t now,
    const char *reason, struct err *err)
{
	char name[300], tmp[320], why[APISWITCH_REASON_MAX + 1];
	char text[APISWITCH_REASON_MAX + 64];
	int fd, n, rc = 0;

	if (file_name(name, sizeof(name), account) == -1)
		return err_set(err, ERR_IO, "account name too long");
	(void)snprintf(tmp, sizeof(tmp), "%s.tmp%ld", name, (long)getpid());
	util_sanitize(why, sizeof(why), reason, strlen(reason));
	n = snprintf(text, sizeof(text), "%lld\t%s\n", (long long)now, why);
	fd = openat(q->dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (fd == -1)
		return err_set(err, ERR_IO, "create %s/%s: %s", q->dir, tmp,
		    strerror(errno));
	if (n < 0 || util_write_all(fd, text, (size_t)n) == -1 ||
	    fsync(fd) == -1)
		rc = err_set(err, ERR_IO, "write %s/%s: %s", q->dir, tmp,
		    strerror(errno));
	(void)close(fd);
	if (rc == 0 && renameat(q->dirfd, tmp, q->dirfd, name) == -1)
		rc = err_set(err, ERR_IO, "rename %s/%s: %s", q->dir, name,
		    strerror(errno));
	if (rc == -1)
		(void)unlinkat(q->dirfd, tmp, 0);
	return rc;
}

int
apiswitch_clear(struct queue *q, const char *account, struct err *err)
{
	char name[300];

	if (file_name(name, sizeof(name), account) == -1)
		return 0;
	if (unlinkat(q->dirfd, name, 0) == -1 && errno != ENOENT)
		return err_set(err, ERR_IO, "remove %s/%s: %s", q->dir, name,
		    strerror(errno));
	return 0;
}

enum conf_transport
apiswitch_transport(struct queue *q, const struct account *acct, time_t now)
{
	struct apiswitch sw;

	if (acct->transport != TRANSPORT_AUTO)
		return acct->transport;
	if (q != NULL && apiswitch_get(q, acct->name, &sw) == 1 &&
	    now >= sw.since && now - sw.since < APISWITCH_RETRY)
		return conf_api_transport(acct);
	return TRANSPORT_SMTP;
}

int
apiswitch_smtp_auth_off(const struct err *e, enum conf_auth mech)
{
	const struct advice *a = advice_find(e->msg);

	if (strstr(e->msg, "5.7.139") != NULL && a != NULL &&
	    a->react == ADV_HOLD)
		return 1;
	return (mech == AUTH_XOAUTH2 || mech == AUTH_OAUTHBEARER) &&
	    strstr(e->msg, "does not offer AUTH") != NULL;
}

static void
fmt_left(char *dst, size_t size, long long s)
{
	if (s < 0)
		s = 0;
	if (s >= 3600)
		(void)snprintf(dst, size, "%lldh %lldm", s / 3600,
		    s % 3600 / 60);
	else
		(void)snprintf(dst, size, "%lldm", (s + 59) / 60);
}

void
apiswitch_describe(struct queue *q, const struct account *a, time_t now,
    char *dst, size_t size)
{
	struct apiswitch sw;
	char left[32], when[64];
	struct tm tm;

	if (a->transport != TRANSPORT_AUTO) {
		(void)snprintf(dst, size, "%s", conf_transport_name(
		    a->transport));
		return;
	}
	if (apiswitch_transport(q, a, now) == TRANSPORT_SMTP ||
	    apiswitch_get(q, a->name, &sw) != 1) {
		(void)snprintf(dst, size, "auto: SMTP (%s if SMTP AUTH is "
		    "refused)", api_name(conf_api_transport(a)));
		return;
	}
	fmt_left(left, sizeof(left), (long long)(sw.since + APISWITCH_RETRY -
	    now));
	if (localtime_r(&sw.since, &tm) == NULL ||
	    strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm) == 0)
		(void)snprintf(when, sizeof(when), "%lld",
		    (long long)sw.since);
	(void)snprintf(dst, size, "auto: %s since %s (SMTP AUTH refused: "
	    "%.200s); SMTP is tried again in %s",
	    api_name(conf_api_transport(a)), when, sw.reason, left);
}

void
apiswitch_mailq_line(struct queue *q, const char *account, time_t now,
    char *dst, size_t size)
{
	struct apiswitch sw;
	char left[32];

	dst[0] = '\0';
	if (apiswitch_get(q, account, &sw) != 1 || now < sw.since ||
	    now - sw.since >= APISWITCH_RETRY)
		return;
	fmt_left(left, sizeof(left), (long long)(sw.since + APISWITCH_RETRY -
	    now));
	(void)snprintf(dst, size, "transport auto: sent over the "
	    "provider's API (SMTP AUTH refused); SMTP tried again in %s",
	    left);
}
