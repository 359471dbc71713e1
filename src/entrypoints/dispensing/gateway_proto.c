/*
 * entrypoints/dispensing/gateway_proto.c - encode and decode (the layout
 * is in docs/dispensing.md; gateway_proto.h says why it is so).
 */
#include "entrypoints/dispensing/gateway_proto.h"

#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"

/* Lengths by type: a message of another length is not ours. */
static size_t body_len(enum gw_type t)
{
	switch (t) {
	case GW_PING:
		return 8;
	case GW_PONG:
		return 24;
	case GW_FIRE:
		return 48;
	case GW_ACK:
		return 25;
	}
	return 0;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)(v >> 32));
	put32(p + 4, (uint32_t)v);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)get16(p) << 16 | get16(p + 2);
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

size_t gw_encode(const struct gw_msg *m, uint8_t *buf)
{
	uint8_t *b = buf + GW_HEADER_LEN;

	memset(buf, 0, GW_MAX_LEN);
	buf[0] = 'S'; /* GW_MAGIC, not a C string on the wire */
	buf[1] = 'C';
	buf[2] = 'G';
	buf[3] = '1';
	buf[4] = (uint8_t)m->type;
	buf[5] = m->flags;
	put32(buf + 8, m->show);
	put32(buf + 12, m->seq);
	switch (m->type) {
	case GW_PONG:
		put64(b + 16, m->t2_us);
		put64(b + 8, m->t1_us);
		__attribute__((fallthrough)); /* t0 first, as in PING */
	case GW_PING:
		put64(b, m->t0_us);
		break;
	case GW_FIRE:
		put64(b, m->fire_at_us);
		put64(b + 8, m->seats);
		b[16] = m->row;
		b[17] = m->slot;
		put16(b + 18, m->dose_ul);
		put32(b + 20, m->release_ms);
		put32(b + 24, m->ramp_ms);
		put32(b + 28, m->pulse_on_ms);
		put32(b + 32, m->pulse_off_ms);
		put16(b + 36, m->pulse_count);
		put32(b + 40, m->purge_ms);
		put32(b + 44, m->cue);
		break;
	case GW_ACK:
		put64(b, m->fired_at_us);
		put64(b + 8, m->seats);
		put64(b + 16, m->short_seats);
		b[24] = m->row;
		break;
	}
	return GW_HEADER_LEN + body_len(m->type);
}

bool gw_decode(const uint8_t *buf, size_t len, struct gw_msg *m)
{
	const uint8_t *b = buf + GW_HEADER_LEN;

	memset(m, 0, sizeof(*m));
	if (len < GW_HEADER_LEN || memcmp(buf, GW_MAGIC, 4) != 0)
		return false;
	m->type = (enum gw_type)buf[4];
	if (!body_len(m->type) || len != GW_HEADER_LEN + body_len(m->type))
		return false;
	m->flags = buf[5];
	m->show = get32(buf + 8);
	m->seq = get32(buf + 12);
	switch (m->type) {
	case GW_PONG:
		m->t1_us = get64(b + 8);
		m->t2_us = get64(b + 16);
		__attribute__((fallthrough));
	case GW_PING:
		m->t0_us = get64(b);
		break;
	case GW_FIRE:
		m->fire_at_us = get64(b);
		m->seats = get64(b + 8);
		m->row = b[16];
		m->slot = b[17];
		m->dose_ul = get16(b + 18);
		m->release_ms = get32(b + 20);
		m->ramp_ms = get32(b + 24);
		m->pulse_on_ms = get32(b + 28);
		m->pulse_off_ms = get32(b + 32);
		m->pulse_count = get16(b + 36);
		m->purge_ms = get32(b + 40);
		m->cue = get32(b + 44);
		break;
	case GW_ACK:
		m->fired_at_us = get64(b);
		m->seats = get64(b + 8);
		m->short_seats = get64(b + 16);
		m->row = b[24];
		break;
	}
	return m->type != GW_FIRE ||
	       (m->row < 26 && m->slot >= 1 && m->slot <= 16);
}

int64_t gw_offset(const struct gw_msg *pong, uint64_t t3_us, int64_t *rtt_us)
{
	int64_t t0 = (int64_t)pong->t0_us, t1 = (int64_t)pong->t1_us;
	int64_t t2 = (int64_t)pong->t2_us, t3 = (int64_t)t3_us;

	*rtt_us = (t3 - t0) - (t2 - t1);
	return ((t1 - t0) + (t2 - t3)) / 2;
}

int gw_resolve(const char *hostport, struct gw_addr *out, struct sc_err *err)
{
	struct addrinfo hints, *res = NULL;
	const char *colon = hostport ? strrchr(hostport, ':') : NULL;
	char host[256];
	size_t n;
	int rc;

	if (!colon || colon == hostport || !colon[1])
		return err_set(err, SC_EINVAL,
			       "gateway address '%s': host:port expected",
			       hostport ? hostport : "");
	n = (size_t)(colon - hostport);
	if (hostport[0] == '[' && n > 2 && hostport[n - 1] == ']') {
		hostport++; /* [v6]:port */
		n -= 2;
	}
	if (n >= sizeof(host))
		return err_set(err, SC_EINVAL, "gateway host name too long");
	memcpy(host, hostport, n);
	host[n] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	rc = getaddrinfo(host, colon + 1, &hints, &res);
	if (rc || !res)
		return err_set(err, SC_EINVAL, "gateway address '%s': %s",
			       hostport, gai_strerror(rc));
	memcpy(&out->sa, res->ai_addr, res->ai_addrlen);
	out->len = res->ai_addrlen;
	freeaddrinfo(res);
	return SC_OK;
}

int gw_socket(const struct gw_addr *addr, bool bind_it, struct sc_err *err)
{
	int fd = socket(addr->sa.ss_family,
			SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return (void)err_set(err, SC_EIO, "udp socket: %s",
				     strerror(errno)),
		       -1;
	if (bind_it &&
	    bind(fd, (const struct sockaddr *)&addr->sa, addr->len)) {
		(void)err_set(err, SC_EIO, "udp bind: %s", strerror(errno));
		(void)close(fd);
		return -1;
	}
	return fd;
}

bool gw_send(int fd, const struct gw_addr *to, const struct gw_msg *m)
{
	uint8_t buf[GW_MAX_LEN];
	size_t len = gw_encode(m, buf);

	return sendto(fd, buf, len, 0, (const struct sockaddr *)&to->sa,
		      to->len) == (ssize_t)len;
}

int gw_fire(const struct gw_addr *to, const struct gw_msg *fire,
	    const int64_t times_us[2], struct gw_msg *ack, struct sc_err *err)
{
	int64_t start = (int64_t)clock_mono_us(), next = start;
	struct pollfd pfd = {gw_socket(to, false, err), POLLIN, 0};
	int rc = SC_EIO;

	if (pfd.fd < 0)
		return SC_EIO;
	while (rc) {
		int64_t now = (int64_t)clock_mono_us();
		uint8_t buf[GW_MAX_LEN + 1];
		ssize_t n;

		if (now - start > times_us[1])
			break;
		if (now >= next) {
			(void)gw_send(pfd.fd, to, fire);
			next = now + times_us[0];
		}
		(void)poll(&pfd, 1, (int)((next - now) / 1000) + 1);
		while ((n = recv(pfd.fd, buf, sizeof(buf), 0)) >= 0)
			if (gw_decode(buf, (size_t)n, ack) &&
			    ack->type == GW_ACK && ack->show == fire->show &&
			    ack->seq == fire->seq &&
			    !(ack->flags & GW_FLAG_QUEUED))
				rc = SC_OK;
	}
	(void)close(pfd.fd);
	return rc ? err_set(err, SC_EIO, "the gateway did not answer") : SC_OK;
}

void gw_block_stops(sigset_t *during)
{
	sigset_t block;

	(void)sigemptyset(&block);
	(void)sigaddset(&block, SIGTERM);
	(void)sigaddset(&block, SIGINT);
	(void)sigprocmask(SIG_BLOCK, &block, during);
}

int gw_wait(struct pollfd *fds, size_t n, int64_t wake_us,
	    const sigset_t *during, struct sc_err *err)
{
	int64_t now = (int64_t)clock_mono_us();
	int64_t left = wake_us > now ? wake_us - now : 0;
	struct timespec ts = {(time_t)(left / 1000000),
			      (long)(left % 1000000) * 1000};

	for (size_t i = 0; i < n; i++)
		fds[i].revents = 0;
	if (ppoll(fds, n, &ts, during) < 0 && errno != EINTR)
		return err_set(err, SC_EIO, "poll: %s", strerror(errno));
	return SC_OK;
}
