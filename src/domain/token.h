/*
 * domain/token.h - API tokens: who may do what (design.md section 4).
 *
 * A token grants scopes; each HTTP route needs one scope.  The secret
 * itself never reaches the domain or the store: only its SHA-256 hash
 * (computed by the entry point) is kept, so a leaked database gives no
 * usable token.  Pure C: the entry points generate and hash secrets.
 */
#ifndef SCENTS_DOMAIN_TOKEN_H
#define SCENTS_DOMAIN_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes in a token hash (SHA-256). */
#define TOKEN_HASH_LEN 32
/* Longest token name, in bytes. */
#define TOKEN_NAME_MAX 64

/*
 * Scopes, as bits.  TOKEN_SCOPE_NONE marks routes anyone may call
 * (/healthz, /readyz).  admin implies every other scope: whoever may
 * mint tokens could mint one with any scope anyway.
 */
enum token_scope {
	TOKEN_SCOPE_NONE = 0,
	TOKEN_SCOPE_READ = 1 << 0,     /* GETs */
	TOKEN_SCOPE_ALLOCATE = 1 << 1, /* POST /allocate */
	TOKEN_SCOPE_STOCK = 1 << 2,    /* batches and their quantities */
	TOKEN_SCOPE_ADMIN = 1 << 3     /* research import, tokens */
};

/* Every scope bit. */
#define TOKEN_SCOPE_ALL 0xfu

/* An API token as stored: the hash, never the secret. */
struct token_record {
	const char *name;	      /* unique, printable, 1..64 bytes */
	unsigned scopes;	      /* enum token_scope bits, non-zero */
	uint8_t hash[TOKEN_HASH_LEN]; /* SHA-256 of the secret */
	int64_t created_at;	      /* unix seconds */
	int64_t revoked_at;	      /* unix seconds; 0 while active */
};

/* The bit of scope @name ("read", ...); 0 when unknown. */
unsigned token_scope_parse(const char *name);

/* Name of the single scope bit @bit, or NULL. */
const char *token_scope_name(unsigned bit);

/* True when a token with @scopes may do what needs @need. */
bool token_scopes_allow(unsigned scopes, unsigned need);

/* True when @name is a valid token name (1..64 bytes of [A-Za-z0-9._-]). */
bool token_name_valid(const char *name);

#endif
