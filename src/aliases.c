/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * aliases.c -- local recipients mapped through an aliases(5) file.
 *
 * Format (sendmail's /etc/aliases): "name: target, target" lines, '#'
 * comment lines, continuation lines starting with a blank, "default:" or
 * "*:" as the catch-all. A relay-only agent has no local mailboxes, so
 * every local recipient must end up as a remote address; program, file
 * and :include: targets cannot be honoured and are reported as such when
 * they are used.
 */
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "aliases.h"
#include "conf.h"
#include "status.h"
#include "util.h"
#include "xmalloc.h"

#define LIM_ALIAS_FILE	(4 * 1024 * 1024)
#define LIM_ALIAS_ENTRY	(64 * 1024)
#define LIM_ALIAS_DEPTH	16

struct alias {
	char		*name;		/* lower case */
	char		**targets;
	size_t		 ntargets;
	int		 line;
};

struct aliases {
	char		*file;
	struct alias	*v;		/* sorted by name */
	size_t		 n;
	const struct alias *catchall;
};

struct expander {
	const struct aliases	*al;
	const struct alias	*path[LIM_ALIAS_DEPTH + 1];
	size_t			 depth;
	size_t			 produced;	/* addresses found, dups too */
	char			***outv;
	size_t			*outn;
	struct err		*err;
};

static int	expand_local(struct expander *, const char *, size_t);

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int
alias_cmp(const void *a, const void *b)
{
	return strcmp(((const struct alias *)a)->name,
	    ((const struct alias *)b)->name);
}

static const struct alias *
find(const struct aliases *al, const char *name, size_t len)
{
	char key[LIM_ADDR + 1];
	struct alias k;

	if (al == NULL || al->n == 0 || len == 0 || len > LIM_ADDR)
		return NULL;
	memcpy(key, name, len);
	key[len] = '\0';
	lower(key);
	k.name = key;
	return bsearch(&k, al->v, al->n, sizeof(*al->v), alias_cmp);
}

static void
alias_free(struct alias *a)
{
	size_t i;

	for (i = 0; i < a->ntargets; i++)
		free(a->targets[i]);
	free(a->targets);
	free(a->name);
}

void
aliases_free(struct aliases *al)
{
	size_t i;

	if (al == NULL)
		return;
	for (i = 0; i < al->n; i++)
		alias_free(&al->v[i]);
	free(al->v);
	free(al->file);
	free(al);
}

size_t
aliases_count(const struct aliases *al)
{
	return al == NULL ? 0 : al->n;
}

/* Splits "a, b, "|c, d"" into trimmed targets. */
static void
split_targets(struct alias *a, const char *s)
{
	const char *b, *e;
	int q;

	while (*s != '\0') {
		while (*s == ',' || isspace((unsigned char)*s))
			s++;
		if (*s == '\0')
			break;
		b = s;
		for (q = 0; *s != '\0' && (q || *s != ','); s++)
			if (*s == '"')
				q = !q;
		e = s;
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		a->targets = xreallocarray(a->targets, a->ntargets + 1,
		    sizeof(char *));
		a->targets[a->ntargets++] = xstrndup(b, (size_t)(e - b));
	}
}

/* One logical entry "name: targets" (continuations already joined). */
static int
add_entry(struct aliases *al, char *entry, int line, struct err *err)
{
	struct alias a;
	char *colon, *name, *e;

	memset(&a, 0, sizeof(a));
	if ((colon = strchr(entry, ':')) == NULL)
		return err_set(err, ERR_CONFIG, "%s:%d: no ':' after the name; "
		    "write 'name: you@example.com'", al->file, line);
	*colon = '\0';
	name = entry;
	e = colon;
	while (e > name && isspace((unsigned char)e[-1]))
		*--e = '\0';
	if (*name == '\0' || strcspn(name, " \t,\"@") != strlen(name))
		return err_set(err, ERR_CONFIG, "%s:%d: invalid alias name "
		    "'%s'; use a local part such as 'root'", al->file, line,
		    name);
	if (strlen(name) > LIM_ADDR)
		return err_set(err, ERR_CONFIG, "%s:%d: alias name too long",
		    al->file, line);
	a.name = xstrdup(name);
	lower(a.name);
	a.line = line;
	split_targets(&a, colon + 1);
	if (a.ntargets == 0) {
		(void)err_set(err, ERR_CONFIG, "%s:%d: alias '%s' has no "
		    "target; add an address after the ':'", al->file, line,
		    a.name);
		alias_free(&a);
		return -1;
	}
	al->v = xreallocarray(al->v, al->n + 1, sizeof(*al->v));
	al->v[al->n++] = a;
	return 0;
}

static int
parse(struct aliases *al, const char *text, size_t len, struct err *err)
{
	struct buf entry;
	const char *s = text, *end = text + len, *nl, *p;
	size_t n, i;
	int line = 0, eline = 0;

	if (memchr(text, '\0', len) != NULL)
		return err_set(err, ERR_CONFIG, "%s: contains a NUL byte; is "
		    "it a text file?", al->file);
	buf_init(&entry, LIM_ALIAS_ENTRY, 0);
	for (;;) {
		p = NULL;
		n = 0;
		if (s < end) {
			line++;
			nl = memchr(s, '\n', (size_t)(end - s));
			n = (size_t)((nl != NULL ? nl : end) - s);
			p = s;
			s += n + (nl != NULL);
			while (n > 0 && isspace((unsigned char)p[n - 1]))
				n--;
		}
		/*
		 * A comment or a blank line. (Bounded: text is not a C
		 * string, so no strspn on it.)
		 */
		for (i = 0; p != NULL && i < n && (p[i] == ' ' ||
		    p[i] == '\t'); i++)
			;
		if (p != NULL && (n == 0 || (i < n && p[i] == '#')))
			continue;
		if (p != NULL && (p[0] == ' ' || p[0] == '\t')) {
			if (entry.len == 0) {
				buf_free(&entry);
				return err_set(err, ERR_CONFIG, "%s:%d: "
				    "continuation line without an alias before "
				    "it; remove the leading blanks", al->file,
				    line);
			}
			if (buf_addc(&entry, ' ') == -1 ||
			    buf_add(&entry, p, n) == -1)
				return err_set(err, ERR_CONFIG, "%s:%d: entry "
				    "too long", al->file, line);
			continue;
		}
		/* A new entry (or the end): finish the previous one. */
		if (entry.len > 0) {
			if (add_entry(al, entry.data, eline, err) == -1) {
				buf_free(&entry);
				return -1;
			}
			buf_reset(&entry);
		}
		if (p == NULL)
			break;
		eline = line;
		if (buf_add(&entry, p, n) == -1)
			return err_set(err, ERR_CONFIG, "%s:%d: entry too "
			    "long", al->file, line);
	}
	buf_free(&entry);
	if (al->n > 1)	/* qsort(NULL, 0, ...) is undefined */
		qsort(al->v, al->n, sizeof(*al->v), alias_cmp);
	for (i = 1; i < al->n; i++)
		if (strcmp(al->v[i - 1].name, al->v[i].name) == 0)
			return err_set(err, ERR_CONFIG, "%s:%d: alias '%s' is "
			    "also defined at line %d; keep one of them",
			    al->file, al->v[i].line > al->v[i - 1].line ?
			    al->v[i].line : al->v[i - 1].line, al->v[i].name,
			    al->v[i].line > al->v[i - 1].line ?
			    al->v[i - 1].line : al->v[i].line);
	if ((al->catchall = find(al, "default", 7)) == NULL)
		al->catchall = find(al, "*", 1);
	return 0;
}

int
aliases_load_buffer(const char *name, const char *text, size_t len,
    struct aliases **out, struct err *err)
{
	struct aliases *al;

	*out = NULL;
	al = xcalloc(1, sizeof(*al));
	al->file = xstrdup(name);
	if (parse(al, text, len, err) == -1) {
		aliases_free(al);
		return -1;
	}
	*out = al;
	return 0;
}

int
aliases_load(const char *path, struct aliases **out, struct err *err)
{
	char *text;
	size_t len = 0;
	ssize_t n;
	int fd, r = -1;

	*out = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		return err_set(err, ERR_CONFIG, "aliases file %s: %s; create "
		    "it or fix the 'aliases' setting", path, strerror(errno));
	if (conf_check_perms(fd, path, err) == -1) {
		(void)close(fd);
		return -1;
	}
	text = xmalloc(LIM_ALIAS_FILE + 1);
	for (;;) {
		n = read(fd, text + len, LIM_ALIAS_FILE + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			(void)err_set(err, ERR_CONFIG, "%s: read: %s", path,
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > LIM_ALIAS_FILE) {
			(void)err_set(err, ERR_CONFIG, "%s: larger than %d "
			    "bytes", path, LIM_ALIAS_FILE);
			goto out;
		}
	}
	r = aliases_load_buffer(path, text, len, out, err);
out:
	free(text);
	(void)close(fd);
	return r;
}

static int
domain_is(const char *d, size_t len, const char *name, size_t nlen)
{
	return len == nlen && strncasecmp(d, name, len) == 0;
}

int
aliases_is_local(const char *addr)
{
	const char *at = strrchr(addr, '@'), *d, *host, *dot;
	size_t len;

	if (at == NULL)
		return 1;
	d = at + 1;
	len = strlen(d);
	while (len > 0 && d[len - 1] == '.')
		len--;
	if (len == 0)
		return 1;
	if (domain_is(d, len, "localhost", 9) ||
	    domain_is(d, len, "localhost.localdomain", 21) ||
	    domain_is(d, len, "[127.0.0.1]", 11) ||
	    domain_is(d, len, "[IPv6:::1]", 10))
		return 1;
	host = util_hostname();
	if (host == NULL || *host == '\0')
		return 0;
	if (domain_is(d, len, host, strlen(host)))
		return 1;
	if ((dot = strchr(host, '.')) != NULL &&
	    domain_is(d, len, host, (size_t)(dot - host)))
		return 1;
	return 0;
}

static int
already(char **v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(v[i], s) == 0)
			return 1;
	return 0;
}

static int
emit(struct expander *x, const char *addr)
{
	x->produced++;
	if (already(*x->outv, *x->outn, addr))
		return 0;
	if (*x->outn >= LIM_RCPTS)
		return err_set(x->err, ERR_ADDR, "too many recipients after "
		    "alias expansion (at most %d)", LIM_RCPTS);
	*x->outv = xreallocarray(*x->outv, *x->outn + 1, sizeof(char *));
	(*x->outv)[(*x->outn)++] = xstrdup(addr);
	return 0;
}

static int
unsupported(struct expander *x, const struct alias *a, const char *t,
    const char *what)
{
	return err_set(x->err, ERR_CONFIG, "%s:%d: alias '%s' delivers to %s "
	    "'%s', which a relay-only agent does not support; map '%s' to an "
	    "email address", x->al->file, a->line, a->name, what, t, a->name);
}

static int
expand_target(struct expander *x, const struct alias *a, const char *t)
{
	char buf[LIM_ADDR + 1];
	size_t n = strlen(t);
	const char *at;

	if (n >= 2 && t[0] == '"' && t[n - 1] == '"') {
		if (n - 2 > LIM_ADDR)
			return unsupported(x, a, t, "a quoted target");
		memcpy(buf, t + 1, n - 2);
		buf[n - 2] = '\0';
		t = buf;
	}
	if (t[0] == '|')
		return unsupported(x, a, t, "a program");
	if (t[0] == '/')
		return unsupported(x, a, t, "a file");
	if (strncasecmp(t, ":include:", 9) == 0)
		return unsupported(x, a, t, "an include file");
	if (t[0] == '\\')
		return 0;	/* "keep a local copy": no local mailboxes */
	if (!aliases_is_local(t))
		return emit(x, t);
	at = strrchr(t, '@');
	return expand_local(x, t, at != NULL ? (size_t)(at - t) : strlen(t));
}

static int
no_alias(struct expander *x, const char *name, size_t len)
{
	if (x->al == NULL)
		return err_set(x->err, ERR_ADDR, "recipient '%.*s' is local "
		    "and no aliases file is configured; set 'aliases FILE' in "
		    "the configuration and add '%.*s: you@example.com' to it",
		    (int)len, name, (int)len, name);
	return err_set(x->err, ERR_ADDR, "recipient '%.*s' is local and has "
	    "no alias; add '%.*s: you@example.com' (or 'default: ...') to %s",
	    (int)len, name, (int)len, name, x->al->file);
}

/* Expands the local part name[0..len). */
static int
expand_local(struct expander *x, const char *name, size_t len)
{
	const struct alias *a;
	const char *plus;
	size_t i;

	a = find(x->al, name, len);
	if (a == NULL && (plus = memchr(name, '+', len)) != NULL)
		a = find(x->al, name, (size_t)(plus - name));
	if (a == NULL && x->al != NULL)
		a = x->al->catchall;
	if (a == NULL)
		return no_alias(x, name, len);
	for (i = 0; i < x->depth; i++)
		if (x->path[i] == a)
			return 0;	/* a loop: this branch adds nothing */
	if (x->depth >= LIM_ALIAS_DEPTH)
		return err_set(x->err, ERR_CONFIG, "%s:%d: aliases nested "
		    "deeper than %d levels at '%s'; flatten them",
		    x->al->file, a->line, LIM_ALIAS_DEPTH, a->name);
	x->path[x->depth++] = a;
	for (i = 0; i < a->ntargets; i++)
		if (expand_target(x, a, a->targets[i]) == -1)
			return -1;
	x->depth--;
	return 0;
}

int
aliases_expand(const struct aliases *al, const char *addr, char ***outv,
    size_t *outn, struct err *err)
{
	struct expander x;
	size_t n0 = *outn, len;
	const char *at;

	memset(&x, 0, sizeof(x));
	x.al = al;
	x.outv = outv;
	x.outn = outn;
	x.err = err;
	if (!aliases_is_local(addr))
		return emit(&x, addr);
	at = strrchr(addr, '@');
	len = at != NULL ? (size_t)(at - addr) : strlen(addr);
	if (len == 0 || len > LIM_ADDR) {
		(void)err_set(err, ERR_ADDR, "recipient '%s' has no valid "
		    "local part", addr);
		goto fail;
	}
	if (expand_local(&x, addr, len) == -1)
		goto fail;
	if (x.produced == 0) {
		/* Everything was a loop or a local copy. */
		(void)err_set(err, ERR_ADDR, "recipient '%s': its aliases in "
		    "%s lead to no email address (a loop, or only local "
		    "copies); map it to an email address", addr, al->file);
		goto fail;
	}
	return 0;
fail:
	while (*outn > n0)
		free((*outv)[--*outn]);
	return -1;
}

int
aliases_check(const struct aliases *al, struct err *err)
{
	char **v = NULL, msg[sizeof(err->msg)];
	size_t n = 0, i, j;
	int r = 0;

	for (i = 0; al != NULL && i < al->n && r == 0; i++) {
		r = aliases_expand(al, al->v[i].name, &v, &n, err);
		if (r == -1 && err->class == ERR_ADDR) {
			(void)strlcpy(msg, err->msg, sizeof(msg));
			(void)err_set(err, ERR_CONFIG, "%s:%d: alias '%s': %s",
			    al->file, al->v[i].line, al->v[i].name, msg);
		}
		for (j = 0; j < n; j++)
			free(v[j]);
		n = 0;
	}
	free(v);
	return r;
}
