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

/*
 * What `scents check` verifies of issue 15's rows, in SQL both stores
 * read alike (|| and CAST): the active version of a formula exists, every
 * stored formula still sums to 100% within its slack, and no response
 * names a variant its survey lacks.
 */
#define ANALYTICS_CHECK_ACTIVE                                                 \
	"SELECT 'formula ''' || a.sku || ''' is active at version ' ||"        \
	" CAST(a.version AS TEXT) || ', which does not exist'"                 \
	" FROM formula_active a LEFT JOIN formulas f"                          \
	" ON f.sku = a.sku AND f.version = a.version WHERE f.sku IS NULL"
#define ANALYTICS_CHECK_SUM                                                    \
	"SELECT 'formula ''' || sku || ''' version ' || CAST(version AS TEXT)" \
	" || ' sums to ' || CAST(sum(milli) AS TEXT) ||"                       \
	" ' thousandths of a percent' FROM formula_lines"                      \
	" GROUP BY sku, version HAVING abs(sum(milli) - 100000) > 10"
#define ANALYTICS_CHECK_VARIANT                                                \
	"SELECT 'survey ' || CAST(r.survey_id AS TEXT) ||"                     \
	" ' has responses to variant ' || CAST(r.variant AS TEXT) ||"          \
	" ', which it lacks' FROM survey_responses r LEFT JOIN"                \
	" survey_variants v ON v.survey_id = r.survey_id"                      \
	" AND v.idx = r.variant WHERE v.survey_id IS NULL"                     \
	" GROUP BY r.survey_id, r.variant"

#endif
