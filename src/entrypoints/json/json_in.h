/*
 * entrypoints/json/json_in.h - the checks every JSON document reader of
 * the entry points shares (analytics, cue tracks, venues): unknown fields
 * refused by name, optional strings that must be strings.
 */
#ifndef SCENTS_ENTRYPOINTS_JSON_JSON_IN_H
#define SCENTS_ENTRYPOINTS_JSON_JSON_IN_H

#include <jansson.h>
#include <stdbool.h>

struct sc_err;

/*
 * SC_EINVAL "@where: unknown field '<key>'" (or without @where when it
 * is NULL) for a key of @o not in @known (NULL-terminated): a typo must
 * not silently mean "absent".
 */
int json_known_keys(json_t *o, const char *const *known, const char *where,
		    struct sc_err *err);

/*
 * Optional string field @name of @o into *@out (NULL when absent or
 * null); false when it is something else or holds a NUL.
 */
bool json_opt_string(json_t *o, const char *name, const char **out);

#endif
