/*
 * entrypoints/dispensing/gateway_proto.h - the scheduler <-> gateway
 * protocol (issue 16; docs/dispensing.md "Gateway protocol"): UDP
 * datagrams, big-endian, one message each.
 *
 * Every message starts with a 16-byte header: "SCG1", the type, flags,
 * two reserved bytes, the show (a random number per run of the
 * scheduler: a gateway keeps sequence numbers per show) and a sequence
 * number.  PING carries the sender's clock; PONG echoes it with the
 * gateway's receive and send times (NTP's four timestamps, the fourth
 * taken on arrival), from which the scheduler estimates the gateway's
 * clock offset.  FIRE asks for one release at some seats of one row at a
 * time on the gateway's clock (0: at once); the gateway answers at once
 * with an ACK flagged QUEUED (so the scheduler stops resending), and
 * when it has fired with an ACK of the same sequence number saying when
 * it fired and which seats released or fell short.  A FIRE repeated
 * (the scheduler resends until answered, within the cue's window) is
 * answered again, never fired twice.
 */
#ifndef SCENTS_ENTRYPOINTS_DISPENSING_GATEWAY_PROTO_H
#define SCENTS_ENTRYPOINTS_DISPENSING_GATEWAY_PROTO_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct sc_err;

#define GW_MAGIC      "SCG1"
#define GW_HEADER_LEN 16
#define GW_MAX_LEN    64 /* the longest message, FIRE */

enum gw_type { GW_PING = 1, GW_PONG = 2, GW_FIRE = 3, GW_ACK = 4 };

#define GW_FLAG_DUPLICATE 1 /* ACK: this FIRE had been acknowledged */
#define GW_FLAG_QUEUED	  2 /* ACK: received, will fire at fire_at_us */

/* A message, decoded.  Fields beyond the header by type. */
struct gw_msg {
	enum gw_type type;
	uint8_t flags;
	uint32_t show;
	uint32_t seq;
	/* PING, PONG */
	uint64_t t0_us, t1_us, t2_us;
	/* FIRE */
	uint64_t fire_at_us; /* gateway clock; 0: now */
	uint64_t seats;	     /* bit s-1: seat s of the row (FIRE, ACK) */
	uint8_t row;	     /* 0..25 (FIRE, ACK) */
	uint8_t slot;	     /* 1..16 */
	uint16_t dose_ul;
	uint32_t release_ms, ramp_ms, pulse_on_ms, pulse_off_ms, purge_ms;
	uint16_t pulse_count;
	uint32_t cue; /* index, for logs */
	/* ACK */
	uint64_t fired_at_us; /* gateway clock */
	uint64_t short_seats; /* cartridge lacked the dose: nothing released */
};

/* Encode @m into @buf (GW_MAX_LEN bytes); its length. */
size_t gw_encode(const struct gw_msg *m, uint8_t *buf);

/* Decode @len bytes; false for anything not a whole message of ours. */
bool gw_decode(const uint8_t *buf, size_t len, struct gw_msg *m);

/*
 * The offset of a gateway's clock from ours, from one PING/PONG: t0 we
 * sent, t1 it received, t2 it sent, t3 we received.  *@rtt_us is the
 * round trip less the gateway's own time.
 */
int64_t gw_offset(const struct gw_msg *pong, uint64_t t3_us, int64_t *rtt_us);

/* A gateway's UDP address, resolved. */
struct gw_addr {
	struct sockaddr_storage sa;
	socklen_t len;
};

/* Resolve "host:port" (IPv4, IPv6 in brackets, or a name) into @out. */
int gw_resolve(const char *hostport, struct gw_addr *out, struct sc_err *err);

/* A non-blocking UDP socket of @addr's family, bound to it when
 * @bind_it (a gateway); -1 and @err on failure. */
int gw_socket(const struct gw_addr *addr, bool bind_it, struct sc_err *err);

/* Send @m to @to on @fd; false when the kernel refused it. */
bool gw_send(int fd, const struct gw_addr *to, const struct gw_msg *m);

/*
 * One FIRE sent to @to and answered: resent every @retry_us until the
 * fired ACK (a QUEUED one only stops nothing) or @timeout_us; *@ack gets
 * it.  SC_EIO when no answer came.  For a single release (VR), where
 * a show would keep many in flight.
 */
int gw_fire(const struct gw_addr *to, const struct gw_msg *fire,
	    const int64_t times_us[2], struct gw_msg *ack, struct sc_err *err);

/*
 * The wait of both ends' loops.  gw_block_stops() blocks SIGINT and
 * SIGTERM outside waits (*@during: the mask to wait with, and to put
 * back after); gw_wait() waits for @fds until @wake_us on our clock,
 * with nanosecond timeouts, stops deliverable only meanwhile, so a stop
 * is never lost between the check and the wait.  SC_EIO on a poll
 * error; a signal is not one.
 */
void gw_block_stops(sigset_t *during);
int gw_wait(struct pollfd *fds, size_t n, int64_t wake_us,
	    const sigset_t *during, struct sc_err *err);

#endif
