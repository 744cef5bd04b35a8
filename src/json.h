/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * json.h -- the OAuth token endpoint's JSON replies (RFC 6749 §5, RFC 8628
 * §3.2), a JWT payload reader for diagnostics, and a document builder for
 * the program's own JSON output, and a member reader and compact writer
 * for the token record's stored form (token_record.c). Only json.c
 * includes jansson; jansson's memory is wiped when it is freed.
 */
#ifndef JSON_H
#define JSON_H

#include <stdio.h>

#include "common.h"
#include "buf.h"
#include "status.h"

#define JSON_MAX_ERROR_CODES	8

/*
 * A token, error or device-authorization response. Absent strings are
 * NULL; absent numbers are -1. Fields marked secret are wiped on free.
 */
struct json_token {
	char		*access_token;		/* secret */
	char		*token_type;
	long long	 expires_in;		/* number or numeric string */
	char		*refresh_token;		/* secret */
	char		*id_token;		/* secret */
	char		*scope;
	char		*error;
	char		*error_description;
	long long	 error_codes[JSON_MAX_ERROR_CODES];
	size_t		 nerror_codes;
	/* Device authorization (RFC 8628 §3.2): */
	char		*device_code;		/* secret */
	char		*user_code;
	char		*verification_uri;	/* or Google's verification_url */
	char		*verification_uri_complete;
	char		*message;		/* Microsoft */
	long long	 interval;
};

/*
 * Makes jansson wipe every block it frees. Idempotent; called by every
 * entry point of json.c before jansson allocates anything.
 */
void	json_secure_alloc(void);

/*
 * Parses body[0..len) (at most LIM_HTTP_BODY bytes): a JSON object, no
 * duplicate keys, known fields with the right types (unknown fields are
 * ignored). On failure tok is left empty. Errors: ERR_PROTO.
 */
int	json_token_parse(struct json_token *tok, const char *body, size_t len,
	    struct err *err);
void	json_token_init(struct json_token *);
void	json_token_free(struct json_token *);	/* wipes; may be called twice */

/* Claims of a JWT access token, for diagnostics (never the token). */
struct json_jwt {
	char		*aud;		/* array values joined with ' ' */
	char		*scp;
	char		*roles;		/* joined with ' ' */
	char		*upn;		/* upn, preferred_username or unique_name */
	char		*tid;
	long long	 exp;		/* -1 if absent */
};

/*
 * Decodes the middle (base64url) part of token. Errors: ERR_DATA when the
 * token is not a JWT (opaque tokens, e.g. Microsoft consumer accounts).
 */
int	json_jwt_claims(const char *token, struct json_jwt *out, struct err *err);
void	json_jwt_free(struct json_jwt *);

/*
 * Building a JSON document for output (status --json, mailq --json).
 * A struct jout is a jansson object or array; jout_set* add a member to
 * an object (in order), jout_append an element to an array; both take
 * over child. A string that is not valid UTF-8 goes out with each byte
 * >= 0x80 replaced by '?'; a NULL string is null. Allocation failure is
 * fatal, as xmalloc's.
 */
struct jout;

struct jout *jout_object(void);
struct jout *jout_array(void);
void	jout_set(struct jout *obj, const char *key, struct jout *child);
void	jout_set_str(struct jout *obj, const char *key, const char *v);
void	jout_set_int(struct jout *obj, const char *key, long long v);
void	jout_set_null(struct jout *obj, const char *key);
void	jout_append(struct jout *arr, struct jout *child);
/* As jout_set_str, but -1 (nothing added) when v is not valid UTF-8. */
int	jout_set_exact(struct jout *obj, const char *key, const char *v);
void	jout_set_bool(struct jout *obj, const char *key, int v);
/* The document, indented by 2, and a newline. Errors: ERR_IO. */
int	jout_print(struct jout *, FILE *out, struct err *err);
/*
 * The document written compactly (members in order) into out, replacing
 * its content; the scratch copy is wiped. -1 when it would be longer
 * than max bytes or out refuses it.
 */
int	jout_dump(struct jout *, size_t max, struct buf *out);
void	jout_free(struct jout *);	/* NULL is fine */

/*
 * Describes a JSON object in text[0..len) (a server's error document) as
 * "key=value key=value" for those of keys (NULL-terminated) that are
 * strings or integers, appended to out (values cut at 200 bytes; the
 * caller sanitises). -1 if text is not a JSON object.
 */
int	json_describe(const char *text, size_t len, const char *const *keys,
	    struct buf *out);

/*
 * What an HTTPS mail API said (api.h), every field sanitised ("" when
 * absent): Graph {"error":{"code":"ErrorX","message":...}}, Google
 * {"error":{"code":403,"status":"PERMISSION_DENIED","message":...,
 * "errors":[{"reason":"insufficientPermissions"}]}}, or a sent message's
 * {"id":...}. A body that is not JSON leaves everything "" (returns -1).
 */
struct json_api_reply {
	char	id[128];
	char	code[96];	/* Graph's code, Google's status */
	char	reason[96];	/* Google's errors[0].reason */
	char	message[256];
};
int	json_api_reply_parse(const char *body, size_t len,
	    struct json_api_reply *out);

/*
 * A JSON object in text[0..len) written compactly into out with the
 * values of keys replaced by "[redacted, N bytes]" (debug output of a
 * token endpoint's reply). Returns the length written (not terminated),
 * 0 when text is not a JSON object or the result does not fit.
 */
size_t	json_redact(const char *text, size_t len, const char *const *keys,
	    size_t nkeys, char *out, size_t outsize);

/*
 * The string member key of the JSON object in text[0..len) into dst
 * (NUL-terminated). -1 when text is not an object, the member is absent
 * or not a string, or it does not fit.
 */
int	json_string_member(const char *text, size_t len, const char *key,
	    char *dst, size_t size);

/*
 * Reading a JSON object member by member (the token record's stored
 * form). jin_parse: the object in text[0..len), duplicate keys refused;
 * NULL when text is not a JSON object, with *line the line jansson
 * stopped at (-1 when it parsed but is not an object). The getters give
 * 0 when key is absent or null, 1 and *v when its value has the type
 * asked, -1 when it has another type. A string points into the object
 * and lives until jin_free. Values live in the wiping allocator.
 */
struct jin;

struct jin *jin_parse(const char *text, size_t len, int *line);
int	jin_str(struct jin *, const char *key, const char **v);
int	jin_int(struct jin *, const char *key, long long *v);
int	jin_bool(struct jin *, const char *key, int *v);
void	jin_free(struct jin *);		/* NULL is fine */

/* The jansson version the program runs with, e.g. "2.14". */
const char *json_library_version(void);

#endif
