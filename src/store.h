/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * store.h -- the keyring: one account's secrets, by kind, in the Secret
 * Service (libsecret) or the kernel keyring (libkeyutils); systemd
 * credentials, which win over it; and, with the token-key credential, an
 * encrypted copy of the token record (seal.h). Never a file in clear.
 */
#ifndef STORE_H
#define STORE_H

#include "common.h"
#include "buf.h"
#include "conf.h"
#include "status.h"

enum store_kind {
	STORE_TOKEN = 0,	/* the token record (JSON, see token.h) */
	STORE_CLIENT_SECRET,
	STORE_PASSWORD,		/* for PLAIN/LOGIN accounts */
	STORE_CLIENT_KEY,	/* PEM private key of client_certificate */
	STORE_API_TOKEN,	/* the HTTPS API's access token (token.h) */
	STORE_IDENTITY,		/* store_ident.c: the name's last identity */
	STORE_CACHE		/* store_cache.c: the kernel copy (below) */
};

/*
 * Where a record is kept. An OAuth account's token record, client
 * secret and client key are keyed by the identity they belong to, not by
 * the account's name: two configurations with an account of the same
 * name and another client_id or user never share a token, and an account
 * derived from another one ("account default : work") that changes
 * nothing of the identity finds the token and secret of the account it
 * derives from.
 *
 *   token, api_token:
 *                client_id, token_endpoint, tenant (if set), user (if set)
 *   client_secret, client_key:
 *                client_id, token_endpoint, tenant (if set)
 *
 * ident is that text, "client_id=C token_endpoint=E[ tenant=T][ user=U]".
 * Secret Service: attributes service="oauthmail", kind, client_id,
 * token_endpoint, tenant, user ("" when unset), no account attribute.
 * Kernel keyring: the description "oauthmail:<kind> <ident>". Everything
 * else (passwords; accounts without OAuth) and the records of earlier
 * versions are keyed by name: attributes service, account, kind; the
 * description "oauthmail:<account>:<kind>". Such a name-keyed token
 * record, client secret or key is moved to the identity's key at its first
 * use, unless the name's STORE_IDENTITY record (the identity last stored
 * for that name) says it belongs to another identity. The API token's
 * record of earlier versions is the token record of the name "NAME#api":
 * moved the same way, and deleted, never used, when the identity changed.
 * Writing an API token does not change the name's STORE_IDENTITY record:
 * only the account's own records say which identity signed in.
 */
struct store_key {
	const char	*account;	/* the account name */
	enum store_kind	 kind;
	const char	*ident;		/* NULL: keyed by name */
	const char	*client_id;	/* the identity's parts, "" unset */
	const char	*endpoint;
	const char	*tenant;
	const char	*user;
	long		 ttl;		/* kernel keyring: seconds; 0 forever */
};

struct store;

/* The systemd credential holding the key of the sealed token copies. */
#define STORE_SEAL_CREDENTIAL	"token-key"

/*
 * Opens the backend chosen by the account's keyring. auto: both that can
 * serve, the Secret Service (a session bus, found also at
 * $XDG_RUNTIME_DIR/bus or /run/user/UID/bus, and an unlocked collection)
 * first: a record is looked for in both and written back where it was
 * found, a new one goes to the first; a token found in neither while
 * the collection is locked is ERR_TEMP "the keyring is locked", not "no
 * token". Never hangs or prompts: every call is bounded.
 * ERR_TEMP when no backend can serve, with what to start or configure.
 *
 * With the credential STORE_SEAL_CREDENTIAL (a 256-bit key) the token
 * record is also kept sealed (seal.h) in the account's queue directory:
 * every store_put of a token updates both, a store_get that finds the
 * keyring empty (after a reboot) restores the record from the sealed
 * copy into the keyring, and one that finds it there rewrites a sealed
 * copy that differs. ERR_CONFIG for a malformed key or an unusable
 * directory.
 */
int	store_open_account(const struct account *, struct store **,
	    struct err *);
/* Whether the sealed copy is kept (the key is there). */
int	store_sealed(const struct store *);
/*
 * Opens the account's queue directory (queue_dir, else
 * $XDG_STATE_HOME/oauthmail/queue), made 0700 when create is set, never
 * through a symlink; refused unless it is the caller's and closed to
 * others. Returns the fd or -1 (ERR_CONFIG, ERR_CANTCREAT, ERR_TEMP).
 */
int	store_queue_dir(const struct account *, int create, struct err *);
/*
 * The same, but the keyring itself is opened at the first store_get,
 * store_put or store_delete (an error of opening it is theirs): a send
 * whose access token the kernel copy holds never loads libsecret.
 */
int	store_open_lazy(const struct account *, struct store **,
	    struct err *);
void	store_close(struct store *);
const char *store_backend_name(const struct store *);
/*
 * Reads a secret into out (a BUF_SECRET buffer). Returns 0 if found, 1 if
 * there is none, -1 on error (ERR_TEMP: keyring locked/unreachable).
 * A systemd credential wins over the keyring: secret.ACCOUNT for
 * STORE_CLIENT_SECRET, password.ACCOUNT for STORE_PASSWORD, key.ACCOUNT
 * for STORE_CLIENT_KEY (see store_credential).
 */
int	store_get(struct store *, const char *account, enum store_kind,
	    struct buf *out, struct err *);
/* Stores (replacing atomically). */
int	store_put(struct store *, const char *account, enum store_kind,
	    const char *data, size_t len, struct err *);
/* Deletes; 0 also when there was nothing. A token's sealed copy too. */
int	store_delete(struct store *, const char *account, enum store_kind,
	    struct err *);
/*
 * The kernel copy of an access token, in front of the Secret Service: a
 * "user" key "oauthmail:cache <ident>" (the token's identity) in the
 * kernel keyring the kernel backend uses, holding what token.c puts there
 * (a token record without its refresh token), which the kernel drops by
 * itself after ttl seconds. Only for the opened account's own token,
 * with token_cache on, keyring secret-service or auto (libsecret built
 * in). store_put and store_delete of that token record drop the copy
 * before they write the keyring, so none outlives the record it came
 * from.
 *
 * store_cache_get: 0 and out, 1 none or unusable (anything the kernel
 * keyring says is logged at debug level and is "none").
 * store_cache_put: only when the record is in the Secret Service; best
 * effort. store_cache_drop: 0 also when there is none, or no kernel
 * keyring; -1 when a copy is there and stays.
 */
/* Whether the copy is kept: on, and no kernel keyring failure seen. */
int	store_cache_on(const struct store *);
int	store_cache_get(struct store *, struct buf *out);
void	store_cache_put(struct store *, const char *data, size_t len,
	    long ttl);
int	store_cache_drop(struct store *, struct err *);
/*
 * A systemd credential: $CREDENTIALS_DIRECTORY/name, which systemd fills
 * from LoadCredential= / LoadCredentialEncrypted= (decrypted, readable
 * only by the unit's user). Opened with O_NOFOLLOW; a regular file not
 * writable by others, at most max bytes; one trailing newline (CRLF) is
 * removed. Into out (BUF_SECRET; wiped on error). 0 found, 1 no such
 * credential (or no CREDENTIALS_DIRECTORY), -1 ERR_CONFIG / ERR_TEMP.
 */
int	store_credential(const char *name, struct buf *out, size_t max,
	    struct err *);
/* The credential standing for the account's secret of that kind. */
int	store_credential_for(const char *account, enum store_kind,
	    struct buf *out, struct err *);
/*
 * "token", "client_secret", "password", "client_key", "api_token" (the
 * kind attribute / key name).
 */
const char *store_kind_name(enum store_kind);

#endif
