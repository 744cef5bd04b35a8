/*
 * json.h -- the OAuth token endpoint's JSON replies (RFC 6749 §5, RFC 8628
 * §3.2) and a JWT payload reader for diagnostics. Only json.c, oauth.c and
 * token.c include jansson; jansson's memory is wiped when it is freed.
 */
#ifndef JSON_H
#define JSON_H

#include "common.h"
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
 * entry point of json.c and token.c before jansson allocates anything.
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

/* The jansson version the program runs with, e.g. "2.14". */
const char *json_library_version(void);

#endif
