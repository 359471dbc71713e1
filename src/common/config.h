/*
 * common/config.h - the service's settings (design.md section 7).
 *
 * Read once from the environment at start-up and validated before
 * anything is served; command-line flags then override single fields.
 * Nothing else in the program calls getenv().
 *
 *   DATABASE_URL        sqlite:PATH | memory: |      sqlite:var/scents.db
 *                       postgresql://u:p@host:port/db
 *   PG_LOCKING          optimistic|row (PostgreSQL)  optimistic
 *   HTTP_HOST/HTTP_PORT listen address               127.0.0.1 / 5005
 *   HTTP_THREADS        server threads (1..64)        4
 *   REDIS_URL           redis://host:port            unset (no messages)
 *   REDIS_MODE          pubsub|streams               pubsub
 *   SMTP_URL            smtp[s]://[u:p@]host:port    unset (mail to log)
 *   SMTP_CA_FILE        CA bundle for SMTP TLS       unset (system CAs)
 *   STOCK_EMAIL         OutOfStock recipient         stock@scents.example
 *   FROM_EMAIL          sender                       allocations@example.com
 *   LOG_LEVEL           debug|info|warn|error        info
 *   LOG_FORMAT          text|json                    text
 *   NOTIFY_SOCKET       set by systemd (Type=notify)  unset
 *   SQLITE_SYNCHRONOUS  FULL|NORMAL                  FULL
 *   SQLITE_GROUP_COMMIT on|off (FULL: share fsyncs)  on
 *   SQLITE_BATCH        on|off (one batched writer)  on
 */
#ifndef SCENTS_COMMON_CONFIG_H
#define SCENTS_COMMON_CONFIG_H

struct sc_err;

#define CONFIG_STR_MAX 512

struct config {
	char database_url[CONFIG_STR_MAX]; /* store to open */
	char http_host[CONFIG_STR_MAX];	   /* address to listen on */
	int http_port;			   /* 0..65535; 0 = ephemeral */
	int http_threads;		   /* server threads, 1..64 */
	char redis_url[CONFIG_STR_MAX];	   /* "" = no external messages */
	int redis_streams; /* 1: Redis Streams and a consumer group */
	char smtp_url[CONFIG_STR_MAX];	   /* "" = notifications to log */
	char smtp_ca_file[CONFIG_STR_MAX]; /* "" = the system's CAs */
	char stock_email[CONFIG_STR_MAX];  /* OutOfStock recipient */
	char from_email[CONFIG_STR_MAX];   /* notification sender */
	int log_level;			   /* enum log_level */
	int log_json;			   /* 1: one JSON object per line */
	int sqlite_synchronous_full;	   /* 1 FULL (durable), 0 NORMAL */
	int sqlite_group_commit;	   /* 1: commits share fsyncs */
	int sqlite_batch;  /* 1: commands run in batches by one writer */
	int open_existing; /* 1: the store must exist (reads never create) */
	int pg_row_lock;   /* PG_LOCKING=row: lock the product on every load */
	char notify_socket[CONFIG_STR_MAX]; /* systemd's NOTIFY_SOCKET, or "" */
	int webhook_timeout_ms;		    /* one webhook POST, whole */
	int delivery_max_attempts;	    /* a notice is dead after these */
	int delivery_backoff_ms;	    /* first retry's ceiling */
	int stock_alert_window_s;	    /* one stock-team mail per kind
					       and sku in this window */
	int backorder_alert_age_s;	    /* tell the stock team of older
					       backorders; 0: never */
};

/* Looks a variable up; NULL when unset.  getenv() in production. */
typedef const char *config_getenv_fn(void *ctx, const char *name);

/* Load from the process environment.  SC_EINVAL names the variable. */
int config_load(struct config *out, struct sc_err *err);

/* Load through @get(@ctx, name), for tests. */
int config_load_from(struct config *out, config_getenv_fn *get, void *ctx,
		     struct sc_err *err);

/* Validate and set DATABASE_URL-style @url into @c (flag overrides). */
int config_set_database_url(struct config *c, const char *url,
			    struct sc_err *err);

#endif
