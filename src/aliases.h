/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * aliases.h -- local recipients mapped through an /etc/aliases-format file
 * ("name: addr, addr", "default:" or "*:" catch-all, '#' comments,
 * continuation lines starting with white space).
 */
#ifndef ALIASES_H
#define ALIASES_H

#include "common.h"
#include "status.h"

struct aliases;

/* Loads path. ERR_CONFIG with file:line on a malformed line. */
int	aliases_load(const char *path, struct aliases **out, struct err *err);
int	aliases_load_buffer(const char *name, const char *text, size_t len,
	    struct aliases **out, struct err *err);
void	aliases_free(struct aliases *);
/*
 * Whether addr is local: no '@', or a domain that is "localhost",
 * "localhost.localdomain", this host's short or fully qualified name.
 */
int	aliases_is_local(const char *addr);
/*
 * Expands one address. A local address is looked up by its local part
 * (recursively, loop-safe, case-insensitive), falling back to the
 * catch-all; a non-local address is returned unchanged. Results are
 * xmalloc'd strings appended to *outv (grown with xreallocarray).
 * ERR_ADDR when a local address has no mapping:
 * "recipient 'root' is local and has no alias; add 'root: you@example.com'
 * (or 'default: ...') to ALIASES-FILE".
 */
int	aliases_expand(const struct aliases *, const char *addr,
	    char ***outv, size_t *outn, struct err *err);
/*
 * Details of aliases_expand: the aliases pointer may be NULL (no file
 * configured: every local address is an ERR_ADDR error naming the fix).
 * "root+tag" falls back to "root". Targets that are other local names are
 * expanded in turn (depth capped, a name already being expanded is
 * skipped); a target "\name" (keep a local copy) is skipped, since a
 * relay-only agent has no local mailboxes. Results already in *outv are not
 * added twice (case-insensitive). Program ("|cmd"), file ("/path") and
 * ":include:" targets give ERR_CONFIG "FILE:LINE: ... not supported".
 * On error *outv and *outn are as they were on entry.
 */

/*
 * newaliases: expands every name of the file and reports the first
 * problem (unsupported target, local name without alias, loop).
 */
int	aliases_check(const struct aliases *, struct err *err);
/* Number of names in the file. */
size_t	aliases_count(const struct aliases *);

#endif
