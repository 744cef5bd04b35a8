/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * log.h -- stderr, syslog (LOG_MAIL) and an optional log file.
 *
 * Nothing here ever receives a secret: callers redact first (the SMTP
 * module marks credential lines, oauth.c filters libcurl's debug data).
 * All functions preserve errno.
 *
 * Verbosity: 0 = quiet on success; 1 (-v) = SMTP transcript and progress on
 * stderr; 2 (-v -v) = debug detail too.
 */
#ifndef LOG_H
#define LOG_H

#include "common.h"

/* to_syslog: also send info/warnings to syslog. ident: syslog ident. */
void	log_init(int verbose, int to_syslog, const char *ident);
/*
 * Appends every summary and warning line to this file (NULL: none). When
 * the file is renamed or removed (logrotate), the next line creates and
 * goes to a new file of that name.
 */
int	log_set_file(const char *path);
int	log_verbosity(void);
/* Tags later lines with a queue id (NULL to clear). */
void	log_setid(const char *qid);

void	log_warn(const char *, ...) OM_PRINTF(1, 2);	/* + strerror */
void	log_warnx(const char *, ...) OM_PRINTF(1, 2);
void	log_info(const char *, ...) OM_PRINTF(1, 2);	/* stderr if -v */
void	log_debug(const char *, ...) OM_PRINTF(1, 2);	/* stderr if -v -v */
/* The one line per message: syslog LOG_MAIL|LOG_INFO and the log file. */
void	log_summary(const char *, ...) OM_PRINTF(1, 2);
/*
 * One SMTP transcript line on stderr when verbose: dir is "<-" or "->".
 * The text is sanitised (control characters escaped) and capped.
 */
void	log_transcript(const char *dir, const char *line, size_t len);

/*
 * A slow peer. log_slow_host names the peer the next waits are for (NULL:
 * none) and rearms the note; a wait that has lasted log_slow_ms()
 * milliseconds calls log_slow_note, which says "waiting for HOST..."
 * once: on stderr when it is a terminal (erasing a status line there),
 * else as an info line at -v. log_slow_ms is -1 when no note is due (no
 * peer, already said, or neither a terminal nor -v).
 */
#define LOG_SLOW_MS	2000
void	log_slow_host(const char *host);
int	log_slow_ms(void);
void	log_slow_note(void);

OM_DEAD void fatal(const char *, ...) OM_PRINTF(1, 2);
OM_DEAD void fatalx(const char *, ...) OM_PRINTF(1, 2);
OM_DEAD void fatalx_code(int code, const char *, ...) OM_PRINTF(2, 3);

#endif
