/*
 * adapters/event_json.c - one encoder for every outgoing event, driven by
 * the table in domain/events.c: a new kind needs no code here.
 */
#include "adapters/event_json.h"

#include <jansson.h>

#include "domain/events.h"

char *event_json(int64_t id, const struct msg *ev)
{
	const struct event_kind *k = event_kind_of(ev->type);
	struct event_fields f;
	json_t *j;
	char *s;
	int bad = 0;

	if (!k || !(j = json_object()))
		return NULL;
	event_flatten(ev, &f);
	bad |= json_object_set_new(j, "id", json_integer(id));
	/* an optional field that is absent is left out, not null */
	if ((k->fields & (1u << EF_ORDERID)) && f.orderid)
		bad |= json_object_set_new(j, "orderid",
					   json_string(f.orderid));
	if (k->fields & (1u << EF_SKU))
		bad |= json_object_set_new(j, "sku", json_string(f.sku));
	if ((k->fields & (1u << EF_QTY)) && f.has_qty)
		bad |= json_object_set_new(j, "qty", json_integer(f.qty));
	if ((k->fields & (1u << EF_BATCHREF)) && f.batchref)
		bad |= json_object_set_new(j, "batchref",
					   json_string(f.batchref));
	s = bad ? NULL : json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(j);
	return s;
}
