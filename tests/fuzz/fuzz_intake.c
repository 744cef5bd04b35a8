/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * fuzz_intake.c -- intake_read over fmemopen. The first input byte picks
 * the options (-i, -t, -F, aliases, a command-line recipient); the rest is
 * the message. The spool form goes to a memory file that is emptied after
 * each run.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aliases.h"
#include "envelope.h"
#include "intake.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const char ALIASES[] =
    "root: admin@example.com\n"
    "postmaster: root\n"
    "team: a@example.com, b@example.org,\n"
    "  root\n"
    "default: fallback@example.com\n";

static struct aliases *al;
static int outfd = -1;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct intake_opts o;
	struct envelope env;
	struct err err;
	char *rcpts[2] = { "root", "Someone <someone@example.net>" };
	unsigned flags;
	FILE *f;

	if (al == NULL && aliases_load_buffer("fuzz-aliases", ALIASES,
	    sizeof(ALIASES) - 1, &al, &err) == -1)
		abort();
	if (outfd == -1 && (outfd = memfd_create("intake", 0)) == -1)
		abort();
	if (size < 1)
		return 0;
	flags = data[0];
	data++;
	size--;

	memset(&o, 0, sizeof(o));
	o.ignore_dots = (flags & 0x01) != 0;
	o.extract = (flags & 0x02) != 0;
	o.fullname = (flags & 0x04) ? "Cron \"Daemon\" (x)" : NULL;
	o.aliases = (flags & 0x08) ? al : NULL;
	o.from_addr = "acct@example.com";
	o.domain = (flags & 0x10) ? "example.com" : NULL;
	o.rcpts = rcpts;
	o.nrcpts = (flags & 0x20) ? 2 : (flags & 0x40) ? 1 : 0;

	/* fmemopen of size 0 fails with EINVAL on glibc; use one byte. */
	f = fmemopen(size ? (void *)data : (void *)"\n", size ? size : 1,
	    "r");
	if (f == NULL)
		return 0;
	if (ftruncate(outfd, 0) == -1 || lseek(outfd, 0, SEEK_SET) == -1)
		abort();
	envelope_init(&env);
	(void)intake_read(f, outfd, &o, &env, &err);
	envelope_free(&env);
	fclose(f);
	return 0;
}
