/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * fuzz_aliases.c -- aliases_load_buffer on the input; a loaded table is
 * checked and a few local names expanded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aliases.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *names[] = { "root", "postmaster", "nobody",
	    "www-data", "user@localhost" };
	struct aliases *al;
	struct err err;
	char *copy, **v;
	size_t i, n;

	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (aliases_load_buffer("fuzz-aliases", copy, size, &al, &err) == 0) {
		(void)aliases_check(al, &err);
		(void)aliases_count(al);
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
			(void)aliases_is_local(names[i]);
			v = NULL;
			n = 0;
			(void)aliases_expand(al, names[i], &v, &n, &err);
			while (n-- > 0)
				free(v[n]);
			free(v);
		}
		aliases_free(al);
	}
	free(copy);
	return 0;
}
