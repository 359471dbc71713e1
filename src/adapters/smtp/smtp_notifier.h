/*
 * adapters/smtp/smtp_notifier.h - the notifier port over SMTP (libcurl).
 *
 * One plain-text mail per notification: From FROM_EMAIL, To the
 * destination, Subject "allocation service notification", the message as
 * the body.  Connect timeout SMTP_CONNECT_TIMEOUT_S, whole transfer
 * SMTP_TIMEOUT_S; signals are never used (CURLOPT_NOSIGNAL), so it is
 * safe in threads.  Header values with CR, LF or other control bytes are
 * refused (no header injection).  Call curl_global_init() (bootstrap
 * does) before the first notifier is made.
 */
#ifndef SCENTS_ADAPTERS_SMTP_SMTP_NOTIFIER_H
#define SCENTS_ADAPTERS_SMTP_SMTP_NOTIFIER_H

struct notifier;
struct sc_err;

#define SMTP_CONNECT_TIMEOUT_S 5
#define SMTP_TIMEOUT_S	       15
#define SMTP_SUBJECT	       "allocation service notification"

/*
 * A notifier sending through @url ("smtp://host:port") from @from.
 * SC_EINVAL for a bad URL or sender, SC_ENOMEM.
 */
int smtp_notifier_new(const char *url, const char *from,
		      struct notifier **out /* OUT */, struct sc_err *err);

/*
 * Verify the server's TLS certificate (STARTTLS or smtps) against the CA
 * bundle at @path instead of the system's: a private mail relay.
 * SC_EINVAL when the path is too long.
 */
int smtp_notifier_set_ca_file(struct notifier *n, const char *path,
			      struct sc_err *err);

#endif
