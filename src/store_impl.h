/* SPDX-License-Identifier: ISC; Copyright (c) 2026 The oauthmail authors */
/*
 * store_impl.h -- what the keyring modules share, for them alone: store.c
 * (opening the backends, get / put / delete across them, the sealed
 * copy), store_cred.c (systemd credentials), store_ident.c (the key of
 * each record: by identity or by name, and the move of earlier
 * versions' records) and store_cache.c (the kernel copy of the access
 * token). store.h has the contract, store_backend.h the backends.
 */
#ifndef STORE_IMPL_H
#define STORE_IMPL_H

#include "common.h"
#include "buf.h"
#include "conf.h"
#include "seal.h"
#include "status.h"
#include "store.h"
#include "store_backend.h"

#define KERNEL_BACKEND	(&store_kernel_backend)

struct store {
	/* the one the next call uses; where new records go */
	const struct store_backend	*backend;
	const struct store_backend	*primary;
	/* auto: the second one, or NULL */
	const struct store_backend	*other;
	/* where each kind was found, or NULL */
	const struct store_backend	*where[STORE_IDENTITY + 1];
	int			 ss_locked;	/* auto: collection locked */
	char			*name;		/* the account opened for */
	char			*id_token;	/* its identities, or NULL */
	char			*id_secret;
	char			*client_id;	/* their parts ("" unset) */
	char			*endpoint;
	char			*tenant;
	char			*user;
	int			 app_only;	/* client credentials */
	int			 sealed;	/* the token-key credential is there */
	int			 deferred;	/* lazy: the keyring not open yet */
	enum conf_keyring	 keyring;	/* what to open then */
	int			 cache;		/* the kernel copy is kept */
	int			 kernel;	/* for it: 1 open, -1 failed */
	int			 qfd;		/* queue directory (sealed), or -1 */
	char			*queue_dir;	/* the account's, or NULL (default) */
	unsigned char		 key[SEAL_KEY_LEN];
};

/*
 * store_cred.c. Reads the systemd credential name as store_credential
 * does; strip: remove one trailing newline (CRLF), as it does.
 */
int	store_cred_read(const char *name, struct buf *out, size_t max,
	    int strip, struct err *);

/*
 * store_ident.c. The identities of an OAuth account's token and client
 * secret (st->id_token, st->id_secret and their parts), from acct.
 */
void	store_ident_setup(struct store *, const struct account *);
/* The key of a record: by identity for the opened account's OAuth kinds. */
void	store_key_for(const struct store *, const char *account,
	    enum store_kind, struct store_key *);
/* The key by name (earlier versions; passwords; STORE_IDENTITY). */
void	store_name_key(const char *account, enum store_kind,
	    struct store_key *);
/*
 * The key of k's record in earlier versions, keyed by name: the API
 * token's was the token record of "NAME#api" (its name in buf).
 */
void	store_legacy_key(const struct store_key *k, char *buf, size_t size,
	    struct store_key *old);
/*
 * Records which identity the name now stores under (st->id_token);
 * returns 1 if that changed. Best effort.
 */
int	store_ident_remember(struct store *, const char *account);
/*
 * Nothing under the identity's key k: a record of an earlier version
 * (keyed by name) moves there unless the name was last used with another
 * identity. 0 and out, 1 none, -1 error (ERR_AUTH: the identity changed).
 */
int	store_ident_migrate(struct store *, const struct store_key *k,
	    struct buf *out, struct err *);

/*
 * store_cache.c (the kernel copy of the access token, store.h). Whether
 * the account keeps the copy: token_cache on, and its token record in the
 * Secret Service (keyring secret-service or auto, libsecret built in).
 */
int	store_cache_wanted(const struct account *);
/*
 * Before the account's own token record is written or deleted: drops
 * the copy (store_cache_drop); 0 for any other record.
 */
int	store_cache_drop_for(struct store *, const char *account,
	    enum store_kind, struct err *);

#endif
