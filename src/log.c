/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* log.c -- logging sinks; see log.h. */
#include "common.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

static int	 log_verbose;
static int	 log_syslog;
static FILE	*log_fp;
static char	*log_path;	/* log_fp's name, to follow a rotation */
static dev_t	 log_dev;	/* what log_fp is */
static ino_t	 log_ino;
static char	 log_qid[64];

void
log_init(int verbose, int to_syslog, const char *ident)
{
	log_verbose = verbose;
	if (to_syslog && !log_syslog)
		openlog(ident != NULL ? ident : OM_PROGNAME, LOG_PID, LOG_MAIL);
	log_syslog = to_syslog;
}

/* Opens path for appending; NULL on failure (errno set). */
static FILE *
open_log(const char *path, dev_t *dev, ino_t *ino)
{
	struct stat st;
	FILE *fp;
	int fd;

	/* Created 0600 whatever the umask: the log names people and hosts. */
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1)
		return NULL;
	if (fstat(fd, &st) == -1 || (fp = fdopen(fd, "a")) == NULL) {
		(void)close(fd);
		return NULL;
	}
	setvbuf(fp, NULL, _IOLBF, 0);
	*dev = st.st_dev;
	*ino = st.st_ino;
	return fp;
}

int
log_set_file(const char *path)
{
	if (log_fp != NULL) {
		(void)fclose(log_fp);
		log_fp = NULL;
	}
	free(log_path);
	log_path = NULL;
	if (path == NULL || *path == '\0')
		return 0;
	if ((log_fp = open_log(path, &log_dev, &log_ino)) == NULL)
		return -1;
	if ((log_path = strdup(path)) == NULL) {
		(void)fclose(log_fp);
		log_fp = NULL;
		return -1;
	}
	return 0;
}

/*
 * After logrotate renamed (or removed) the file, the next line goes to a
 * new file at the configured path: the daemon needs no signal, and no
 * line is lost between a copy and a truncation. If the new file cannot
 * be opened, lines keep going to the old one.
 */
static void
follow_rotation(void)
{
	struct stat st;
	FILE *fp;
	dev_t dev;
	ino_t ino;

	if (log_path == NULL || (stat(log_path, &st) == 0 &&
	    st.st_dev == log_dev && st.st_ino == log_ino))
		return;
	if ((fp = open_log(log_path, &dev, &ino)) == NULL)
		return;
	(void)fclose(log_fp);
	log_fp = fp;
	log_dev = dev;
	log_ino = ino;
}

int
log_verbosity(void)
{
	return log_verbose;
}

static char	 slow_host[256];
static int	 slow_said;

void
log_slow_host(const char *host)
{
	if (host == NULL)
		slow_host[0] = '\0';
	else
		util_sanitize(slow_host, sizeof(slow_host), host,
		    strlen(host));
	slow_said = 0;
}

int
log_slow_ms(void)
{
	if (slow_host[0] == '\0' || slow_said ||
	    (log_verbose < 1 && !isatty(STDERR_FILENO)))
		return -1;
	return LOG_SLOW_MS;
}

void
log_slow_note(void)
{
	int saved = errno;

	if (log_slow_ms() < 0)
		return;
	slow_said = 1;
	if (isatty(STDERR_FILENO)) {
		fprintf(stderr, "\r\033[K%s: waiting for %s...\n", OM_PROGNAME,
		    slow_host);
		(void)fflush(stderr);
	} else
		log_info("waiting for %s...", slow_host);
	errno = saved;
}

void
log_setid(const char *qid)
{
	if (qid == NULL)
		log_qid[0] = '\0';
	else
		(void)strlcpy(log_qid, qid, sizeof(log_qid));
}

static void
to_file(const char *line)
{
	char ts[64];
	time_t now;
	struct tm tm;

	if (log_fp == NULL)
		return;
	follow_rotation();
	now = time(NULL);
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(ts, sizeof(ts), "%b %d %H:%M:%S", &tm) == 0)
		ts[0] = '\0';
	fprintf(log_fp, "%s %s[%ld]: %s%s%s\n", ts, OM_PROGNAME,
	    (long)getpid(), log_qid, log_qid[0] ? ": " : "", line);
}

/*
 * 1 if stderr is the journal ($JOURNAL_STREAM names its device and inode,
 * systemd.exec(5)): syslog reaches the journal already, and a warning
 * written to both would show twice. Decided once.
 */
static int
stderr_is_journal(void)
{
	static int known = -1;
	unsigned long long dev, ino;
	const char *js;
	struct stat st;
	char *end;

	if (known != -1)
		return known;
	known = 0;
	if ((js = getenv("JOURNAL_STREAM")) == NULL ||
	    fstat(STDERR_FILENO, &st) == -1)
		return 0;
	errno = 0;
	dev = strtoull(js, &end, 10);
	if (errno != 0 || end == js || *end != ':')
		return 0;
	js = end + 1;
	ino = strtoull(js, &end, 10);
	if (errno != 0 || end == js || *end != '\0')
		return 0;
	known = dev == (unsigned long long)st.st_dev &&
	    ino == (unsigned long long)st.st_ino;
	return known;
}

static void
vlog(int pri, int on_stderr, const char *suffix, const char *fmt, va_list ap)
{
	char raw[2048], line[2048];
	int saved = errno;

	(void)vsnprintf(raw, sizeof(raw), fmt, ap);
	util_sanitize(line, sizeof(line), raw, strlen(raw));
	if (on_stderr && log_syslog && pri != LOG_DEBUG && stderr_is_journal())
		on_stderr = 0;
	if (on_stderr)
		fprintf(stderr, "%s: %s%s%s%s\n", OM_PROGNAME, log_qid,
		    log_qid[0] ? ": " : "", line, suffix != NULL ? suffix : "");
	if (log_syslog && pri != LOG_DEBUG)
		syslog(pri, "%s%s%s%s", log_qid, log_qid[0] ? ": " : "", line,
		    suffix != NULL ? suffix : "");
	if (pri != LOG_DEBUG)
		to_file(line);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	char suffix[256];
	va_list ap;
	int saved = errno;

	(void)snprintf(suffix, sizeof(suffix), ": %s", strerror(saved));
	va_start(ap, fmt);
	vlog(LOG_WARNING, 1, suffix, fmt, ap);
	va_end(ap);
	errno = saved;
}

void
log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_WARNING, 1, NULL, fmt, ap);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, log_verbose >= 1, NULL, fmt, ap);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_verbose < 2)
		return;
	va_start(ap, fmt);
	vlog(LOG_DEBUG, 1, NULL, fmt, ap);
	va_end(ap);
}

void
log_summary(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(LOG_INFO, log_verbose >= 1, NULL, fmt, ap);
	va_end(ap);
}

void
log_transcript(const char *dir, const char *line, size_t len)
{
	char clean[1100];
	int saved = errno;

	if (log_verbose < 1)
		return;
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	util_sanitize(clean, sizeof(clean), line, len);
	fprintf(stderr, "%s %s\n", dir, clean);
	errno = saved;
}

static OM_DEAD void
vfatal(int code, int with_errno, const char *fmt, va_list ap)
{
	char suffix[256];
	int saved = errno;

	suffix[0] = '\0';
	if (with_errno)
		(void)snprintf(suffix, sizeof(suffix), ": %s", strerror(saved));
	vlog(LOG_CRIT, 1, suffix, fmt, ap);
	exit(code);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfatal(EX_SOFTWARE, 1, fmt, ap);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfatal(EX_SOFTWARE, 0, fmt, ap);
}

void
fatalx_code(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfatal(code, 0, fmt, ap);
}
