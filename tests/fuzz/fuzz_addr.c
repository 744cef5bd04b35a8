/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * fuzz_addr.c -- addr_parse_list on the whole input (an address-list
 * header value) and addr_parse_one on it as a C string; every parsed
 * mailbox is formatted back with addr_format.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr_list l;
	struct addr a;
	struct err err;
	char *copy, *f;
	size_t i;

	/* Exactly size bytes on the heap: an overread is an ASan error. */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	memset(&l, 0, sizeof(l));
	if (addr_parse_list(copy, size, &l, &err) == 0) {
		for (i = 0; i < l.n; i++) {
			if (l.v[i].off + l.v[i].len > size)
				abort();
			if ((f = addr_format(l.v[i].name, l.v[i].spec)) != NULL)
				free(f);
		}
	}
	addr_list_free(&l);
	free(copy);

	copy = malloc(size + 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	if (addr_parse_one(copy, &a, &err) == 0) {
		if ((f = addr_format(a.name, a.spec)) != NULL)
			free(f);
		addr_clear(&a);
	}
	free(copy);
	return 0;
}
