/*
 * adapters/log/log_adapters.h - notifier and publisher that write to the
 * log.  The defaults when SMTP_URL or REDIS_URL is unset, so that nothing
 * the system wants to say is silently dropped.
 */
#ifndef SCENTS_ADAPTERS_LOG_LOG_ADAPTERS_H
#define SCENTS_ADAPTERS_LOG_LOG_ADAPTERS_H

struct notifier;
struct publisher;
struct sc_err;

/* A notifier logging each message at info level.  SC_ENOMEM. */
int log_notifier_new(struct notifier **out /* OUT */, struct sc_err *err);

/* A publisher logging each event at info level.  SC_ENOMEM. */
int log_publisher_new(struct publisher **out /* OUT */, struct sc_err *err);

#endif
