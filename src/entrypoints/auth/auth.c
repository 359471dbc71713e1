/*
 * entrypoints/auth/auth.c - token secrets (libsodium) and the cached
 * token table behind every request's check.
 */
#include "entrypoints/auth/auth.h"

#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "common/arena.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "service/uow.h"

/* The active tokens as last read; names and hashes only. */
struct cached_token {
	char name[TOKEN_NAME_MAX + 1]; /* for the access log */
	unsigned scopes;	       /* what it may do */
	uint8_t hash[TOKEN_HASH_LEN];  /* SHA-256 of its secret */
};

struct auth {
	pthread_mutex_t lock;	     /* guards everything below */
	struct uow *uow;	     /* borrowed connection */
	bool open_when_empty;	     /* loopback listener */
	uint64_t loaded_ms;	     /* monotonic time of the last try */
	bool stale;		     /* reload before the next check */
	struct cached_token *tokens; /* active ones; owned */
	size_t n_tokens;	     /* entries in tokens */
};

static uint64_t now_ms(void)
{
	return clock_mono_us() / 1000u;
}

int auth_global_init(struct sc_err *err)
{
	if (sodium_init() < 0)
		return err_set(err, SC_EIO, "cannot initialise libsodium");
	return SC_OK;
}

void auth_random(void *out, size_t n)
{
	randombytes_buf(out, n);
}

void auth_hash(const char *secret, size_t len, uint8_t hash[TOKEN_HASH_LEN])
{
	(void)crypto_hash_sha256(hash, (const unsigned char *)secret, len);
}

void auth_secret_new(char out[AUTH_SECRET_SIZE], uint8_t hash[TOKEN_HASH_LEN])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof(raw));
	memcpy(out, "sct_", 5); /* the encoding below overwrites the NUL */
	(void)sodium_bin2base64(out + 4, AUTH_SECRET_SIZE - 4, raw, sizeof(raw),
				sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	auth_hash(out, strlen(out), hash);
}

bool auth_secret_well_formed(const char *s)
{
	static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "abcdefghijklmnopqrstuvwxyz0123456789-_";

	return strncmp(s, "sct_", 4) == 0 &&
	       strlen(s) == AUTH_SECRET_SIZE - 1 &&
	       strspn(s + 4, b64url) == AUTH_SECRET_SIZE - 5;
}

void auth_webhook_secret_new(uint8_t key[32], char shown[AUTH_WHSEC_SIZE])
{
	randombytes_buf(key, 32);
	memcpy(shown, "whsec_", 7); /* the encoding overwrites the NUL */
	(void)sodium_bin2base64(shown + 6, AUTH_WHSEC_SIZE - 6, key, 32,
				sodium_base64_VARIANT_ORIGINAL);
}

void auth_secret_wipe(char s[AUTH_SECRET_SIZE])
{
	sodium_memzero(s, AUTH_SECRET_SIZE);
}

/* Replace the cache with the active tokens of the store.  Locked. */
static int reload(struct auth *a, struct sc_err *err)
{
	struct token_record *rows = NULL;
	struct cached_token *fresh;
	struct arena ar;
	size_t n = 0, k = 0;
	int rc;

	arena_init(&ar);
	rc = uow_token_list(a->uow, &ar, &rows, &n, err);
	if (rc) {
		arena_release(&ar);
		return rc;
	}
	fresh = mem_calloc(n ? n : 1, sizeof(*fresh));
	if (!fresh) {
		arena_release(&ar);
		return err_set(err, SC_ENOMEM, "out of memory");
	}
	for (size_t i = 0; rows && i < n; i++) {
		if (rows[i].revoked_at)
			continue;
		(void)snprintf(fresh[k].name, sizeof(fresh[k].name), "%s",
			       rows[i].name);
		fresh[k].scopes = rows[i].scopes;
		memcpy(fresh[k].hash, rows[i].hash, TOKEN_HASH_LEN);
		k++;
	}
	arena_release(&ar);
	mem_free(a->tokens);
	a->tokens = fresh;
	a->n_tokens = k;
	return SC_OK;
}

/*
 * Reload when stale.  A failed reload keeps the last table (a store
 * hiccup must not open or close the API) and is retried next time.
 */
static void refresh(struct auth *a)
{
	struct sc_err err;

	if (!a->stale && now_ms() - a->loaded_ms < AUTH_REFRESH_MS)
		return;
	a->stale = false;
	a->loaded_ms = now_ms(); /* a store that is down is asked once a
				    period, not on every request */
	err_clear(&err);
	if (reload(a, &err))
		log_msg(LOG_WARN, "event=token_reload_failed reason=\"%s\"",
			err.msg);
}

int auth_new(struct uow *u, bool open_when_empty, struct auth **out,
	     struct sc_err *err)
{
	struct auth *a = mem_calloc(1, sizeof(*a));
	int rc;

	if (!a)
		return err_set(err, SC_ENOMEM, "out of memory");
	a->uow = u;
	a->open_when_empty = open_when_empty;
	(void)pthread_mutex_init(&a->lock, NULL);
	a->loaded_ms = now_ms();
	rc = reload(a, err);
	if (rc) {
		auth_free(a);
		return rc;
	}
	*out = a;
	return SC_OK;
}

void auth_free(struct auth *a)
{
	if (!a)
		return;
	if (a->tokens)
		sodium_memzero(a->tokens, a->n_tokens * sizeof(*a->tokens));
	mem_free(a->tokens);
	(void)pthread_mutex_destroy(&a->lock);
	mem_free(a);
}

void auth_invalidate(struct auth *a)
{
	if (!a)
		return;
	(void)pthread_mutex_lock(&a->lock);
	a->stale = true;
	(void)pthread_mutex_unlock(&a->lock);
}

size_t auth_active_count(struct auth *a)
{
	size_t n;

	(void)pthread_mutex_lock(&a->lock);
	refresh(a);
	n = a->n_tokens;
	(void)pthread_mutex_unlock(&a->lock);
	return n;
}

/* The token of "Bearer <token>" (scheme case-insensitive), or NULL. */
static const char *bearer(const char *h, size_t *len)
{
	size_t n;

	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	n = strcspn(h, " \t");
	if (!n || h[n + strspn(h + n, " \t")])
		return NULL;
	*len = n;
	return h;
}

/*
 * Every active token is compared, each in constant time, so the time
 * taken says nothing about which hash bytes matched.
 */
static const struct cached_token *find(const struct auth *a,
				       const uint8_t hash[TOKEN_HASH_LEN])
{
	const struct cached_token *found = NULL;

	for (size_t i = 0; i < a->n_tokens; i++)
		if (!sodium_memcmp(a->tokens[i].hash, hash, TOKEN_HASH_LEN))
			found = &a->tokens[i];
	return found;
}

enum auth_result auth_check(struct auth *a, const char *authorization,
			    unsigned need, char *who, size_t who_size)
{
	uint8_t hash[TOKEN_HASH_LEN];
	const struct cached_token *t;
	enum auth_result res;
	const char *secret;
	size_t len = 0;

	if (who_size)
		who[0] = '\0';
	if (need == TOKEN_SCOPE_NONE)
		return AUTH_OK;
	secret = bearer(authorization, &len);
	if (secret)
		auth_hash(secret, len, hash);
	(void)pthread_mutex_lock(&a->lock);
	refresh(a);
	if (!a->n_tokens && a->open_when_empty)
		res = AUTH_OK;
	else if (!secret)
		res = AUTH_MISSING;
	else if (!(t = find(a, hash)))
		res = AUTH_INVALID;
	else {
		res = token_scopes_allow(t->scopes, need) ? AUTH_OK
							  : AUTH_FORBIDDEN;
		if (who_size)
			(void)snprintf(who, who_size, "%s", t->name);
	}
	(void)pthread_mutex_unlock(&a->lock);
	return res;
}
