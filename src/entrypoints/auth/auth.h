/*
 * entrypoints/auth/auth.h - API token secrets and the request check.
 *
 * Secrets are "sct_" followed by 43 characters of base64url: 256 bits
 * from libsodium's CSPRNG.  Only SHA-256(secret) is stored.  A fast hash
 * is the right one here: a slow password hash (argon2) protects
 * low-entropy secrets people choose, and a 256-bit random secret cannot
 * be guessed from its hash; a fast hash keeps the check per request in
 * microseconds (docs/decisions/0008-api-tokens.md).
 *
 * The checker keeps the token table in memory, reloaded from the store
 * when older than AUTH_REFRESH_MS, so a token created or revoked by the
 * CLI in another process takes effect within that time.  Hashes are
 * compared in constant time against every active token.
 *
 * Thread-safe: one checker serves every HTTP thread.
 */
#ifndef SCENTS_ENTRYPOINTS_AUTH_AUTH_H
#define SCENTS_ENTRYPOINTS_AUTH_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "domain/token.h"

struct auth;
struct sc_err;
struct uow;

/* Bytes of a secret, terminator included. */
#define AUTH_SECRET_SIZE 48
/* A token table older than this is reloaded before a check. */
#define AUTH_REFRESH_MS 1000

/* Initialise libsodium.  SC_EIO when it cannot (no entropy source). */
int auth_global_init(struct sc_err *err);

/* A new secret in @out and its hash in @hash.  Needs auth_global_init. */
void auth_secret_new(char out[AUTH_SECRET_SIZE],
		     uint8_t hash[TOKEN_HASH_LEN] /* OUT */);

/*
 * True when @s has a secret's shape: "sct_" and 43 base64url characters,
 * nothing else.  What a client hands us as a token may go back out in a
 * header (the dashboard's cookie) only if this holds.
 */
bool auth_secret_well_formed(const char *s);

/* Overwrite the secret at @s so it does not linger in memory. */
void auth_secret_wipe(char s[AUTH_SECRET_SIZE]);

/* Bytes of "whsec_" + the base64 of a webhook secret, with its NUL. */
#define AUTH_WHSEC_SIZE 52

/*
 * A new random webhook signing key into @key, and the form customers are
 * shown once (Standard Webhooks: "whsec_" + base64 of the key) into
 * @shown.
 */
void auth_webhook_secret_new(uint8_t key[32], char shown[AUTH_WHSEC_SIZE]);

/* Fill @n bytes at @out from the CSPRNG.  Needs auth_global_init. */
void auth_random(void *out, size_t n);

/* SHA-256 of @len bytes at @secret. */
void auth_hash(const char *secret, size_t len,
	       uint8_t hash[TOKEN_HASH_LEN] /* OUT */);

enum auth_result {
	AUTH_OK,       /* go ahead */
	AUTH_MISSING,  /* no usable Authorization: Bearer header: 401 */
	AUTH_INVALID,  /* unknown or revoked token: 401 */
	AUTH_FORBIDDEN /* valid token without the scope: 403 */
};

/*
 * A checker reading tokens through @u (borrowed; used only under the
 * checker's lock, so give it a connection of its own).  With
 * @open_when_empty (a loopback listener), every request passes while no
 * active token exists; otherwise requests always need a token.
 * SC_ENOMEM, SC_EIO (first load failed).
 */
int auth_new(struct uow *u, bool open_when_empty, struct auth **out /* OUT */,
	     struct sc_err *err);

/* Release @a (NULL is a no-op). */
void auth_free(struct auth *a);

/*
 * Reload before the next check: a token created or revoked through this
 * process takes effect at once (other processes' changes: within
 * AUTH_REFRESH_MS).  NULL is a no-op.
 */
void auth_invalidate(struct auth *a);

/* Active tokens as of the last load (after a reload if stale). */
size_t auth_active_count(struct auth *a);

/*
 * Check header value @authorization (may be NULL) for scope @need
 * (TOKEN_SCOPE_NONE: always AUTH_OK).  On AUTH_OK and AUTH_FORBIDDEN,
 * @who (@who_size bytes) receives the token's name, for the access log;
 * "" when no token was used.
 */
enum auth_result auth_check(struct auth *a, const char *authorization,
			    unsigned need, char *who, size_t who_size);

#endif
