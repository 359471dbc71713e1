/*
 * adapters/analytics_sql.h - the analytics queries (issue 15) both SQL
 * stores run, written once with their placeholders as parameters (SQLite
 * "?1", PostgreSQL "$1::bigint"): the aggregation is the store's work and
 * must mean the same on each.
 */
#ifndef SCENTS_ADAPTERS_ANALYTICS_SQL_H
#define SCENTS_ADAPTERS_ANALYTICS_SQL_H

/*
 * One tally per variant, counted by the database (survey @id, responses
 * of segment @seg or all when it is NULL): a report never reads the
 * responses themselves.
 */
#define SURVEY_TALLY_SQL(id, seg)                                              \
	"SELECT v.label, v.formula_version, count(r.variant),"                 \
	" count(r.accepted), coalesce(sum(r.accepted), 0), count(r.rating),"   \
	" coalesce(sum(r.rating), 0), coalesce(sum(r.rating * r.rating), 0)"   \
	" FROM survey_variants v LEFT JOIN survey_responses r"                 \
	" ON r.survey_id = v.survey_id AND r.variant = v.idx"                  \
	" AND (" seg " IS NULL OR r.segment = " seg ")"                        \
	" WHERE v.survey_id = " id                                             \
	" GROUP BY v.idx, v.label, v.formula_version ORDER BY v.idx"

/*
 * Demand between two days grouped by sku, day or ISO week (day 0, a
 * Thursday, is 3 days after a Monday), and segment when asked; units and
 * lines per outcome.  Reads the rollup's day range, never order lines.
 */
#define DEMAND_SQL(from, to, bucket, by_seg, sku)                              \
	"SELECT sku, CASE WHEN " bucket " = 7 THEN day - ((day + 3) % 7)"      \
	" ELSE day END AS b, CASE WHEN " by_seg " THEN segment END AS g,"      \
	" sum(CASE outcome WHEN 0 THEN units ELSE 0 END),"                     \
	" sum(CASE outcome WHEN 1 THEN units ELSE 0 END),"                     \
	" sum(CASE outcome WHEN 2 THEN units ELSE 0 END),"                     \
	" sum(CASE outcome WHEN 0 THEN lines ELSE 0 END),"                     \
	" sum(CASE outcome WHEN 1 THEN lines ELSE 0 END),"                     \
	" sum(CASE outcome WHEN 2 THEN lines ELSE 0 END)"                      \
	" FROM demand WHERE day BETWEEN " from " AND " to " AND (" sku         \
	" IS NULL OR sku = " sku ")"                                           \
	" GROUP BY sku, b, g ORDER BY sku, b, g"

#endif
