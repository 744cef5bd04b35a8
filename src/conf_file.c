/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * conf_file.c -- the configuration file (doc/design.md §3,
 * oauthmail.conf(5)): finding, reading, sections and lines.
 *
 * msmtp's line format and vocabulary: "defaults", "account NAME [: PARENT,
 * ...]", "key value" lines, '#' comment lines, values optionally in double
 * quotes. Each key line goes to conf_keys.c (its keyword table maps names
 * to an enum, and one switch stores each value: the shape of OpenSSH's
 * readconf.c). Every key that a line sets is remembered in the account's
 * setmask: inheritance copies exactly those keys, and the provider presets
 * (conf_provider.c, after the whole file is read) fill only keys that
 * were not set.
 *
 * No secret is ever accepted here; the file is refused when others could
 * have written it (fstat on the open descriptor, never stat on the path).
 */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "conf_impl.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR	"/etc"
#endif

#define LIM_CONF_FILE	(1024 * 1024)
#define LIM_ACCOUNTS	1000
#define NO_CONFIG_MSG	"no configuration found; create " \
	"~/.config/oauthmail/config (see oauthmail.conf(5))"

/* Ends the current section (see "account default : NAME"). */
static void
end_section(struct parser *p)
{
	struct config *cf = p->cf;
	struct account *a;

	if (p->alias_of != NULL) {
		/*
		 * A bare "account default : NAME" (no keys of its own) names
		 * the default; it does not make a second account, whose
		 * tokens would be stored under another name.
		 */
		a = cf->accounts[cf->naccounts - 1];
		conf_account_free(a);
		free(a);
		cf->naccounts--;
		cf->def = p->alias_of;
		p->alias_of = NULL;
	}
}

static int
valid_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("._@+-", *s) == NULL)
			return 0;
	return 1;
}

/* "account NAME [: PARENT[, PARENT...]]" */
static int
start_account(struct parser *p, char *v)
{
	struct config *cf = p->cf;
	struct account *a, *parent, *first = NULL;
	char *colon, *name, *list, *s, *e;
	int nparents = 0;

	end_section(p);
	/*
	 * Until this section is accepted its keys go nowhere: an account
	 * freed by end_section or refused below must not receive them.
	 */
	p->cur = &p->discard;
	p->in_account = 1;
	if ((colon = strchr(v, ':')) != NULL)
		*colon = '\0';
	name = v;
	while (*name != '\0' && isspace((unsigned char)name[strlen(name) - 1]))
		name[strlen(name) - 1] = '\0';
	if (!valid_name(name))
		return conf_perr(p, "account: invalid account name '%s'; use "
		    "letters, digits and . _ @ + -", name);
	if (conf_account(cf, name) != NULL)
		return conf_perr(p, "account '%s' is defined twice; rename one "
		    "of them", name);
	if (cf->naccounts >= LIM_ACCOUNTS)
		return conf_perr(p, "too many accounts");
	a = xcalloc(1, sizeof(*a));
	a->name = xstrdup(name);
	a->from_line = p->line;
	conf_overlay(a, &p->defaults);
	if (colon != NULL) {
		list = colon + 1;
		for (s = list; *s != '\0'; s = e) {
			while (*s == ',' || isspace((unsigned char)*s))
				s++;
			if (*s == '\0')
				break;
			e = s;
			while (*e != '\0' && *e != ',' &&
			    !isspace((unsigned char)*e))
				e++;
			if (*e != '\0')
				*e++ = '\0';
			if ((parent = conf_account(cf, s)) == NULL) {
				conf_account_free(a);
				free(a);
				return conf_perr(p, "account '%s' inherits "
				    "from '%s', which is not defined above; "
				    "define it first", name, s);
			}
			conf_overlay(a, parent);
			if (nparents++ == 0)
				first = parent;
		}
		if (nparents == 0) {
			conf_account_free(a);
			free(a);
			return conf_perr(p, "account '%s': nothing after ':'; "
			    "name the account to inherit from", name);
		}
	}
	cf->accounts = xreallocarray(cf->accounts, cf->naccounts + 1,
	    sizeof(*cf->accounts));
	cf->accounts[cf->naccounts++] = a;
	if (strcmp(name, "default") == 0) {
		cf->def = a;
		if (nparents == 1)
			p->alias_of = first;
	}
	p->cur = a;
	p->in_account = 1;
	return 0;
}

/*
 * Cuts a comment off an unquoted value: '#' after white space starts one
 * (msmtp's files have them after values); a '#' inside a word stays.
 */
static void
strip_comment(char *v)
{
	char *s, *end;

	for (s = v; *s != '\0'; s++)
		if (*s == '#' && (s == v || isspace((unsigned char)s[-1]))) {
			*s = '\0';
			break;
		}
	end = v + strlen(v);
	while (end > v && isspace((unsigned char)end[-1]))
		*--end = '\0';
}

/* Splits "key value" and unquotes the value in place. */
static int
split_line(struct parser *p, char *line, char **key, char **val)
{
	char *s = line, *v, *w;

	*key = s;
	while (*s != '\0' && !isspace((unsigned char)*s))
		s++;
	if (*s != '\0')
		*s++ = '\0';
	while (isspace((unsigned char)*s))
		s++;
	v = s;
	if (*v != '"') {
		strip_comment(v);
		*val = v;
		return 0;
	}
	/* Double-quoted: \" and \\ escapes; only blanks may follow. */
	for (s = v + 1, w = v; *s != '"'; s++) {
		if (*s == '\0')
			return conf_perr(p, "%s: missing closing '\"'; close "
			    "the quoted value", *key);
		if (*s == '\\' && (s[1] == '"' || s[1] == '\\'))
			s++;
		*w++ = *s;
	}
	*w = '\0';
	for (s++; *s != '\0' && *s != '#'; s++)
		if (!isspace((unsigned char)*s))
			return conf_perr(p, "%s: text after the closing quote; "
			    "put the whole value in quotes", *key);
	*val = v;
	return 0;
}

static int
parse_line(struct parser *p, char *line)
{
	char *key = NULL, *v = NULL, *end;
	enum key k;

	while (isspace((unsigned char)*line))
		line++;
	end = line + strlen(line);
	while (end > line && isspace((unsigned char)end[-1]))
		*--end = '\0';
	if (*line == '\0' || *line == '#')
		return 0;
	if (split_line(p, line, &key, &v) == -1)
		return -1;
	if (strcmp(key, "defaults") == 0) {
		if (*v != '\0')
			return conf_perr(p, "defaults takes no value; write "
			    "'defaults' alone on its line");
		end_section(p);
		p->cur = &p->defaults;
		p->in_account = 0;
		return 0;
	}
	if (strcmp(key, "account") == 0)
		return start_account(p, v);
	if (conf_key_lookup(key, &k) == -1)
		return conf_perr(p, "unknown key '%s'; see oauthmail.conf(5) "
		    "for the keys", key);
	p->alias_of = NULL;	/* the default account has its own keys */
	return conf_set_key(p, key, k, v);
}

/* Presets and checks of one account, after the whole file is read. */
static int
finish_account(struct parser *p, struct account *a)
{
	p->line = a->from_line;
	if (!ISSET(a, K_TLS))
		a->tls = 1;
	if (!ISSET(a, K_SYSLOG))
		a->syslog = 1;
	if (!ISSET(a, K_REFRESH_MARGIN))
		a->refresh_margin = 300;
	if (!ISSET(a, K_TOKEN_CACHE))
		a->token_cache = 1;
	if (conf_apply_provider(p, a) == -1)
		return -1;
	p->line = a->from_line;
	if (!ISSET(a, K_TLS_STARTTLS))
		a->tls_starttls = a->port == 465 ? 0 : 1;
	if (a->host == NULL)
		return conf_perr(p, "account '%s': no host; add 'host "
		    "smtp.example.com' (or 'provider microsoft', 'outlook' or "
		    "'google')", a->name);
	if (a->from == NULL)
		return conf_perr(p, "account '%s': no sender address; add "
		    "'from you@example.com'", a->name);
	conf_at_key(p, a, K_FROM);
	if (strchr(a->from, '@') == NULL)
		return conf_perr(p, "account '%s': from '%s' is not an "
		    "address; write 'from you@example.com'", a->name, a->from);
	if (a->user == NULL)
		a->user = xstrdup(a->from);
	conf_at_key(p, a, K_TLS);
	if (!a->tls && a->auth != AUTH_NONE && !conf_is_loopback_host(a->host))
		return conf_perr(p, "account '%s': 'tls off' would send "
		    "credentials (bearer tokens) across the network in clear "
		    "text; remove 'tls off' (it is allowed only with 'auth "
		    "off' or a loopback host)", a->name);
	return 0;
}

static int
parse_text(struct parser *p, const char *text, size_t len)
{
	char line[LIM_CONF_LINE];
	const char *s = text, *end = text + len, *nl;
	size_t n;

	if (memchr(text, '\0', len) != NULL) {
		p->line = 0;
		return err_set(p->err, ERR_CONFIG, "%s: contains a NUL byte; "
		    "is it a text file?", p->name);
	}
	p->line = 0;
	while (s < end) {
		p->line++;
		nl = memchr(s, '\n', (size_t)(end - s));
		n = (size_t)((nl != NULL ? nl : end) - s);
		if (n >= sizeof(line)) {
			(void)conf_perr(p, "line too long (at most %d bytes); "
			    "shorten it", LIM_CONF_LINE - 1);
			s += n + (nl != NULL);
			continue;
		}
		memcpy(line, s, n);
		line[n] = '\0';
		/* On to the next line: all the file's errors in one run. */
		(void)parse_line(p, line);
		s += n + (nl != NULL);
	}
	end_section(p);
	return p->nerrors > 0 ? -1 : 0;
}

static int
parse_all(const char *name, const char *text, size_t len, struct config *cf,
    struct err *err)
{
	struct parser p;
	size_t i;
	int r = -1;

	memset(cf, 0, sizeof(*cf));
	memset(&p, 0, sizeof(p));
	p.name = name;
	p.cf = cf;
	p.cur = &p.defaults;
	p.err = err;
	if (parse_text(&p, text, len) == -1)
		goto out;
	if (cf->naccounts == 0) {
		(void)err_set(err, ERR_CONFIG, "%s: no account defined; add "
		    "'account NAME' followed by its settings (see "
		    "oauthmail.conf(5))", name);
		goto out;
	}
	for (i = 0; i < cf->naccounts; i++)
		(void)finish_account(&p, cf->accounts[i]);
	if (p.nerrors > 0)
		goto out;
	/* System mode: the daemon's queue is under the spool root. */
	for (i = 0; cf->system_mode && i < cf->naccounts; i++)
		if (cf->accounts[i]->queue_dir == NULL)
			cf->accounts[i]->queue_dir = xasprintf("%s/queue",
			    conf_spool_dir(cf));
	r = 0;
out:
	conf_account_free(&p.defaults);
	conf_account_free(&p.discard);
	if (r == -1)
		conf_free(cf);
	return r;
}

int
conf_load_buffer(const char *name, const char *text, size_t len,
    struct config *cf, struct err *err)
{
	if (parse_all(name, text, len, cf, err) == -1)
		return -1;
	cf->path = xstrdup(name);
	return 0;
}

int
conf_check_perms(int fd, const char *path, struct err *err)
{
	struct stat st;
	uid_t uid = getuid();

	if (fstat(fd, &st) == -1)
		return err_set(err, ERR_CONFIG, "%s: %s", path,
		    strerror(errno));
	if (!S_ISREG(st.st_mode))
		return err_set(err, ERR_CONFIG, "%s: not a regular file; "
		    "point to a file", path);
	if (st.st_uid != uid && st.st_uid != 0)
		return err_set(err, ERR_CONFIG, "%s: owned by uid %lu, not by "
		    "you (uid %lu) or root; run 'chown %lu %s' and 'chmod 600 "
		    "%s'", path, (unsigned long)st.st_uid, (unsigned long)uid,
		    (unsigned long)uid, path, path);
	if ((st.st_mode & S_IWOTH) ||
	    ((st.st_mode & S_IWGRP) && st.st_gid != 0))
		return err_set(err, ERR_CONFIG, "%s: writable by others (mode "
		    "%03o); run 'chmod 600 %s'", path,
		    (unsigned)(st.st_mode & 0777), path);
	return 0;
}

int
conf_load_fd(int fd, const char *name, struct config *cf, struct err *err)
{
	struct stat st;
	char *text;
	size_t len = 0;
	ssize_t n;
	int r = -1;

	memset(cf, 0, sizeof(*cf));
	if (fstat(fd, &st) == -1 || st.st_size > LIM_CONF_FILE)
		return err_set(err, ERR_CONFIG, "%s: larger than %d bytes; is "
		    "it the right file?", name, LIM_CONF_FILE);
	text = xmalloc(LIM_CONF_FILE + 1);
	for (;;) {
		n = read(fd, text + len, LIM_CONF_FILE + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void)err_set(err, ERR_CONFIG, "%s: read: %s", name,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > LIM_CONF_FILE) {
			(void)err_set(err, ERR_CONFIG, "%s: larger than %d "
			    "bytes; is it the right file?", name,
			    LIM_CONF_FILE);
			goto out;
		}
	}
	r = conf_load_buffer(name, text, len, cf, err);
out:
	free(text);
	return r;
}

/* Opens path: 0, or -1 with errno ENOENT left for the caller, or error. */
static int
load_file(const char *path, struct config *cf, struct err *err,
    int *missing)
{
	int fd, r = -1;

	*missing = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		if (errno == ENOENT)
			*missing = 1;
		return err_set(err, ERR_CONFIG, "%s: %s; fix the path or its "
		    "permissions", path, strerror(errno));
	}
	if (conf_check_perms(fd, path, err) == 0)
		r = conf_load_fd(fd, path, cf, err);
	(void)close(fd);
	return r;
}

int
conf_load(const char *path, struct config *cf, struct err *err)
{
	char xdg[1024];
	const char *env;
	int missing;

	memset(cf, 0, sizeof(*cf));
	if (path != NULL)
		return load_file(path, cf, err, &missing);
	if ((env = getenv("OAUTHMAIL_CONFIG")) != NULL && *env != '\0')
		return load_file(env, cf, err, &missing);
	if (util_xdg_dir(xdg, sizeof(xdg), "XDG_CONFIG_HOME", ".config") == 0 &&
	    strlcat(xdg, "/oauthmail/config", sizeof(xdg)) < sizeof(xdg)) {
		if (load_file(xdg, cf, err, &missing) == 0)
			return 0;
		if (!missing)
			return -1;
	}
	if (load_file(SYSCONFDIR "/oauthmail.conf", cf, err, &missing) == 0)
		return 0;
	if (!missing)
		return -1;
	return err_set(err, ERR_CONFIG, NO_CONFIG_MSG);
}

void
conf_free(struct config *cf)
{
	size_t i;

	if (cf == NULL)
		return;
	for (i = 0; i < cf->naccounts; i++) {
		conf_account_free(cf->accounts[i]);
		free(cf->accounts[i]);
	}
	free(cf->accounts);
	free(cf->path);
	free(cf->spool_dir);
	memset(cf, 0, sizeof(*cf));
}

