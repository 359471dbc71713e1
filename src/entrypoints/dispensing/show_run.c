/*
 * entrypoints/dispensing/show_run.c - the show scheduler (`scents
 * show`): plays a fire plan (domain/show.h) against a room's gateways.
 *
 * One thread, one loop: read the time source (a start command, or LTC
 * audio), ask the chaser where the title is, send each FIRE `lead_us`
 * before its planned time stamped with that time on the gateway's clock
 * (so network delay and its jitter are absorbed, and a lost datagram
 * can be resent in time), resend every `retry_us` until acknowledged or
 * the cue's window closes, and read PONGs and ACKs.  It sleeps in ppoll
 * until the next thing to do, with nanosecond timeouts: the fire-time
 * error is then the kernel's timer slack plus the clock-offset estimate,
 * which the benchmark measures against the machine's timer resolution.
 *
 * Why a separate process rather than a thread of `serve`: a show must
 * not stall behind a request burst or a slow fsync, and a projection
 * booth runs it on its own machine next to the sound processor; it
 * reads the track and venue from files or the store and reports what
 * it did (consumption goes back through the bus, cli/dispensing_cmds.c).
 *
 * Clock offset: each gateway is pinged eight times at start and once a
 * second; the offset of the sample with the smallest round trip among
 * the last eight is used (NTP's clock filter in miniature: the shortest
 * round trip has the least queueing asymmetry).
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/arena.h"
#include "common/clock.h"
#include "common/err.h"
#include "common/log.h"
#include "common/mem.h"
#include "entrypoints/dispensing/gateway_proto.h"
#include "entrypoints/dispensing/ltc_in.h"
#include "entrypoints/dispensing/player.h"

#define SYNC_SAMPLES  8
#define SYNC_EVERY_US 1000000
#define GRACE_US      200000 /* for a fired answer after the window */

enum fire_state { F_PENDING, F_SENT, F_ACKED, F_MISSED };

/* A fire's fate. */
struct fire_run {
	enum fire_state state;
	int64_t planned_local; /* when it should fire, our clock */
	int64_t deadline;      /* stop resending, our clock */
	int64_t next_retry;
	int32_t release_ms;
	int32_t tries;
	bool queued; /* the gateway has it: resend only for the answer */
	uint64_t fire_at_gw; /* as sent */
	int64_t error_us;    /* actual - planned */
	uint64_t seats, short_seats;
};

/* A gateway as the scheduler sees it. */
struct gw_state {
	struct gw_addr addr;
	int64_t offset[SYNC_SAMPLES], rtt[SYNC_SAMPLES];
	size_t n_samples, next_sample;
	int64_t best_offset; /* in use */
	bool synced;
	int64_t next_ping;
	uint32_t ping_seq;
};

struct player {
	const struct cue_track *t;
	const struct venue *v;
	const struct show_plan *p;
	const struct show_opts *o;
	struct fire_run *runs;
	struct gw_state *gws;
	struct pollfd *fds; /* one per gateway */
	uint32_t show;
	size_t cursor; /* first fire not yet resolved or sent */
	size_t *inflight;
	size_t n_inflight;
	struct chase chase;
	struct ltc_in ltc;
	bool ltc_open, ltc_eof;
	int64_t started;
	struct show_result *res;
};

static int64_t now_us(void)
{
	return (int64_t)clock_mono_us();
}

static void sample(struct gw_state *g, const struct gw_msg *pong, int64_t t3)
{
	int64_t rtt, off = gw_offset(pong, (uint64_t)t3, &rtt);
	int64_t best = INT64_MAX;

	g->offset[g->next_sample] = off;
	g->rtt[g->next_sample] = rtt;
	g->next_sample = (g->next_sample + 1) % SYNC_SAMPLES;
	if (g->n_samples < SYNC_SAMPLES)
		g->n_samples++;
	for (size_t i = 0; i < g->n_samples; i++)
		if (g->rtt[i] < best) {
			best = g->rtt[i];
			g->best_offset = g->offset[i];
		}
	g->synced = true;
}

static void ping(struct player *pl, size_t g)
{
	struct gw_msg m = {.type = GW_PING,
			   .show = pl->show,
			   .seq = ++pl->gws[g].ping_seq,
			   .t0_us = (uint64_t)now_us()};

	(void)gw_send(pl->fds[g].fd, &pl->gws[g].addr, &m);
	pl->gws[g].next_ping = now_us() + SYNC_EVERY_US;
}

/* Seat numbers of a row mask, as a JSON array. */
static json_t *seat_list(uint64_t mask)
{
	json_t *a = json_array();

	for (int b = 0; a && b < CUE_SEATS_MAX; b++)
		if (mask >> b & 1)
			(void)json_array_append_new(a, json_integer(b + 1));
	return a;
}

/* Frame @frame of @t as HH:MM:SS:FF (non-drop, whole frames). */
static void timecode_of(const struct cue_track *t, int64_t frame, char *buf,
			size_t n)
{
	int64_t fps = (t->rate_num + t->rate_den - 1) / t->rate_den;
	int64_t s = frame / fps;

	(void)snprintf(buf, n, "%02lld:%02lld:%02lld:%02lld",
		       (long long)(s / 3600), (long long)(s / 60 % 60),
		       (long long)(s % 60), (long long)(frame % fps));
}

static void log_fire(struct player *pl, size_t i)
{
	const struct fire *f = &pl->p->fires[i];
	const struct fire_run *r = &pl->runs[i];
	static const char *const names[] = {"pending", "unacked", "acked",
					    "missed"};
	json_t *j;
	char *line;

	if (!pl->o->log)
		return;
	j = json_pack("{s:s,s:s#,s:o,s:i,s:s,s:i,s:s,s:I,s:I,s:i,s:I,s:o,"
		      "s:b}",
		      "cue", pl->t->cues[f->cue].id, "row",
		      &"ABCDEFGHIJKLMNOPQRSTUVWXYZ"[f->row], (int)1, "seats",
		      seat_list(f->seats), "slot", (int)f->slot, "sku", f->sku,
		      "latency_ms", (int)f->latency_ms, "gateway",
		      pl->v->gateways[f->gateway].address, "title_us",
		      (json_int_t)f->plan_us, "planned_us",
		      (json_int_t)(r->planned_local - pl->started), "tries",
		      (int)r->tries, "error_us", (json_int_t)r->error_us,
		      "acked_seats", seat_list(r->seats), "substitute",
		      f->substitute);
	if (j) {
		char tc[96];

		timecode_of(pl->t, pl->t->cues[f->cue].start, tc, sizeof(tc));
		(void)json_object_set_new(j, "status",
					  json_string(names[r->state]));
		(void)json_object_set_new(j, "timecode", json_string(tc));
	}
	line = j ? json_dumps(j, JSON_COMPACT) : NULL;
	if (line)
		(void)fprintf(pl->o->log, "%s\n", line);
	mem_free(line);
	json_decref(j);
}

/* Resend after --retry-ms, or twice the best round trip if longer: an
 * answer cannot come sooner, and resending early only adds load. */
static int64_t retry_after(const struct player *pl, size_t g)
{
	int64_t best = INT64_MAX;

	for (size_t i = 0; i < pl->gws[g].n_samples; i++)
		if (pl->gws[g].rtt[i] < best)
			best = pl->gws[g].rtt[i];
	return best != INT64_MAX && 2 * best > pl->o->retry_us
		       ? 2 * best
		       : pl->o->retry_us;
}

static void send_fire(struct player *pl, size_t i)
{
	const struct fire *f = &pl->p->fires[i];
	const struct cue *c = &pl->t->cues[f->cue];
	struct fire_run *r = &pl->runs[i];
	struct gw_msg m = {.type = GW_FIRE,
			   .show = pl->show,
			   .seq = (uint32_t)i + 1,
			   .fire_at_us = r->fire_at_gw,
			   .seats = f->seats,
			   .row = f->row,
			   .slot = f->slot,
			   .dose_ul = (uint16_t)f->dose_ul,
			   .release_ms = (uint32_t)r->release_ms,
			   .ramp_ms = (uint32_t)c->ramp_ms,
			   .pulse_on_ms = (uint32_t)c->pulse.on_ms,
			   .pulse_off_ms = (uint32_t)c->pulse.off_ms,
			   .pulse_count = (uint16_t)c->pulse.count,
			   .purge_ms = (uint32_t)c->purge_after_ms,
			   .cue = f->cue};

	if (gw_send(pl->fds[f->gateway].fd, &pl->gws[f->gateway].addr, &m))
		pl->res->sent++;
	pl->res->retries += r->tries > 0;
	r->tries++;
	r->next_retry = now_us() + retry_after(pl, f->gateway);
}

/* Fire @i, due at title time plan_us, the title being at @pos now. */
static int launch(struct player *pl, size_t i, int64_t now, int64_t pos)
{
	const struct fire *f = &pl->p->fires[i];
	struct fire_run *r = &pl->runs[i];
	const struct gw_state *g = &pl->gws[f->gateway];
	int64_t ahead = (f->plan_us - pos) / pl->o->speed;

	r->planned_local = now + ahead;
	if (ahead > 0) {
		r->release_ms = f->duration_ms;
		r->fire_at_gw = (uint64_t)(r->planned_local + g->best_offset);
	} else if (fire_due(f, pos, pl->o->tolerance_us) == FIRE_NOW) {
		r->release_ms = fire_release_ms(f, pos);
		r->fire_at_gw = 0; /* late: at once */
	} else {
		r->state = F_MISSED;
		pl->res->missed++;
		log_fire(pl, i);
		return SC_OK;
	}
	/* Compressed shows release for proportionally less time. */
	r->release_ms = (int32_t)(r->release_ms / pl->o->speed);
	if (r->release_ms < 1)
		r->release_ms = 1;
	r->deadline = r->planned_local + pl->o->tolerance_us / pl->o->speed;
	r->state = F_SENT;
	pl->inflight[pl->n_inflight++] = i;
	send_fire(pl, i);
	return SC_OK;
}

static void on_ack(struct player *pl, size_t g, const struct gw_msg *m)
{
	size_t i = (size_t)m->seq - 1;
	struct fire_run *r;

	if (m->show != pl->show || !m->seq || i >= pl->p->n_fires ||
	    pl->p->fires[i].gateway != g)
		return;
	r = &pl->runs[i];
	if (r->state != F_SENT)
		return; /* a duplicate answer to a retry */
	if (m->flags & GW_FLAG_QUEUED) {
		/* Received: ask again only if the fired answer is late. */
		r->queued = true;
		if (r->next_retry < r->planned_local + pl->o->retry_us)
			r->next_retry = r->planned_local + pl->o->retry_us;
		return;
	}
	r->state = F_ACKED;
	r->seats = m->seats;
	r->short_seats = m->short_seats;
	r->error_us = ((int64_t)m->fired_at_us - pl->gws[g].best_offset) -
		      r->planned_local;
	pl->res->acked++;
	for (int b = 0; b < CUE_SEATS_MAX; b++) {
		const struct fire *f = &pl->p->fires[i];

		if (m->seats >> b & 1) {
			pl->res->seat_releases++;
			pl->res->consumed_ul[CUE_SEAT_INDEX(f->row, b + 1) *
						     CUE_PALETTE_MAX +
					     f->slot - 1] += f->dose_ul;
		}
		pl->res->short_seats += (int64_t)(m->short_seats >> b & 1);
	}
	log_fire(pl, i);
}

static void receive(struct player *pl, size_t g)
{
	uint8_t buf[GW_MAX_LEN + 1];
	struct gw_msg m;
	ssize_t n;

	while ((n = recv(pl->fds[g].fd, buf, sizeof(buf), 0)) >= 0) {
		int64_t t3 = now_us();

		if (!gw_decode(buf, (size_t)n, &m) || m.show != pl->show)
			continue;
		if (m.type == GW_PONG)
			sample(&pl->gws[g], &m, t3);
		else if (m.type == GW_ACK)
			on_ack(pl, g, &m);
	}
}

/* Resend what is unacknowledged, retire what is answered or expired. */
static void tend_inflight(struct player *pl, int64_t now, int64_t *wake)
{
	size_t k = 0;

	for (size_t j = 0; j < pl->n_inflight; j++) {
		size_t i = pl->inflight[j];
		struct fire_run *r = &pl->runs[i];

		if (r->state != F_SENT)
			continue; /* answered */
		int64_t last = r->deadline + (r->queued ? GRACE_US : 0);

		if (now > r->deadline + GRACE_US) {
			/* Past its window and a grace for the last answer:
			 * reported unacknowledged. */
			pl->res->unacked++;
			log_fire(pl, i);
			r->state = F_MISSED;
			continue;
		}
		/* Unreceived, it may go until its window closes; received,
		 * the resends only ask for the answer. */
		if (now >= r->next_retry && now <= last)
			send_fire(pl, i);
		if (r->next_retry < *wake && r->next_retry <= last)
			*wake = r->next_retry;
		pl->inflight[k++] = i;
	}
	pl->n_inflight = k;
}

/*
 * Read the LTC source up to now.  A file is read at its sample rate, as
 * a sound card would deliver it; a live stream (non-blocking) as far as
 * it has come.  Either way the last sample read is taken as captured
 * now: a card's buffer adds its period (2 ms here) of constant delay,
 * which latency calibration absorbs.
 */
static void feed_ltc(struct player *pl, int64_t now)
{
	const struct show_source *s = &pl->o->src;
	uint8_t buf[4096];
	int64_t due = s->ltc_paced
			      ? (now - pl->started) * s->ltc_rate / 1000000 -
					pl->ltc.samples
			      : INT64_MAX;

	while (!pl->ltc_eof && due > 0) {
		size_t want =
			due < (int64_t)sizeof(buf) ? (size_t)due : sizeof(buf);
		ssize_t got = read(fileno(s->ltc), buf, want);

		if (got > 0)
			(void)ltc_in_feed(&pl->ltc, buf, (size_t)got, now,
					  &pl->chase);
		if (got == 0)
			pl->ltc_eof = true;
		if (got <= 0)
			break; /* the end, or nothing more yet */
		due -= got;
	}
}

/* Send what is due; the next moment a fire wants sending. */
static int advance(struct player *pl, int64_t now, int64_t *wake)
{
	int64_t pos;
	int rc = SC_OK;

	if (!chase_position(&pl->chase, now, &pos))
		return SC_OK;
	while (!rc && pl->cursor < pl->p->n_fires) {
		const struct fire *f = &pl->p->fires[pl->cursor];
		int64_t lead = pl->o->lead_us * pl->o->speed;

		if (pos + lead < f->plan_us) {
			int64_t at =
				now + (f->plan_us - lead - pos) / pl->o->speed;

			if (at < *wake)
				*wake = at;
			break;
		}
		rc = launch(pl, pl->cursor++, now, pos);
	}
	return rc;
}

/* Everything resolved, or the source ended with nothing in flight. */
static bool finished(const struct player *pl, int64_t now)
{
	int64_t pos;

	if (pl->n_inflight)
		return false;
	if (pl->cursor == pl->p->n_fires)
		return true;
	/* An LTC file that ended: what was not reached is missed. */
	return pl->o->src.ltc && pl->ltc_eof &&
	       !chase_position(&pl->chase, now, &pos);
}

static int by_error(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;

	return (a > b) - (a < b);
}

static void stats(struct player *pl, struct arena *a)
{
	int64_t *e = arena_calloc(a, pl->p->n_fires + 1, sizeof(*e));
	size_t n = 0;

	for (size_t i = 0; e && i < pl->p->n_fires; i++) {
		if (pl->runs[i].state == F_ACKED)
			e[n++] = pl->runs[i].error_us;
		else if (pl->runs[i].state == F_PENDING) {
			pl->res->missed++; /* never reached */
			pl->runs[i].state = F_MISSED;
			log_fire(pl, i);
		}
	}
	if (n)
		qsort(e, n, sizeof(*e), by_error);
	if (n) {
		pl->res->err_p50_us = e[n / 2];
		pl->res->err_p99_us =
			e[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1];
		pl->res->err_max_us = e[n - 1];
	}
	pl->res->seeks = (int64_t)pl->chase.seeks;
}

static int setup(struct player *pl, struct arena *a, struct sc_err *err)
{
	size_t ng = pl->v->n_gateways, nf = pl->p->n_fires;

	pl->runs = arena_calloc(a, nf + 1, sizeof(*pl->runs));
	pl->inflight = arena_calloc(a, nf + 1, sizeof(*pl->inflight));
	pl->gws = arena_calloc(a, ng + 1, sizeof(*pl->gws));
	pl->fds = arena_calloc(a, ng + 1, sizeof(*pl->fds));
	pl->res->consumed_ul = arena_calloc(a, CUE_MAP_SEATS * CUE_PALETTE_MAX,
					    sizeof(int64_t));
	if (!pl->runs || !pl->inflight || !pl->gws || !pl->fds ||
	    !pl->res->consumed_ul)
		return err_set(err, SC_ENOMEM, "out of memory");
	for (size_t g = 0; g < ng; g++)
		pl->fds[g].fd = -1;
	for (size_t g = 0; g < ng; g++) {
		if (gw_resolve(pl->v->gateways[g].address, &pl->gws[g].addr,
			       err))
			return SC_EINVAL;
		pl->fds[g].fd = gw_socket(&pl->gws[g].addr, false, err);
		if (pl->fds[g].fd < 0)
			return SC_EIO;
		pl->fds[g].events = POLLIN;
	}
	chase_init(&pl->chase, pl->o->src.ltc ? pl->o->src.lock : LOCK_JAM);
	pl->chase.speed = pl->o->speed;
	if (pl->o->src.ltc) {
		if (ltc_in_open(&pl->ltc, pl->o->src.ltc_rate, pl->t->rate_num,
				pl->t->rate_den))
			return err_set(err, SC_ENOMEM, "out of memory");
		pl->ltc_open = true;
		if (!pl->o->src.ltc_paced)
			(void)fcntl(fileno(pl->o->src.ltc), F_SETFL,
				    fcntl(fileno(pl->o->src.ltc), F_GETFL) |
					    O_NONBLOCK);
	}
	/* Random per run: a gateway tells a new show from a retry. */
	pl->show = (uint32_t)(clock_mono_us() ^ (uint64_t)getpid() << 16);
	return SC_OK;
}

/* Eight pings each, up to 300 ms for their answers. */
static void first_sync(struct player *pl)
{
	size_t ng = pl->v->n_gateways;
	int64_t until = now_us() + 300000;

	for (int k = 0; k < SYNC_SAMPLES; k++) {
		for (size_t g = 0; g < ng; g++)
			ping(pl, g);
		(void)poll(pl->fds, ng, 2);
		for (size_t g = 0; g < ng; g++)
			receive(pl, g);
	}
	while (now_us() < until) {
		bool all = true;

		for (size_t g = 0; g < ng; g++) {
			receive(pl, g);
			all = all && pl->gws[g].n_samples >= SYNC_SAMPLES / 2;
		}
		if (all)
			break;
		(void)poll(pl->fds, ng, 5);
	}
	for (size_t g = 0; g < ng; g++)
		if (!pl->gws[g].synced)
			log_msg(LOG_WARN,
				"show: gateway %s does not answer pings; "
				"its clock is taken as ours",
				pl->v->gateways[g].address);
}

static int loop(struct player *pl, struct sc_err *err)
{
	size_t ng = pl->v->n_gateways;
	sigset_t during;
	int rc = SC_OK;

	gw_block_stops(&during);
	pl->started = now_us();
	if (!pl->o->src.ltc)
		chase_reading(&pl->chase, pl->started, pl->o->src.from_us);
	while (!rc && !*pl->o->stop) {
		int64_t now = now_us(), wake = now + 100000;

		if (pl->o->src.ltc) {
			feed_ltc(pl, now);
			wake = now + 2000; /* a sound card's period */
		}
		rc = advance(pl, now, &wake);
		tend_inflight(pl, now, &wake);
		for (size_t g = 0; g < ng; g++) {
			if (now >= pl->gws[g].next_ping)
				ping(pl, g);
			if (pl->gws[g].next_ping < wake)
				wake = pl->gws[g].next_ping;
		}
		if (finished(pl, now))
			break;
		rc = gw_wait(pl->fds, ng, wake, &during, err);
		for (size_t g = 0; g < ng; g++)
			if (pl->fds[g].revents & POLLIN)
				receive(pl, g);
	}
	(void)sigprocmask(SIG_SETMASK, &during, NULL);
	return rc;
}

/* Stopped early: what was sent and not answered is unacknowledged. */
static void settle(struct player *pl)
{
	for (size_t j = 0; j < pl->n_inflight; j++)
		if (pl->runs[pl->inflight[j]].state == F_SENT) {
			pl->res->unacked++;
			log_fire(pl, pl->inflight[j]);
			pl->runs[pl->inflight[j]].state = F_MISSED;
		}
	pl->n_inflight = 0;
}

static void teardown(struct player *pl)
{
	if (pl->o->log)
		(void)fflush(pl->o->log);
	for (size_t g = 0; pl->fds && g < pl->v->n_gateways; g++)
		if (pl->fds[g].fd >= 0)
			(void)close(pl->fds[g].fd);
	if (pl->ltc_open)
		ltc_in_close(&pl->ltc);
}

int show_run(const struct show_input *in, const struct show_opts *o,
	     struct arena *a, struct show_result *out, struct sc_err *err)
{
	struct player pl = {
		.t = in->t, .v = in->v, .p = in->p, .o = o, .res = out};
	int rc;

	memset(out, 0, sizeof(*out));
	out->fires = (int64_t)in->p->n_fires;
	rc = setup(&pl, a, err);
	if (!rc)
		first_sync(&pl);
	if (!rc)
		rc = loop(&pl, err);
	settle(&pl);
	if (!rc)
		stats(&pl, a);
	teardown(&pl);
	return rc;
}
