/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * addr.h -- RFC 5322 address lists (§3.4) and single envelope addresses.
 *
 * The list parser understands mailboxes ("addr-spec", "name <addr-spec>"),
 * groups ("team: a@x, b@y;", "undisclosed-recipients:;"), comments
 * (nested, at most ADDR_MAX_NESTING deep), quoted strings with quoted
 * pairs, domain literals, the null address "<>", the obsolete route
 * "<@a,@b:user@host>" (reduced to user@host), obsolete phrases with dots
 * ("Joe Q. Public") and empty list elements (", ,"). Encoded words
 * (RFC 2047) are left as they are. Non-ASCII UTF-8 is accepted in atoms
 * and quoted strings (RFC 6532).
 *
 * Limits: the input is at most LIM_HDR_VALUE bytes, one address at most
 * LIM_ADDR bytes, a list at most LIM_RCPTS mailboxes. Comment nesting is
 * capped; nothing recurses on input.
 *
 * Errors: ERR_ADDR naming the offending address (sanitised).
 */
#ifndef ADDR_H
#define ADDR_H

#include "common.h"
#include "status.h"

#define ADDR_MAX_NESTING	100	/* nested comments */
#define ADDR_LOCAL_MAX		64	/* RFC 5321 §4.5.3.1.1 */
#define ADDR_DOMAIN_MAX		255	/* RFC 5321 §4.5.3.1.2 */

/* struct addr flags */
#define ADDR_UTF8	0x01	/* non-ASCII in the addr-spec (SMTPUTF8) */
#define ADDR_NODOMAIN	0x02	/* bare local part, no '@' ("root") */
#define ADDR_NULL	0x04	/* the null address "<>" (spec is "") */
#define ADDR_INGROUP	0x08	/* the mailbox is inside a group */

struct addr {
	char	*spec;		/* normalised addr-spec, xmalloc'd */
	char	*name;		/* display name (decoded phrase, or the text
				   of a trailing comment), or NULL */
	size_t	 off;		/* the whole mailbox in the input: */
	size_t	 len;		/*   input[off .. off + len) */
	int	 flags;
};

struct addr_list {
	struct addr	*v;
	size_t		 n;
};

/*
 * Parses an address-list header value (folding and CR/LF allowed) into
 * *out, which the caller frees with addr_list_free() (also on error: it
 * is then empty). Normalised spec: comments and folding removed, a quoted
 * local part unquoted when it is a valid dot-atom, re-quoted minimally
 * otherwise; the domain as written (dot-atom or "[literal]").
 */
int	addr_parse_list(const char *s, size_t len, struct addr_list *out,
	    struct err *err);
void	addr_list_free(struct addr_list *);

/*
 * Parses and validates one envelope address (a command-line recipient, a
 * -f value, an alias expansion): "user@example.com", "<user@example.com>",
 * "Name <user@example.com>", "root" (ADDR_NODOMAIN) or "<>" (ADDR_NULL).
 * Checks RFC 5321 syntax: local part at most 64 octets (dot-atom or quoted
 * string), domain at most 255 (dot-atom of letters, digits, hyphens or
 * UTF-8, or an address literal). Non-ASCII must be valid UTF-8 and sets
 * ADDR_UTF8. *out is filled (spec xmalloc'd; name NULL or xmalloc'd);
 * release it with addr_clear(). On error *out is cleared.
 */
int	addr_parse_one(const char *s, struct addr *out, struct err *err);
void	addr_clear(struct addr *);

/*
 * 1 if spec (a normalised addr-spec, or "" for the null address) can be
 * sent in MAIL FROM:<...> / RCPT TO:<...>: a local part that is either
 * free of white space, controls and angle brackets, or an RFC 5321
 * §4.1.2 Quoted-string (printable ASCII, space, quoted pairs, UTF-8),
 * then nothing or "@" and a domain of the same kind; at most LIM_ADDR.
 */
int	addr_smtp_ok(const char *spec);

/*
 * "name <spec>" with name quoted (RFC 5322 quoted-string) if it is not a
 * plain phrase, RFC 2047-encoded (UTF-8, base64) if it is not ASCII; just
 * spec when name is NULL or empty. xmalloc'd; NULL only if the result
 * would exceed LIM_HDR_VALUE.
 */
char	*addr_format(const char *name, const char *spec);

#endif
