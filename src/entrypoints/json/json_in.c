/*
 * entrypoints/json/json_in.c - shared checks of JSON documents.
 */
#include "entrypoints/json/json_in.h"

#include <string.h>

#include "common/err.h"

int json_known_keys(json_t *o, const char *const *known, const char *where,
		    struct sc_err *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v)
	{
		size_t k = 0;

		(void)v;
		while (known[k] && strcmp(known[k], key) != 0)
			k++;
		if (!known[k])
			return where ? err_set(err, SC_EINVAL,
					       "%s: unknown field '%.64s'",
					       where, key)
				     : err_set(err, SC_EINVAL,
					       "unknown field '%.64s'", key);
	}
	return SC_OK;
}

bool json_opt_string(json_t *o, const char *name, const char **out)
{
	json_t *v = json_object_get(o, name);

	*out = NULL;
	if (!v || json_is_null(v))
		return true;
	if (!json_is_string(v))
		return false;
	*out = json_string_value(v);
	return strlen(*out) == json_string_length(v);
}
