/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * fuzz_drop.c -- the daemon's parsers for what local users leave in the
 * system-mode maildrop (sysq.h), all untrusted: the input is a whole drop
 * file (first line, message, envelope) and is also read as the usage
 * ledger and as the record of advertised sizes (sizecache.h), which the
 * set-gid submitter reads. The message goes through intake's verify mode with the
 * envelope's recipients, as the pickup does, into a memory file.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "envelope.h"
#include "intake.h"
#include "sizecache.h"
#include "sysq.h"
#include "xmalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static int outfd = -1;

static void
verify_message(const uint8_t *msg, size_t len, const struct envelope *env)
{
	struct intake_opts o;
	struct envelope qenv;
	struct err err;
	char **rcpts;
	size_t i;
	FILE *f;

	if (len == 0 || (f = fmemopen((void *)msg, len, "r")) == NULL)
		return;
	rcpts = xreallocarray(NULL, env->nrcpts + 1, sizeof(*rcpts));
	for (i = 0; i < env->nrcpts; i++)
		rcpts[i] = env->rcpts[i].addr;
	memset(&o, 0, sizeof(o));
	o.verify = 1;
	o.max_size = 1 << 20;
	o.rcpts = rcpts;
	o.nrcpts = env->nrcpts;
	if (ftruncate(outfd, 0) == -1 || lseek(outfd, 0, SEEK_SET) == -1)
		abort();
	envelope_init(&qenv);
	(void)intake_read(f, outfd, &o, &qenv, &err);
	envelope_free(&qenv);
	free(rcpts);
	fclose(f);
}

/* The record of advertised sizes: parsed, looked up, written back. */
static void
sizes_once(const uint8_t *data, size_t size)
{
	struct sizecache c = { NULL, 0 }, d = { NULL, 0 };
	struct buf b;
	long long sz;

	sizecache_parse((const char *)data, size, &c);
	if (c.n > 0)
		(void)sizecache_find(&c, c.v[0].account, c.v[0].host,
		    c.v[0].port, &sz);
	sizecache_format(&c, &b);
	sizecache_parse(b.data, b.len, &d);
	if (d.n > c.n)
		abort();	/* what was written reads back */
	buf_free(&b);
	sizecache_free(&d);
	sizecache_free(&c);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char hdr[SYSQ_HDR_LEN + 1], *etext;
	unsigned long long msglen;
	struct envelope env;
	struct ledger l;
	struct err err;
	size_t off, elen;
	int a, f;

	if (outfd == -1 && (outfd = memfd_create("drop", 0)) == -1)
		abort();
	memset(&l, 0, sizeof(l));
	sysq_ledger_parse((const char *)data, size, &l);
	free(l.v);
	sizes_once(data, size);

	if (size < SYSQ_HDR_LEN)
		return 0;
	memcpy(hdr, data, SYSQ_HDR_LEN);
	hdr[SYSQ_HDR_LEN] = '\0';
	if (sysq_parse_header(hdr, &a, &f, &msglen) == -1)
		return 0;
	if (msglen > size - SYSQ_HDR_LEN)
		return 0;
	off = SYSQ_HDR_LEN + (size_t)msglen;
	elen = size - off;
	etext = xmalloc(elen + 1);
	memcpy(etext, data + off, elen);
	etext[elen] = '\0';
	envelope_init(&env);
	if (envelope_load(&env, etext, elen, &err) == 0)
		verify_message(data + SYSQ_HDR_LEN, (size_t)msglen, &env);
	envelope_free(&env);
	free(etext);
	return 0;
}
