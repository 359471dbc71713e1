/*
 * adapters/event_json.h - an outgoing event as the JSON others receive.
 */
#ifndef SCENTS_ADAPTERS_EVENT_JSON_H
#define SCENTS_ADAPTERS_EVENT_JSON_H

#include <stdint.h>

struct msg;

/*
 * {"id": @id, then the fields domain/events.h lists for @ev's kind, in
 * their order}, compact; the caller frees it with mem_free().  NULL when
 * memory runs out or @ev does not leave the process.
 */
char *event_json(int64_t id, const struct msg *ev);

#endif
