/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * dynload.h -- the libraries loaded with dlopen() at first use instead of
 * linked (doc/design.md §2): libcurl (oauth.c) and libsecret
 * (store_secret.c). The only module that includes <dlfcn.h>.
 *
 * A caller describes its library once, statically: the sonames to try,
 * the Debian package that provides it, and the symbols to resolve into
 * its table of function pointers (one field per symbol, typed with
 * __typeof__ from the library's headers, so the compiler checks every
 * call). dynload_open loads it on the first call and remembers the
 * outcome: later calls cost nothing, and a failure is reported the same
 * way every time, in one line saying what to install.
 */
#ifndef DYNLOAD_H
#define DYNLOAD_H

#include <stddef.h>

#include "common.h"
#include "status.h"

/* One symbol and where its address goes in the table. */
struct dynload_sym {
	const char	*name;
	size_t		 off;
};
/* The symbol PREFIX f into field f of struct API. */
#define DYNLOAD_SYM(api, prefix, f)	{ prefix #f, offsetof(struct api, f) }

struct dynload {
	/* Set by the caller: */
	const char		*name;		/* "libcurl" */
	const char		*package;	/* Debian's, "libcurl4" */
	const char *const	*sonames;	/* tried in order; NULL ends */
	const struct dynload_sym *syms;
	size_t			 nsyms;
	void			*table;		/* filled on success */
	size_t			 tablesize;	/* zeroed on failure */
	const char		*missing_cure;	/* after "not installed" */
	const char		*old_cure;	/* after "too old" */
	int			 keep;		/* never dlclose: GLib */
	/* Kept by dynload_open: */
	int			 state;		/* 1 loaded, -1 failed */
	char			 why[384];
};

/*
 * Loads the library once (the first soname that opens, RTLD_NOW |
 * RTLD_LOCAL) and resolves every symbol into the table; never unloads a
 * loaded library. ERR_TEMP, remembered, when no soname opens ("libcurl is
 * not installed (Debian: libcurl4): <why>") or a symbol is missing ("<soname>
 * is too old: it has no <symbol>"): mail waits until it is installed.
 */
int	dynload_open(struct dynload *, struct err *);

#endif
