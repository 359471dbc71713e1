/*
 * domain/token.c - scope names and the scope rule.
 */
#include "domain/token.h"

#include <string.h>

static const char *const scope_names[] = {"read", "allocate", "stock", "admin"};

unsigned token_scope_parse(const char *name)
{
	for (unsigned i = 0; i < 4; i++)
		if (!strcmp(name, scope_names[i]))
			return 1u << i;
	return 0;
}

const char *token_scope_name(unsigned bit)
{
	for (unsigned i = 0; i < 4; i++)
		if (bit == 1u << i)
			return scope_names[i];
	return NULL;
}

bool token_scopes_allow(unsigned scopes, unsigned need)
{
	if (scopes & TOKEN_SCOPE_ADMIN)
		return true;
	return (scopes & need) == need;
}

/*
 * Names appear in logs and in `token list`: a narrow alphabet keeps them
 * safe to print anywhere without escaping.
 */
bool token_name_valid(const char *name)
{
	size_t n = strlen(name);

	if (n < 1 || n > TOKEN_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return true;
}
