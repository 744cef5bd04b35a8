/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * verify.c -- sendmail -bv; see verify.h.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aliases.h"
#include "conf.h"
#include "status.h"
#include "util.h"
#include "verify.h"

static void
print_one(FILE *out, const char *addr, const struct account *a,
    char **to, size_t nto)
{
	char safe[512];
	size_t i;

	util_sanitize(safe, sizeof(safe), addr, strlen(addr));
	fprintf(out, "%s... deliverable: relay %s:%d (account %s) to ", safe,
	    a->host, conf_port(a), a->name);
	for (i = 0; i < nto; i++) {
		util_sanitize(safe, sizeof(safe), to[i], strlen(to[i]));
		fprintf(out, "%s%s", i > 0 ? ", " : "", safe);
	}
	fputc('\n', out);
}

int
verify_run(const struct invocation *inv, const struct config *cf, FILE *out)
{
	struct aliases *al = NULL;
	const struct account *a;
	struct err err;
	char safe[512], **to;
	size_t i, j, nto;
	int rc = 0, r;

	err_clear(&err);
	a = conf_select(cf, inv->account, inv->sender, &err);
	if (a == NULL) {
		fprintf(out, "%s\n", err.msg);
		return err_exitcode(&err);
	}
	if (a->aliases != NULL && aliases_load(a->aliases, &al, &err) == -1) {
		fprintf(out, "%s\n", err.msg);
		return err_exitcode(&err);
	}
	for (i = 0; i < inv->nrcpts; i++) {
		to = NULL;
		nto = 0;
		err_clear(&err);
		if (aliases_expand(al, inv->rcpts[i], &to, &nto, &err) == 0) {
			print_one(out, inv->rcpts[i], a, to, nto);
		} else {
			util_sanitize(safe, sizeof(safe), inv->rcpts[i],
			    strlen(inv->rcpts[i]));
			fprintf(out, "%s... not deliverable: %s\n", safe,
			    err.msg);
			if (rc == 0 && (r = err_exitcode(&err)) != 0)
				rc = r;
		}
		for (j = 0; j < nto; j++)
			free(to[j]);
		free(to);
	}
	aliases_free(al);
	return rc;
}
