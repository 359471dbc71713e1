/*
 * domain/messages.h - commands and events as one tagged union.
 *
 * Commands say what someone wants (exactly one handler, errors go back to
 * the sender); events say what happened (zero or more handlers).  Strings
 * are borrowed: they live in the arena of the message being handled, or in
 * the caller's storage for a message it builds itself.
 */
#ifndef SCENTS_DOMAIN_MESSAGES_H
#define SCENTS_DOMAIN_MESSAGES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct cue_track;
struct venue;
struct demand_entry;
struct formula;
struct ingredient;
struct research_row;
struct survey_response;

/* Who a batch was bought from (domain/sourcing.h decides). */
enum supplier {
	SUPPLIER_NONE = 0, /* not recorded, or: decide from research */
	SUPPLIER_CHEAP,	   /* lower-grade oils */
	SUPPLIER_EXPENSIVE /* premium oils */
};

enum msg_type {
	/* commands */
	MSG_CREATE_BATCH,
	MSG_ALLOCATE,
	MSG_CHANGE_BATCH_QUANTITY,
	MSG_IMPORT_RESEARCH,
	MSG_CREATE_TOKEN,
	MSG_REVOKE_TOKEN,
	MSG_DEALLOCATE,
	MSG_CREATE_CUSTOMER,
	MSG_REPLAY_DELIVERY,
	MSG_SET_LOW_STOCK,
	MSG_ALERT_AGED_BACKORDERS,
	MSG_CHANGE_BATCH_ETA,
	MSG_PUT_INGREDIENTS,
	MSG_ADD_FORMULA,
	MSG_ACTIVATE_FORMULA,
	MSG_CREATE_SURVEY,
	MSG_ADD_RESPONSES,
	MSG_PROMOTE_WINNER,
	MSG_IMPORT_DEMAND,
	MSG_IMPORT_TRACK,
	MSG_IMPORT_VENUE,
	MSG_RECORD_SHOW,
	MSG_REFILL_CARTRIDGES,
	/* events */
	MSG_ALLOCATED,
	MSG_DEALLOCATED,
	MSG_OUT_OF_STOCK,
	MSG_BACKORDERED,
	MSG_LOW_STOCK,
	MSG_BACKORDER_WAITING,
	MSG_ETA_CHANGED,
	MSG_CARTRIDGE_LOW,
	MSG__COUNT
};

/* First event type: everything before it is a command. */
#define MSG__FIRST_EVENT MSG_ALLOCATED

/* CreateBatch(ref, sku, qty, eta?): a purchase we expect or hold. */
struct cmd_create_batch {
	const char *ref;	/* batch reference, unique across products */
	const char *sku;	/* product */
	int64_t qty;		/* purchased quantity, 0..SC_QTY_MAX */
	bool has_eta;		/* false: in the warehouse now */
	int32_t eta;		/* days since 1970-01-01 when has_eta */
	enum supplier supplier; /* SUPPLIER_NONE: as the latest decision */
};

/* Allocate(orderid, sku, qty): reserve stock for one order line. */
struct cmd_allocate {
	const char *orderid;  /* customer order */
	const char *sku;      /* product */
	int64_t qty;	      /* 1..SC_QTY_MAX */
	bool backorder;	      /* no stock: wait for it rather than fail */
	const char *customer; /* whose order (told what happens); or NULL */
	int32_t day;	      /* ordered on, days since 1970-01-01 (demand) */
};

/* ChangeBatchQuantity(ref, qty): the purchase turned out different. */
struct cmd_change_batch_quantity {
	const char *ref; /* batch reference */
	int64_t qty;	 /* new purchased quantity, 0..SC_QTY_MAX */
};

/* ImportResearch: a round of market research, decided and recorded. */
struct cmd_import_research {
	int32_t day;			 /* when, days since 1970-01-01 */
	int32_t threshold_bp;		 /* cheap when share >= this */
	const struct research_row *rows; /* checked by the handler */
	size_t n_rows;			 /* entries in rows */
};

/*
 * CreateToken(name, scopes, hash, now): record an API token.  The entry
 * point generated the secret and shows it once; only its hash travels.
 */
struct cmd_create_token {
	const char *name;    /* unique; token_name_valid() */
	unsigned scopes;     /* enum token_scope bits, non-zero */
	const uint8_t *hash; /* TOKEN_HASH_LEN bytes */
	int64_t now;	     /* unix seconds, from the sender */
};

/* RevokeToken(name, now): the token stops working; its row stays. */
struct cmd_revoke_token {
	const char *name; /* as created */
	int64_t now;	  /* unix seconds, from the sender */
};

/*
 * Deallocate(orderid, sku?): cancel an order line (@sku set) or every
 * line of the order (@sku NULL); their stock is freed for others and
 * they are not reallocated.
 */
struct cmd_deallocate {
	const char *orderid; /* customer order */
	const char *sku;     /* one line; NULL: all of the order's lines */
};

/*
 * CreateCustomer: a customer and its channels.  The entry point made
 * @secret (for a webhook) and shows it once; it is kept to sign with.
 */
struct cmd_create_customer {
	const char *id;		 /* the rule of every id */
	const char *name;	 /* 1..CUSTOMER_NAME_MAX bytes */
	const char *email;	 /* or NULL */
	const char *webhook_url; /* or NULL; then @secret is set */
	const uint8_t *secret;	 /* WEBHOOK_SECRET_LEN bytes, or NULL */
	int64_t now;		 /* unix seconds, from the sender */
	const char *segment;	 /* audience (segment_valid), or NULL */
};

/* ReplayDelivery: send a dead-lettered notice again, from attempt one. */
struct cmd_replay_delivery {
	int64_t id;  /* the delivery */
	int64_t now; /* unix milliseconds, from the sender */
};

/* SetLowStock(sku, threshold): alert below this many (0: never). */
struct cmd_set_low_stock {
	const char *sku;   /* product */
	int64_t threshold; /* 0..SC_QTY_MAX */
};

/*
 * AlertAgedBackorders(now, age): tell the stock team, once each, about
 * backorders waiting since before @now - @age_s (a timer sends it).
 */
struct cmd_alert_aged_backorders {
	int64_t now;   /* unix seconds, from the sender */
	int64_t age_s; /* older than this is too old, >= 1 */
};

/* PutIngredients: add or replace catalogue entries (domain/formula.h). */
struct cmd_put_ingredients {
	const struct ingredient *items; /* n entries, names unique */
	size_t n;			/* 1..INGREDIENTS_MAX */
};

/*
 * AddFormula: a new version of a scent's formula (the first one of a
 * scent becomes active at once; later ones by ActivateFormula or a
 * survey's promotion).
 */
struct cmd_add_formula {
	const struct formula *f; /* version ignored; the handler numbers it */
	const char *actor;	 /* who, for the log */
	int64_t now;		 /* unix seconds, from the sender */
};

/*
 * ActivateFormula(sku, version): make that version the active one;
 * version 0 reverts to the one active before the last change.
 */
struct cmd_activate_formula {
	const char *sku;    /* the scent */
	int32_t version;    /* >= 1, or 0: revert */
	const char *actor;  /* who */
	const char *reason; /* why, or NULL */
	int64_t now;	    /* unix seconds, from the sender */
};

/* CreateSurvey: a round comparing formula versions of one scent. */
struct cmd_create_survey {
	const char *sku;	   /* the scent */
	const char *name;	   /* for people */
	const char *const *labels; /* n variant labels, unique */
	const int32_t *versions;   /* n formula versions of the sku */
	size_t n;		   /* 2..SURVEY_VARIANTS_MAX */
	int64_t now;		   /* unix seconds, from the sender */
};

/* AddResponses: verdicts of respondents on a survey's variants. */
struct cmd_add_responses {
	int64_t survey;			 /* its id */
	const struct survey_response *r; /* n responses */
	size_t n;			 /* 1.. */
	size_t first_line;		 /* for errors: line of r[0], or 0 */
	bool dry_run;			 /* check only; write nothing */
};

/* PromoteWinner: the survey's clear winner becomes the active formula. */
struct cmd_promote_winner {
	int64_t survey;	    /* its id */
	const char *actor;  /* who */
	const char *reason; /* why, or NULL */
	int64_t now;	    /* unix seconds, from the sender */
};

/* ImportDemand: past orders from another system, into the rollup. */
struct cmd_import_demand {
	const struct demand_entry *e; /* n entries */
	size_t n;		      /* 1.. */
	size_t first_line;	      /* for errors: line of e[0], or 0 */
	bool dry_run;		      /* check only; write nothing */
};

/*
 * ImportTrack: a cinema cue track (domain/cue.h), checked by its rules
 * and stored with the JSON it came as (issue 16).
 */
struct cmd_import_track {
	const struct cue_track *track; /* parsed by the transport */
	const char *body;	       /* its JSON text, stored as sent */
	int64_t now;		       /* unix seconds, from the sender */
};

/*
 * ImportVenue: an auditorium (domain/venue.h) with its seat devices and
 * their cartridges, checked by venue_check() and stored (issue 16).
 */
struct cmd_import_venue {
	const struct venue *venue; /* parsed by the transport */
	const char *body;	   /* its JSON text, stored as sent */
	int64_t now;		   /* unix seconds, from the sender */
};

/* What one cartridge released in a show, as its gateway acknowledged. */
struct used_line {
	int32_t row, seat, slot; /* 0..25, 1..64, 1..16 */
	int64_t ul;		 /* 0..CARTRIDGE_MAX_UL */
};

/*
 * RecordShow: a show played in venue @venue_id; each line's microlitres
 * come off its cartridge's level (never below 0), a cartridge that falls
 * below the venue's threshold raises CartridgeLow, and the show is kept
 * with what it used per scent and batch.
 */
struct cmd_record_show {
	int64_t venue_id;
	int64_t track_id;	       /* 0: a track not stored */
	int64_t now;		       /* unix seconds */
	int64_t fires, acked, missed;  /* the scheduler's counts */
	int64_t seat_releases;	       /* acknowledged */
	const struct used_line *lines; /* n_lines, each cartridge once */
	size_t n_lines;		       /* 0..SHOW_LINES_MAX */
};

/* A cartridge to fill: with @sku, its own scent or a new one. */
struct refill_line {
	int32_t row, seat, slot;
	const char *sku;
};

/*
 * RefillCartridges: fill cartridges of venue @venue_id to capacity from
 * stock.  Their microlitres, per scent, make one order line of @orderid
 * (units of the venue's refill_unit_ul, rounded up) allocated as
 * Allocate allocates it (out of stock: OutOfStock, the stock team told);
 * the cartridges of a scent allocated are filled from its batch.  An
 * @orderid already placed for a scent fills nothing again.
 */
struct cmd_refill_cartridges {
	int64_t venue_id;
	const char *orderid;
	int32_t day;			 /* ordered on (demand) */
	const struct refill_line *lines; /* n_lines, each cartridge once */
	size_t n_lines;			 /* 1..SHOW_LINES_MAX */
};

/* Every slot of every seat: rows x seats x slots. */
enum { SHOW_LINES_MAX = 26 * 64 * 16 };

/* CartridgeLow: a show left a cartridge below its venue's threshold. */
struct ev_cartridge_low {
	const char *cartridge; /* "Screen 3 A1 slot 1", for people */
	const char *sku;       /* the scent in it */
	int64_t level_ul;      /* what is left */
	const char *batch;     /* filled from, or NULL */
};

/* BackorderWaiting: a line has waited for stock longer than it should. */
struct ev_backorder_waiting {
	const char *orderid; /* customer order */
	const char *sku;     /* product */
	int64_t qty;	     /* units */
};

/* ChangeBatchEta(ref, eta?): a shipment arrives at another date. */
struct cmd_change_batch_eta {
	const char *ref; /* batch reference */
	bool has_eta;	 /* false: in the warehouse now */
	int32_t eta;	 /* days since 1970-01-01 when has_eta */
};

/* EtaChanged: the batch holding this line arrives at another date. */
struct ev_eta_changed {
	const char *orderid;  /* customer order */
	const char *sku;      /* product */
	int64_t qty;	      /* units */
	const char *batchref; /* the batch, whose ETA the line now has */
};

/* LowStock: @sku's available units fell below its threshold. */
struct ev_low_stock {
	const char *sku;   /* product */
	int64_t available; /* units left to allocate */
};

/* Allocated: a line now has stock in batch @batchref. */
struct ev_allocated {
	const char *orderid;  /* customer order */
	const char *sku;      /* product */
	int64_t qty;	      /* units */
	const char *batchref; /* where the units come from */
};

/*
 * Deallocated: a line gave its stock back, because its batch shrank (the
 * handler then reallocates it) or because it was cancelled (it is not).
 */
struct ev_deallocated {
	const char *orderid;  /* customer order */
	const char *sku;      /* product */
	int64_t qty;	      /* units */
	const char *batchref; /* the batch it left */
	bool cancelled;	      /* Deallocate asked for it: stays freed */
};

/*
 * OutOfStock: no batch of @sku could take a line.  @orderid and @qty name
 * the line when one caused it (NULL / 0 in events stored before they
 * were recorded).
 */
struct ev_out_of_stock {
	const char *sku;     /* product */
	const char *orderid; /* the line that found no stock, or NULL */
	int64_t qty;	     /* its units, when @orderid is set */
};

/* Backordered: a line waits for stock of @sku (filled oldest first). */
struct ev_backordered {
	const char *orderid; /* customer order */
	const char *sku;     /* product */
	int64_t qty;	     /* units */
};

struct msg {
	enum msg_type type; /* selects the member of u */
	union {
		struct cmd_create_batch create_batch;
		struct cmd_allocate allocate;
		struct cmd_change_batch_quantity change_batch_quantity;
		struct cmd_import_research import_research;
		struct cmd_create_token create_token;
		struct cmd_revoke_token revoke_token;
		struct cmd_deallocate deallocate;
		struct cmd_create_customer create_customer;
		struct cmd_replay_delivery replay_delivery;
		struct cmd_set_low_stock set_low_stock;
		struct ev_low_stock low_stock;
		struct cmd_alert_aged_backorders alert_aged_backorders;
		struct ev_backorder_waiting backorder_waiting;
		struct cmd_change_batch_eta change_batch_eta;
		struct cmd_put_ingredients put_ingredients;
		struct cmd_add_formula add_formula;
		struct cmd_activate_formula activate_formula;
		struct cmd_create_survey create_survey;
		struct cmd_add_responses add_responses;
		struct cmd_promote_winner promote_winner;
		struct cmd_import_demand import_demand;
		struct cmd_import_track import_track;
		struct cmd_import_venue import_venue;
		struct cmd_record_show record_show;
		struct cmd_refill_cartridges refill_cartridges;
		struct ev_cartridge_low cartridge_low;
		struct ev_eta_changed eta_changed;
		struct ev_allocated allocated;
		struct ev_deallocated deallocated;
		struct ev_out_of_stock out_of_stock;
		struct ev_backordered backordered;
	} u; /* the payload */
};

/* True for commands, false for events. */
static inline bool msg_is_command(const struct msg *m)
{
	return m->type < MSG__FIRST_EVENT;
}

/* Stable name ("Allocate", "OutOfStock", ...), for logs. */
const char *msg_name(enum msg_type type);

#endif
