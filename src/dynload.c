/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * dynload.c -- libraries loaded with dlopen() at first use; see dynload.h.
 */
#include "common.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

#include "dynload.h"
#include "util.h"

/* The first soname that opens, or NULL with d->why saying why none did. */
static void *
open_any(struct dynload *d, const char **sonamep)
{
	const char *e = NULL;
	char shown[256];
	size_t i;
	void *h;

	for (i = 0; d->sonames[i] != NULL; i++) {
		(void)dlerror();
		h = dlopen(d->sonames[i], RTLD_NOW | RTLD_LOCAL);
		if (h != NULL) {
			*sonamep = d->sonames[i];
			return h;
		}
		if (e == NULL)
			e = dlerror();	/* the first soname's is the clearest */
	}
	if (e == NULL)
		e = "?";
	util_sanitize(shown, sizeof(shown), e, strlen(e));
	(void)snprintf(d->why, sizeof(d->why), "%s is not installed (Debian: "
	    "%s): %s%s", d->name, d->package, shown, d->missing_cure != NULL ?
	    d->missing_cure : "");
	return NULL;
}

/* Every symbol into the table: 0, or -1 with d->why naming a missing one. */
static int
resolve(struct dynload *d, void *h, const char *soname)
{
	void *p;
	size_t i;

	for (i = 0; i < d->nsyms; i++) {
		if ((p = dlsym(h, d->syms[i].name)) == NULL) {
			(void)snprintf(d->why, sizeof(d->why), "%s is too old: "
			    "it has no %s%s", soname, d->syms[i].name,
			    d->old_cure != NULL ? d->old_cure : "");
			memset(d->table, 0, d->tablesize);
			return -1;
		}
		/* POSIX: a void * can hold a function. */
		memcpy((char *)d->table + d->syms[i].off, &p, sizeof(p));
	}
	return 0;
}

int
dynload_open(struct dynload *d, struct err *err)
{
	const char *soname = NULL;
	void *h;

	if (d->state == 0) {
		d->state = -1;
		if ((h = open_any(d, &soname)) != NULL) {
			if (resolve(d, h, soname) == 0)
				d->state = 1;
			else if (!d->keep)
				(void)dlclose(h);
		}
	}
	if (d->state == -1)
		return err_set(err, ERR_TEMP, "%s", d->why);
	return 0;
}
