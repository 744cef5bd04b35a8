/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * fuzz_envelope.c -- envelope_load on a queue file; a loaded envelope is
 * dumped and the dump must load again.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "envelope.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope env, env2;
	struct buf b;
	struct err err;
	char *copy;

	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	if (envelope_load(&env, copy, size, &err) == 0) {
		(void)envelope_rcpts_open(&env);
		(void)envelope_state_str(env.state);
		buf_init(&b, 1024 * 1024, 0);
		if (envelope_dump(&env, &b, &err) == 0) {
			if (envelope_load(&env2, b.data, b.len, &err) == -1)
				abort();
			envelope_free(&env2);
		}
		buf_free(&b);
	}
	envelope_free(&env);
	free(copy);
	return 0;
}
