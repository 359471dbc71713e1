/*
 * domain/messages.c - message names.
 */
#include "domain/messages.h"

#include <assert.h>

static const char *const names[] = {
	[MSG_CREATE_BATCH] = "CreateBatch",
	[MSG_ALLOCATE] = "Allocate",
	[MSG_CHANGE_BATCH_QUANTITY] = "ChangeBatchQuantity",
	[MSG_IMPORT_RESEARCH] = "ImportResearch",
	[MSG_CREATE_TOKEN] = "CreateToken",
	[MSG_REVOKE_TOKEN] = "RevokeToken",
	[MSG_DEALLOCATE] = "Deallocate",
	[MSG_CREATE_CUSTOMER] = "CreateCustomer",
	[MSG_REPLAY_DELIVERY] = "ReplayDelivery",
	[MSG_SET_LOW_STOCK] = "SetLowStock",
	[MSG_ALERT_AGED_BACKORDERS] = "AlertAgedBackorders",
	[MSG_CHANGE_BATCH_ETA] = "ChangeBatchEta",
	[MSG_PUT_INGREDIENTS] = "PutIngredients",
	[MSG_ADD_FORMULA] = "AddFormula",
	[MSG_ACTIVATE_FORMULA] = "ActivateFormula",
	[MSG_CREATE_SURVEY] = "CreateSurvey",
	[MSG_ADD_RESPONSES] = "AddResponses",
	[MSG_PROMOTE_WINNER] = "PromoteWinner",
	[MSG_IMPORT_DEMAND] = "ImportDemand",
	[MSG_IMPORT_TRACK] = "ImportTrack",
	[MSG_IMPORT_VENUE] = "ImportVenue",
	[MSG_RECORD_SHOW] = "RecordShow",
	[MSG_REFILL_CARTRIDGES] = "RefillCartridges",
	[MSG_ALLOCATED] = "Allocated",
	[MSG_DEALLOCATED] = "Deallocated",
	[MSG_OUT_OF_STOCK] = "OutOfStock",
	[MSG_BACKORDERED] = "Backordered",
	[MSG_LOW_STOCK] = "LowStock",
	[MSG_BACKORDER_WAITING] = "BackorderWaiting",
	[MSG_ETA_CHANGED] = "EtaChanged",
	[MSG_CARTRIDGE_LOW] = "CartridgeLow",
};

static_assert(sizeof(names) / sizeof(names[0]) == MSG__COUNT,
	      "every message type has a name");

const char *msg_name(enum msg_type type)
{
	return (unsigned)type < MSG__COUNT ? names[type] : "?";
}
