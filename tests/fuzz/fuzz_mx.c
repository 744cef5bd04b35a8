/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * fuzz_mx.c -- a DNS answer (as res_query returns it) through
 * setup_mx_parse: every host it returns is a NUL-terminated name that
 * fits.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "setup.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char hosts[8][SETUP_HOST_MAX];
	size_t n, i;

	n = setup_mx_parse(data, size, hosts, 8);
	if (n > 8)
		abort();
	for (i = 0; i < n; i++)
		if (memchr(hosts[i], '\0', SETUP_HOST_MAX) == NULL)
			abort();
	return 0;
}
