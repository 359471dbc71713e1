/*
 * entrypoints/dispensing/gatewaysim.c - `scents gatewaysim`: a room's
 * gateways and seat devices in one process, for tests, the benchmark
 * and a newcomer's first show (docs/dispensing.md).
 *
 * It listens on every gateway address of a venue file, delays each
 * datagram both ways by the latency you set plus a uniform jitter and
 * drops the share you set (a seeded generator: a run can be repeated),
 * fires each FIRE at its timestamp on its own clock (which may be set
 * off ours, so the scheduler's offset estimate is exercised), takes the
 * dose from each seat's cartridge, and acknowledges: the seats that
 * released and those whose cartridge was too low.  A repeated FIRE is
 * acknowledged again with the first answer, never fired twice.  Each
 * fire is a JSON line in the log; the levels are written at exit.
 */
#include <errno.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "entrypoints/dispensing/gateway_proto.h"
#include "entrypoints/dispensing/player.h"

/* A datagram on its way, in either direction. */
struct in_flight {
	uint64_t due_us; /* our clock */
	int fd;		 /* the gateway's socket */
	struct gw_addr peer;
	struct gw_msg m;
	bool outgoing; /* to the scheduler; else to us */
};

/* What a FIRE of the current show became. */
struct fired {
	bool seen; /* queued or done */
	bool done; /* fired: ack holds the answer */
	int fd;	   /* where it came in */
	struct gw_addr peer;
	struct gw_msg fire, ack;
};

struct sim {
	const struct venue *v;
	const struct sim_opts *o;
	struct pollfd fds[VENUE_GATEWAYS_MAX];
	struct in_flight *q; /* n_q, unordered: a few hundred at most */
	size_t n_q, cap_q;
	struct fired *f; /* by seq, for show `show` */
	size_t cap_f;
	uint32_t show;
	uint64_t rng;
	int64_t level[CUE_MAP_SEATS][CUE_PALETTE_MAX];
	int64_t used[CUE_MAP_SEATS][CUE_PALETTE_MAX];
	const struct cartridge *cart[CUE_MAP_SEATS][CUE_PALETTE_MAX];
	int64_t fires, dropped;
};

/* xorshift64*: quick, seeded, enough for drops and jitter. */
static uint64_t draw(struct sim *s)
{
	s->rng ^= s->rng >> 12;
	s->rng ^= s->rng << 25;
	s->rng ^= s->rng >> 27;
	return s->rng * UINT64_C(2685821657736338717);
}

static uint64_t gw_now(const struct sim *s)
{
	return clock_mono_us() + (uint64_t)s->o->clock_offset_us;
}

/* Queue @m (lost, maybe) to arrive after the latency and jitter. */
static int post(struct sim *s, const struct in_flight *d)
{
	struct in_flight *x;

	if ((int64_t)(draw(s) % 1000000) < s->o->loss_ppm) {
		s->dropped++;
		return SC_OK;
	}
	if (s->n_q == s->cap_q) {
		size_t cap = s->cap_q ? s->cap_q * 2 : 64;
		void *q = mem_realloc(s->q, cap * sizeof(*s->q));

		if (!q)
			return SC_ENOMEM;
		s->q = q;
		s->cap_q = cap;
	}
	x = &s->q[s->n_q++];
	*x = *d;
	x->due_us = clock_mono_us() + (uint64_t)s->o->latency_us +
		    (s->o->jitter_us ? draw(s) % (uint64_t)(s->o->jitter_us + 1)
				     : 0);
	return SC_OK;
}

static struct fired *slot_for(struct sim *s, uint32_t seq)
{
	if (seq >= s->cap_f) {
		size_t cap = s->cap_f ? s->cap_f : 1024;
		void *f;

		while (cap <= seq)
			cap *= 2;
		f = mem_realloc(s->f, cap * sizeof(*s->f));
		if (!f)
			return NULL;
		memset((struct fired *)f + s->cap_f, 0,
		       (cap - s->cap_f) * sizeof(*s->f));
		s->f = f;
		s->cap_f = cap;
	}
	return &s->f[seq];
}

static void log_fire(struct sim *s, const struct fired *f, int64_t late_us)
{
	json_t *seats = json_array(), *dry = json_array(), *j;
	char *line;

	for (int b = 0; b < CUE_SEATS_MAX; b++) {
		if (f->ack.seats >> b & 1)
			(void)json_array_append_new(seats, json_integer(b + 1));
		if (f->ack.short_seats >> b & 1)
			(void)json_array_append_new(dry, json_integer(b + 1));
	}
	j = json_pack("{s:I,s:I,s:I,s:s#,s:i,s:i,s:o,s:o,s:I,"
		      "s:I,s:I}",
		      "show", (json_int_t)s->show, "seq",
		      (json_int_t)f->fire.seq, "cue", (json_int_t)f->fire.cue,
		      "row", &"ABCDEFGHIJKLMNOPQRSTUVWXYZ"[f->fire.row], (int)1,
		      "slot", (int)f->fire.slot, "dose_ul",
		      (int)f->fire.dose_ul, "seats", seats, "short", dry,
		      "fire_at_us", (json_int_t)f->fire.fire_at_us, "fired_us",
		      (json_int_t)f->ack.fired_at_us, "late_us",
		      (json_int_t)late_us);
	line = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (line)
		(void)fprintf(s->o->log, "%s\n", line);
	mem_free(line);
	json_decref(j);
}

/* Release @f now at each of its seats that holds the dose. */
static int fire_now(struct sim *s, struct fired *f)
{
	const struct gw_msg *m = &f->fire;
	uint64_t now = gw_now(s);
	struct in_flight d;

	f->ack = (struct gw_msg){.type = GW_ACK,
				 .show = m->show,
				 .seq = m->seq,
				 .row = m->row,
				 .fired_at_us = now};
	for (int b = 0; b < CUE_SEATS_MAX; b++) {
		size_t x = CUE_SEAT_INDEX(m->row, b + 1);
		int64_t *lvl = &s->level[x][m->slot - 1];

		if (!(m->seats >> b & 1))
			continue;
		if (s->cart[x][m->slot - 1] && *lvl >= m->dose_ul) {
			*lvl -= m->dose_ul;
			s->used[x][m->slot - 1] += m->dose_ul;
			f->ack.seats |= UINT64_C(1) << b;
		} else {
			f->ack.short_seats |= UINT64_C(1) << b;
		}
	}
	f->done = true;
	s->fires++;
	if (s->o->log)
		log_fire(s, f,
			 m->fire_at_us ? (int64_t)(now - m->fire_at_us) : 0);
	d = (struct in_flight){0, f->fd, f->peer, f->ack, true};
	return post(s, &d);
}

/* A datagram reached the gateway after its flight. */
static int arrive(struct sim *s, const struct in_flight *d)
{
	struct in_flight r = *d;
	struct fired *f;

	r.outgoing = true;
	switch (d->m.type) {
	case GW_PING:
		r.m.type = GW_PONG;
		/* t2 is when it leaves the gateway; the flight back (the
		 * delay post() adds) is network, as on the way in. */
		r.m.t1_us = gw_now(s);
		r.m.t2_us = r.m.t1_us;
		return post(s, &r);
	case GW_FIRE:
		if (d->m.show != s->show) {
			/* A new show: the old one's sequence numbers go. */
			s->show = d->m.show;
			if (s->f)
				memset(s->f, 0, s->cap_f * sizeof(*s->f));
		}
		f = slot_for(s, d->m.seq);
		if (!f)
			return SC_ENOMEM;
		if (f->done) {
			r.m = f->ack;
			r.m.flags = GW_FLAG_DUPLICATE;
			return post(s, &r);
		}
		if (!f->seen)
			*f = (struct fired){true,    false, d->fd,
					    d->peer, d->m,  {0}};
		r.m = (struct gw_msg){.type = GW_ACK,
				      .flags = GW_FLAG_QUEUED,
				      .show = d->m.show,
				      .seq = d->m.seq,
				      .row = d->m.row,
				      .fired_at_us = d->m.fire_at_us};
		return post(s, &r);
	default:
		return SC_OK; /* not for a gateway */
	}
}

static int receive(struct sim *s, int fd)
{
	uint8_t buf[GW_MAX_LEN + 1];
	struct in_flight d;

	for (;;) {
		ssize_t n;

		memset(&d, 0, sizeof(d));
		d.peer.len = sizeof(d.peer.sa);
		n = recvfrom(fd, buf, sizeof(buf), 0,
			     (struct sockaddr *)&d.peer.sa, &d.peer.len);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? SC_OK
								 : SC_EIO;
		d.fd = fd;
		if (gw_decode(buf, (size_t)n, &d.m) && post(s, &d))
			return SC_ENOMEM;
	}
}

/* Deliver what is due, fire what is due; the next moment to wake. */
static int step(struct sim *s, uint64_t *next_us)
{
	uint64_t now = clock_mono_us();
	int rc = SC_OK;

	for (size_t i = 0; !rc && i < s->n_q;) {
		struct in_flight d = s->q[i];

		if (d.due_us > now) {
			i++;
			continue;
		}
		s->q[i] = s->q[--s->n_q];
		if (d.outgoing) {
			(void)gw_send(d.fd, &d.peer, &d.m);
		} else {
			rc = arrive(s, &d);
		}
	}
	*next_us = now + 100000;
	for (size_t i = 0; !rc && i < s->cap_f; i++) {
		struct fired *f = &s->f[i];
		uint64_t at;

		if (!f->seen || f->done)
			continue;
		at = f->fire.fire_at_us
			     ? f->fire.fire_at_us -
				       (uint64_t)s->o->clock_offset_us
			     : 0;
		if (at <= now)
			rc = fire_now(s, f);
		else if (at < *next_us)
			*next_us = at;
	}
	/* After the fires: their answers were queued just now. */
	for (size_t i = 0; i < s->n_q; i++)
		if (s->q[i].due_us < *next_us)
			*next_us = s->q[i].due_us;
	return rc;
}

static void write_levels(struct sim *s)
{
	json_t *arr = json_array();

	for (size_t x = 0; x < CUE_MAP_SEATS; x++)
		for (int k = 0; k < CUE_PALETTE_MAX; k++) {
			const struct cartridge *c = s->cart[x][k];
			char seat[8];

			if (!c)
				continue;
			(void)snprintf(seat, sizeof(seat), "%c%d",
				       'A' + (int)(x / CUE_SEATS_MAX),
				       (int)(x % CUE_SEATS_MAX) + 1);
			(void)json_array_append_new(
				arr,
				json_pack("{s:s,s:i,s:s,s:s?,s:I,s:I}", "seat",
					  seat, "slot", k + 1, "sku", c->sku,
					  "batch", c->batch, "level_ul",
					  (json_int_t)s->level[x][k], "used_ul",
					  (json_int_t)s->used[x][k]));
		}
	json_t *j =
		json_pack("{s:I,s:I,s:o}", "fires", (json_int_t)s->fires,
			  "dropped", (json_int_t)s->dropped, "cartridges", arr);

	if (!j || json_dump_file(j, s->o->levels_path, JSON_INDENT(1)))
		log_msg(LOG_WARN, "gatewaysim: could not write %s",
			s->o->levels_path);
	json_decref(j);
}

static int open_gateways(struct sim *s, struct sc_err *err)
{
	for (size_t g = 0; g < s->v->n_gateways; g++) {
		struct gw_addr a;

		s->fds[g].fd = -1;
		if (gw_resolve(s->v->gateways[g].address, &a, err))
			return SC_EINVAL;
		s->fds[g].fd = gw_socket(&a, true, err);
		if (s->fds[g].fd < 0)
			return err_set(err, SC_EIO, "gateway %s: %s",
				       s->v->gateways[g].address, err->msg);
		s->fds[g].events = POLLIN;
	}
	return SC_OK;
}

/* Each seat's cartridges, their levels followed from here. */
static void load_cartridges(struct sim *s, const struct venue *v)
{
	for (size_t i = 0; i < v->n_devices; i++)
		for (size_t k = 0; k < v->devices[i].n_slots; k++) {
			const struct cartridge *c = &v->devices[i].slots[k];
			size_t x = CUE_SEAT_INDEX(v->devices[i].row,
						  v->devices[i].seat);

			s->cart[x][c->slot - 1] = c;
			s->level[x][c->slot - 1] = c->level_ul;
		}
}

/* Serve until stopped (gw_wait: a stop is seen at once). */
static int serve(struct sim *s, struct sc_err *err)
{
	size_t ng = s->v->n_gateways;
	sigset_t during;
	int rc = SC_OK;

	gw_block_stops(&during);
	while (!rc && !*s->o->stop) {
		uint64_t next;

		rc = step(s, &next);
		if (!rc)
			rc = gw_wait(s->fds, ng, (int64_t)next, &during, err);
		for (size_t g = 0; !rc && g < ng; g++)
			if (s->fds[g].revents & POLLIN)
				rc = receive(s, s->fds[g].fd);
	}
	(void)sigprocmask(SIG_SETMASK, &during, NULL);
	return rc;
}

int gatewaysim_run(const struct venue *v, const struct sim_opts *o,
		   struct sc_err *err)
{
	struct sim *s = mem_calloc(1, sizeof(*s));
	int rc;

	if (!s)
		return err_set(err, SC_ENOMEM, "out of memory");
	s->v = v;
	s->o = o;
	s->rng = o->seed ? o->seed : UINT64_C(0x9e3779b97f4a7c15);
	for (size_t g = 0; g < VENUE_GATEWAYS_MAX; g++)
		s->fds[g].fd = -1;
	load_cartridges(s, v);
	rc = v->n_gateways ? open_gateways(s, err)
			   : err_set(err, SC_EINVAL,
				     "the venue has no gateways to simulate");
	if (!rc)
		rc = serve(s, err);
	if (o->levels_path)
		write_levels(s);
	if (o->log)
		(void)fflush(o->log);
	for (size_t g = 0; g < v->n_gateways; g++)
		if (s->fds[g].fd >= 0)
			(void)close(s->fds[g].fd);
	if (rc == SC_ENOMEM)
		(void)err_set(err, rc, "out of memory");
	mem_free(s->q);
	mem_free(s->f);
	mem_free(s);
	return rc;
}
