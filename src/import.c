/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/* import.c -- oauthmail import-msmtprc; see import.h. */
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "import.h"
#include "msmtprc.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

static int	fail(int, const char *, ...) OM_PRINTF(2, 3);

/* One line on stderr; returns the exit status. */
static int
fail(int code, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", OM_PROGNAME);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return code;
}

/* The msmtprc msmtp itself would read: ~/.msmtprc, then the XDG file. */
static int
find_msmtprc(char *path, size_t size)
{
	char xdg[PATH_MAX] = "~/.config";
	const char *home = util_home();
	int r;

	if (home != NULL) {
		r = snprintf(path, size, "%s/.msmtprc", home);
		if (r > 0 && (size_t)r < size && access(path, F_OK) == 0)
			return 0;
	}
	if (util_xdg_dir(xdg, sizeof(xdg), "XDG_CONFIG_HOME", ".config") ==
	    0) {
		r = snprintf(path, size, "%s/msmtp/config", xdg);
		if (r > 0 && (size_t)r < size && access(path, F_OK) == 0)
			return 0;
	}
	return fail(EX_NOINPUT, "no msmtprc found (~/.msmtprc, "
	    "%s/msmtp/config); give its path: oauthmail import-msmtprc FILE",
	    xdg);
}

/* Reads the whole file, opened read-only: the original is never touched. */
static int
read_file(const char *path, char **text, size_t *len)
{
	struct stat st;
	struct buf b;
	char chunk[8192];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NOCTTY | O_CLOEXEC)) == -1)
		return fail(EX_NOINPUT, "%s: %s; give the msmtprc's path", path,
		    strerror(errno));
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		(void)close(fd);
		return fail(EX_NOINPUT, "%s: not a regular file", path);
	}
	buf_init(&b, MSMTPRC_MAX_FILE + 1, 0);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 || buf_add(&b, chunk, (size_t)n) == -1) {
			(void)close(fd);
			buf_free(&b);
			return fail(errno == E2BIG ? EX_DATAERR : EX_IOERR,
			    "%s: %s", path, errno == E2BIG ? "larger than 1 "
			    "MiB; is it an msmtprc?" : strerror(errno));
		}
	}
	(void)close(fd);
	*text = buf_detach(&b, len);
	if (*text == NULL)
		*text = xstrdup("");
	return 0;
}

/* A new file, mode 0600, that must not exist yet. */
static int
write_new(const char *path, const struct buf *b)
{
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1 && errno == EEXIST)
		return fail(EX_CANTCREAT, "%s exists; choose another name, or "
		    "add --force to replace it", path);
	if (fd == -1)
		return fail(EX_CANTCREAT, "%s: %s", path, strerror(errno));
	if (util_write_all(fd, b->data, b->len) == -1 || fsync(fd) == -1 ||
	    close(fd) == -1) {
		(void)unlink(path);
		return fail(EX_IOERR, "%s: %s", path, strerror(errno));
	}
	return 0;
}

/* --force: a new file beside it, renamed over it (never half written). */
static int
write_replace(const char *path, const struct buf *b)
{
	char tmp[PATH_MAX];
	int r, rc;

	r = snprintf(tmp, sizeof(tmp), "%s.new-%ld", path, (long)getpid());
	if (r < 0 || (size_t)r >= sizeof(tmp))
		return fail(EX_CANTCREAT, "%s: name too long", path);
	(void)unlink(tmp);
	if ((rc = write_new(tmp, b)) != 0)
		return rc;
	if (rename(tmp, path) == -1) {
		(void)unlink(tmp);
		return fail(EX_CANTCREAT, "%s: %s", path, strerror(errno));
	}
	return 0;
}

static int
emit(const struct invocation *inv, const char *path,
    const struct msmtprc_out *o)
{
	FILE *steps = inv->import_out != NULL ? stdout : stderr;
	int rc;

	if (o->naccounts == 0) {
		/* A configuration without an account would not load. */
		fputs(o->notes.data != NULL ? o->notes.data : "", stderr);
		return fail(EX_DATAERR, "%s: no account to import%s", path,
		    o->ndisabled > 0 ? "; fix what the lines above say" : "");
	}
	if (inv->import_out == NULL) {
		if (fwrite(o->conf.data, 1, o->conf.len, stdout) != o->conf.len
		    || fflush(stdout) != 0)
			return fail(EX_IOERR, "standard output: %s",
			    strerror(errno));
	} else if ((rc = inv->force ? write_replace(inv->import_out,
	    &o->conf) : write_new(inv->import_out, &o->conf)) != 0)
		return rc;
	fprintf(steps, "%s: %d account%s imported", OM_PROGNAME, o->naccounts,
	    o->naccounts == 1 ? "" : "s");
	if (o->ndisabled > 0)
		fprintf(steps, ", %d written commented out (the comment "
		    "says why)", o->ndisabled);
	fprintf(steps, "%s%s\n", inv->import_out != NULL ? " to " : "",
	    inv->import_out != NULL ? inv->import_out : "");
	if (o->steps.len > 0)
		fprintf(steps, "next steps:\n%s", buf_str(&o->steps));
	return EX_OK;
}

int
import_msmtprc_run(const struct invocation *inv)
{
	char path[PATH_MAX], *text = NULL;
	struct msmtprc_out o;
	struct err err;
	size_t len = 0;
	int rc;

	if (inv->import_file != NULL) {
		if (strlen(inv->import_file) >= sizeof(path))
			return fail(EX_NOINPUT, "%s: name too long",
			    inv->import_file);
		(void)strlcpy(path, inv->import_file, sizeof(path));
	} else if ((rc = find_msmtprc(path, sizeof(path))) != 0)
		return rc;
	if ((rc = read_file(path, &text, &len)) != 0)
		return rc;
	err_clear(&err);
	if (msmtprc_convert(path, text, len, &o, &err) == -1) {
		free(text);
		return fail(EX_DATAERR, "%s; fix the line, or give the "
		    "msmtprc that msmtp reads", err.msg);
	}
	free(text);
	rc = emit(inv, path, &o);
	msmtprc_out_free(&o);
	return rc;
}
