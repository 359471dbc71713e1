/*
 * domain/analytics.c - survey statistics and the demand forecast.
 */
#include "domain/analytics.h"

#include <math.h>
#include <string.h>

#include "domain/sourcing.h"

bool segment_valid(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++)
		if (!((s[n] >= 'a' && s[n] <= 'z') ||
		      (s[n] >= '0' && s[n] <= '9') || s[n] == '-' ||
		      s[n] == '_'))
			return false;
	return n >= 1 && n <= SEGMENT_MAX;
}

double stats_normal_quantile(double p)
{
	/*
	 * Acklam's rational approximation (relative error < 1.2e-9): more
	 * than enough for critical values and sample sizes.
	 */
	static const double a[] = {
		-3.969683028665376e+01, 2.209460984245205e+02,
		-2.759285104469687e+02, 1.383577518672690e+02,
		-3.066479806614716e+01, 2.506628277459239e+00};
	static const double b[] = {
		-5.447609879822406e+01, 1.615858368580409e+02,
		-1.556989798598866e+02, 6.680131188771972e+01,
		-1.328068155288572e+01};
	static const double c[] = {
		-7.784894002430293e-03, -3.223964580411365e-01,
		-2.400758277161838e+00, -2.549732539343734e+00,
		4.374664141464968e+00,	2.938163982698783e+00};
	static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
				   2.445134137142996e+00,
				   3.754408661907416e+00};
	double tail = p < 0.5 ? p : 1 - p, q, r, x;

	if (tail < 0.02425) { /* the tails, by symmetry */
		q = sqrt(-2 * log(tail));
		x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) *
			     q +
		     c[5]) /
		    ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
		return p < 0.5 ? x : -x;
	}
	q = p - 0.5;
	r = q * q;
	return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r +
		a[5]) *
	       q /
	       (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r +
		1);
}

double stats_t975(int64_t df)
{
	/* exact table to 30 degrees of freedom; beyond, the Cornish-Fisher
	 * expansion around the normal quantile (error < 0.0005) */
	static const double t[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447,
				   2.365,  2.306, 2.262, 2.228, 2.201, 2.179,
				   2.160,  2.145, 2.131, 2.120, 2.110, 2.101,
				   2.093,  2.086, 2.080, 2.074, 2.069, 2.064,
				   2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
	double z = 1.959963984540054, v = (double)df;

	if (df < 1)
		return NAN;
	if (df <= 30)
		return t[df - 1];
	return z + (z * z * z + z) / (4 * v) +
	       (5 * pow(z, 5) + 16 * pow(z, 3) + 3 * z) / (96 * v * v);
}

double stats_two_prop_p(int64_t x1, int64_t n1, int64_t x2, int64_t n2)
{
	double p1, p2, pool, se;

	if (n1 <= 0 || n2 <= 0)
		return 1;
	p1 = (double)x1 / (double)n1;
	p2 = (double)x2 / (double)n2;
	pool = (double)(x1 + x2) / (double)(n1 + n2);
	if (pool <= 0 || pool >= 1)
		return 1;
	se = sqrt(pool * (1 - pool) * (1.0 / (double)n1 + 1.0 / (double)n2));
	return erfc(fabs(p1 - p2) / se / sqrt(2.0));
}

void stats_holm(const double *p, size_t m, double *adj)
{
	size_t order[SURVEY_VARIANTS_MAX];
	double run = 0;

	/* sort indices by p (m is small: insertion sort) */
	for (size_t i = 0; i < m; i++) {
		size_t j = i;

		while (j > 0 && p[order[j - 1]] > p[i]) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	for (size_t r = 0; r < m; r++) {
		double v = (double)(m - r) * p[order[r]];

		run = fmax(run, fmin(1.0, v)); /* adjusted p never decreases */
		adj[order[r]] = run;
	}
}

int64_t stats_two_prop_n(double p1, double p2, double alpha, double power)
{
	double za = stats_normal_quantile(1 - alpha / 2);
	double zb = stats_normal_quantile(power);
	double pbar = (p1 + p2) / 2, diff = fabs(p1 - p2), n;

	if (diff < 1e-12)
		return -1;
	n = za * sqrt(2 * pbar * (1 - pbar)) +
	    zb * sqrt(p1 * (1 - p1) + p2 * (1 - p2));
	return (int64_t)ceil(n * n / (diff * diff));
}

static void variant_stats_of(const struct variant_tally *t,
			     struct variant_stats *s)
{
	memset(s, 0, sizeof(*s));
	s->p_vs_leader = -1;
	if (t->answered > 0) {
		s->has_accept = true;
		s->accept = (double)t->accepted / (double)t->answered;
		sourcing_wilson(s->accept, t->answered, &s->accept_lo,
				&s->accept_hi);
	}
	if (t->rated > 0) {
		double n = (double)t->rated, mean = (double)t->rating_sum / n;

		s->has_rating = true;
		s->mean = s->mean_lo = s->mean_hi = mean;
		if (t->rated >= 2) {
			double var =
				((double)t->rating_sumsq - n * mean * mean) /
				(n - 1);
			double half = stats_t975(t->rated - 1) *
				      sqrt(var > 0 ? var : 0) / sqrt(n);

			s->mean_lo = mean - half;
			s->mean_hi = mean + half;
		}
	}
}

void survey_analyse(const struct variant_tally *t, size_t k,
		    struct variant_stats *out, struct survey_verdict *v)
{
	double raw[SURVEY_VARIANTS_MAX], adj[SURVEY_VARIANTS_MAX];
	size_t idx[SURVEY_VARIANTS_MAX], m = 0;
	bool all = true;

	v->leader = v->winner = v->runner_up = -1;
	v->need_per_variant = v->more_needed = -1;
	if (k > SURVEY_VARIANTS_MAX)
		k = SURVEY_VARIANTS_MAX;
	for (size_t i = 0; i < k; i++) {
		variant_stats_of(&t[i], &out[i]);
		if (!out[i].has_accept)
			continue;
		if (v->leader < 0 || out[i].accept > out[v->leader].accept) {
			v->runner_up = v->leader;
			v->leader = (int)i;
		} else if (v->runner_up < 0 ||
			   out[i].accept > out[v->runner_up].accept) {
			v->runner_up = (int)i;
		}
	}
	if (v->leader < 0 || v->runner_up < 0)
		return;
	const struct variant_tally *L = &t[v->leader];

	for (size_t i = 0; i < k; i++) {
		if ((int)i == v->leader)
			continue;
		idx[m] = i;
		/* a variant nobody answered is not beaten: no verdict */
		raw[m++] =
			out[i].has_accept
				? stats_two_prop_p(L->accepted, L->answered,
						   t[i].accepted, t[i].answered)
				: 1;
	}
	stats_holm(raw, m, adj);
	for (size_t j = 0; j < m; j++) {
		out[idx[j]].p_vs_leader = adj[j];
		/* a tie with the leader is not beaten either */
		if (adj[j] > SURVEY_ALPHA ||
		    out[idx[j]].accept >= out[v->leader].accept)
			all = false;
	}
	if (all) {
		v->winner = v->leader;
		v->need_per_variant = v->more_needed = 0;
		return;
	}
	v->need_per_variant = stats_two_prop_n(
		out[v->leader].accept, out[v->runner_up].accept,
		SURVEY_ALPHA / (double)(k - 1), SURVEY_POWER);
	if (v->need_per_variant >= 0) {
		int64_t have = L->answered < t[v->runner_up].answered
				       ? L->answered
				       : t[v->runner_up].answered;

		v->more_needed = v->need_per_variant > have
					 ? v->need_per_variant - have
					 : 0;
	}
}

/* One-step squared error of SES with @alpha over y[0..n), level from y[0]. */
static double ses_sse(const double *y, size_t n, double alpha)
{
	double level = y[0], sse = 0;

	for (size_t t = 1; t < n; t++) {
		double e = y[t] - level;

		sse += e * e;
		level += alpha * e;
	}
	return sse;
}

void stats_ses(const double *y, size_t n, struct ses_fit *out)
{
	size_t train = n, hold = 0;
	double best = INFINITY, level, sse = 0;

	memset(out, 0, sizeof(*out));
	out->mae = out->naive_mae = -1;
	if (n >= SES_HOLDOUT + 2) {
		hold = SES_HOLDOUT;
		train = n - hold;
	}
	out->alpha = 0.5;
	for (int a = 1; a <= 19; a++) {
		double alpha = a * 0.05, e = ses_sse(y, train, alpha);

		if (e < best - 1e-12) {
			best = e;
			out->alpha = alpha;
		}
	}
	/* run through every week, scoring the held-out ones */
	level = y[0];
	if (hold) {
		out->mae = out->naive_mae = 0;
	}
	for (size_t t = 1; t < n; t++) {
		double e = y[t] - level;

		sse += e * e;
		if (t >= train) {
			out->mae += fabs(e) / (double)hold;
			out->naive_mae += fabs(y[t] - y[t - 1]) / (double)hold;
		}
		level += out->alpha * e;
	}
	out->level = level;
	out->holdout = hold;
	out->rmse = n >= 2 ? sqrt(sse / (double)(n - 1)) : 0;
}

double stats_slope(const double *y, size_t n)
{
	double mx = ((double)n - 1) / 2, my = 0, sxy = 0, sxx = 0;

	if (n < 2)
		return 0;
	for (size_t i = 0; i < n; i++)
		my += y[i] / (double)n;
	for (size_t i = 0; i < n; i++) {
		sxy += ((double)i - mx) * (y[i] - my);
		sxx += ((double)i - mx) * ((double)i - mx);
	}
	return sxy / sxx;
}

int64_t plan_quantity(double forecast_total, double safety, int64_t on_hand,
		      int64_t min_batch)
{
	double need = ceil(forecast_total + safety) - (double)on_hand;
	int64_t units, batches;

	if (min_batch < 1)
		min_batch = 1;
	if (need <= 0)
		return 0;
	if (need > 1e9)
		need = 1e9;
	units = (int64_t)need;
	batches = (units + min_batch - 1) / min_batch;
	return batches * min_batch;
}
