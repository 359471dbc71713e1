/*
 * bench/ceiling.c - the machine's HTTP ceiling: libmicrohttpd with the
 * same thread model as `scents serve` (internal thread pool, epoll, same
 * limits), answering every request with a fixed small JSON body after
 * reading its body.  Benchmarks report scents as a ratio to this, measured
 * in the same run.  Usage: ceiling PORT THREADS
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char body[] = "{\"batchref\":\"batch-001\"}";

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c,
				  const char *url, const char *method,
				  const char *version, const char *upload,
				  size_t *upload_size, void **con_cls)
{
	struct MHD_Response *r;
	enum MHD_Result ok;
	static int first;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload;
	if (!*con_cls) {
		*con_cls = &first; /* request seen */
		return MHD_YES;
	}
	if (*upload_size) {
		*upload_size = 0; /* read and drop the body */
		return MHD_YES;
	}
	r = MHD_create_response_from_buffer(sizeof(body) - 1, (void *)body,
					    MHD_RESPMEM_PERSISTENT);
	(void)MHD_add_response_header(r, "Content-Type", "application/json");
	ok = MHD_queue_response(c, 202, r);
	MHD_destroy_response(r);
	return ok;
}

int main(int argc, char **argv)
{
	struct MHD_Daemon *d;
	sigset_t stop;
	int sig;

	if (argc != 3) {
		fprintf(stderr, "usage: ceiling PORT THREADS\n");
		return 2;
	}
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	d = MHD_start_daemon(
		MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO,
		(uint16_t)atoi(argv[1]), NULL, NULL, on_request, NULL,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)atoi(argv[2]),
		MHD_OPTION_CONNECTION_LIMIT, 1024u,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT, 256u,
		MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	if (!d) {
		fprintf(stderr, "ceiling: cannot listen\n");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	sigwait(&stop, &sig);
	MHD_stop_daemon(d);
	return 0;
}
