/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * fuzz_smtpreply.c -- reply lines (split at LF, CR before it removed)
 * through smtpreply_parse_line and smtpreply_add_line; each complete
 * reply is rendered (oneline, text) and read as an EHLO reply (caps).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "smtpreply.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void
finish(struct smtpreply *r)
{
	struct smtpreply_caps caps;
	char one[512], text[256];

	smtpreply_oneline(r, one, sizeof(one));
	smtpreply_text(r, text, sizeof(text));
	smtpreply_caps(r, &caps);
	(void)smtpreply_has_mech(caps.auth, "XOAUTH2");
	(void)smtpreply_has_mech(caps.auth, "OAUTHBEARER");
	if (strlen(one) >= sizeof(one) || strlen(text) >= sizeof(text))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtpreply r;
	struct smtpreply_line pl;
	struct err err;
	const char *s = (const char *)data, *end = s + size, *nl;
	char esc[16];
	size_t len;

	smtpreply_init(&r);
	while (s < end) {
		nl = memchr(s, '\n', end - s);
		len = (nl != NULL ? nl : end) - s;
		if (len > 0 && s[len - 1] == '\r')
			len--;
		char *line = malloc(len ? len : 1);
		if (line == NULL)
			break;
		memcpy(line, s, len);
		if (smtpreply_parse_line(line, len, &pl, &err) == 0) {
			if (pl.code < 200 || pl.code > 599)
				abort();
			(void)smtpreply_esc(pl.text.p, pl.text.len, esc,
			    sizeof(esc));
		}
		if (smtpreply_add_line(&r, line, len, &err) == 0 && r.done) {
			finish(&r);
			smtpreply_reset(&r);
		}
		free(line);
		s = nl != NULL ? nl + 1 : end;
	}
	smtpreply_free(&r);
	return 0;
}
