/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * fuzz_api.c -- what the HTTPS mail APIs read from untrusted places: the
 * message's header block (api_recipients: To/Cc/Bcc against an envelope,
 * the Bcc field built) and an API's JSON reply (json_api_reply_parse).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "buf.h"
#include "envelope.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct envelope env;
	struct json_api_reply j;
	struct buf bcc;
	struct err err;
	char *copy;

	/* Exactly size bytes on the heap: an overread is an ASan error. */
	copy = malloc(size ? size : 1);
	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	envelope_init(&env);
	(void)envelope_add_rcpt(&env, "bob@example.test", NULL);
	(void)envelope_add_rcpt(&env, "carol@example.test", NULL);
	buf_init(&bcc, 65536, 0);
	if (api_recipients(&env, copy, size, &bcc, &err) == 0 &&
	    bcc.len > 0 && strncmp(buf_str(&bcc), "Bcc: <", 6) != 0)
		abort();
	buf_free(&bcc);
	envelope_free(&env);
	(void)json_api_reply_parse(copy, size, &j);
	if (memchr(j.id, '\0', sizeof(j.id)) == NULL ||
	    memchr(j.message, '\0', sizeof(j.message)) == NULL)
		abort();
	free(copy);
	return 0;
}
