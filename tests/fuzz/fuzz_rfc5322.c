/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * fuzz_rfc5322.c -- the header scanner: the input is split at LF (a CR
 * before it removed, as intake does), every line pushed, every event
 * pulled and its spans checked against the line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rfc5322.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
drain(struct rfc5322_parser *p, const char *line, size_t len)
{
	struct rfc5322_result r;

	while (rfc5322_next(p, &r) != RFC5322_NONE) {
		(void)rfc5322_event_str(r.ev);
		if (r.name.len > 0 && (r.name.p < line ||
		    r.name.p + r.name.len > line + len))
			abort();
		if (r.value.len > 0 && (r.value.p < line ||
		    r.value.p + r.value.len > line + len))
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rfc5322_parser p;
	const char *s = (const char *)data, *end = s + size, *nl;
	size_t len, namelen;

	rfc5322_init(&p);
	while (s < end) {
		nl = memchr(s, '\n', end - s);
		len = (nl != NULL ? nl : end) - s;
		if (len > 0 && s[len - 1] == '\r')
			len--;
		/* A heap copy of exactly len bytes so ASan sees overreads. */
		char *line = malloc(len ? len : 1);
		if (line == NULL)
			return 0;
		memcpy(line, s, len);
		(void)rfc5322_is_field(line, len, &namelen);
		if (rfc5322_push(&p, line, len) == -1) {
			free(line);
			return 0;
		}
		drain(&p, line, len);
		free(line);
		s = nl != NULL ? nl + 1 : end;
	}
	if (rfc5322_push_eof(&p) == 0)
		drain(&p, NULL, 0);
	(void)rfc5322_in_body(&p);
	return 0;
}
