"""The SQL of the four misuse rules (bureau/audit/misuse.py runs them).

Each statement is set-based: one round trip per rule, whatever the number of
members. Rules over the last hour or day drive from members_member with a LATERAL
subquery, so each member's inquiries are read through the (member, created_at)
index instead of scanning the table; the 30-day aggregates read the window whole.
Parameters are named (`%(end)s`); windows are half-open [start, end).
"""

VOLUME_SQL = """
WITH recent AS (
    SELECT m.id AS member_id, r.n
    FROM members_member m
    CROSS JOIN LATERAL (
        SELECT count(*) AS n FROM reports_inquiry i
        WHERE i.member_id = m.id
          AND i.created_at >= %(start)s AND i.created_at < %(end)s
    ) r
    WHERE r.n > %(volume_min)s
), hourly AS (
    SELECT i.member_id, count(*) AS n
    FROM recent JOIN reports_inquiry i ON i.member_id = recent.member_id
    WHERE i.created_at >= %(base_start)s AND i.created_at < %(start)s
    GROUP BY i.member_id, date_trunc('hour', i.created_at)
)
SELECT r.member_id, r.n, count(h.n) AS active_hours,
       coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY h.n), 0) AS median
FROM recent r LEFT JOIN hourly h ON h.member_id = r.member_id
GROUP BY r.member_id, r.n
HAVING r.n > %(factor)s
    * coalesce(percentile_cont(0.5) WITHIN GROUP (ORDER BY h.n), 0)
"""

ENUMERATION_SQL = """
WITH hour_rows AS (
    SELECT i.member_id, i.id_type, i.id_hash, i.id_masked, i.hit
    FROM members_member m
    CROSS JOIN LATERAL (
        SELECT member_id, id_type, id_hash, id_masked, hit FROM reports_inquiry
        WHERE member_id = m.id AND created_at >= %(start)s AND created_at < %(end)s
    ) i
), volume AS (
    SELECT member_id, count(*) AS queries, count(*) FILTER (WHERE NOT hit) AS misses
    FROM hour_rows GROUP BY member_id
), same_mask AS (
    SELECT member_id, max(n) AS numbers
    FROM (
        SELECT member_id, count(DISTINCT id_hash) AS n
        FROM hour_rows GROUP BY member_id, id_type, id_masked
    ) s
    GROUP BY member_id
), tails AS (
    SELECT DISTINCT member_id, id_type, left(id_masked, 6) AS head,
           substr(id_masked, 15, 3)::int AS n
    FROM hour_rows
    WHERE id_type IN ('resident_id', 'uscc') AND length(id_masked) = 18
      AND substr(id_masked, 15, 3) ~ '^[0-9]{3}$'
), starts AS (
    SELECT member_id, id_type, head, n,
           CASE WHEN n - lag(n) OVER w <= %(max_step)s THEN 0 ELSE 1 END AS new_run
    FROM tails WINDOW w AS (PARTITION BY member_id, id_type, head ORDER BY n)
), runs AS (
    SELECT member_id, count(*) AS length
    FROM (
        SELECT member_id, id_type, head, sum(new_run) OVER (
            PARTITION BY member_id, id_type, head ORDER BY n) AS run_no
        FROM starts
    ) r
    GROUP BY member_id, id_type, head, run_no
), longest AS (
    SELECT member_id, max(length) AS run FROM runs GROUP BY member_id
), names_first AS (
    SELECT i.member_id, i.id_type, i.id_hash, i.name_hash, min(i.created_at) AS at
    FROM members_member m
    CROSS JOIN LATERAL (
        SELECT member_id, id_type, id_hash, name_hash, created_at FROM reports_inquiry
        WHERE member_id = m.id AND created_at >= %(day_start)s AND created_at < %(end)s
    ) i
    GROUP BY 1, 2, 3, 4
), numbers AS (
    -- A number tried under many names, one of them new in the last hour.
    SELECT member_id, id_hash, count(*) AS names
    FROM names_first GROUP BY member_id, id_type, id_hash
    HAVING count(*) >= %(names_per_number)s AND max(at) >= %(start)s
), names AS (
    SELECT member_id, count(*) AS numbers, max(names) AS max_names,
           (array_agg(id_hash ORDER BY names DESC, id_hash))[1:5] AS id_hashes
    FROM numbers GROUP BY member_id
)
SELECT v.member_id, v.queries, v.misses, coalesce(s.numbers, 0),
       coalesce(l.run, 0), coalesce(n.numbers, 0), coalesce(n.max_names, 0),
       coalesce(n.id_hashes, '{}')
FROM volume v
LEFT JOIN same_mask s ON s.member_id = v.member_id
LEFT JOIN longest l ON l.member_id = v.member_id
LEFT JOIN names n ON n.member_id = v.member_id
WHERE (v.queries >= %(enum_min_queries)s AND v.misses > %(miss_ratio)s * v.queries)
   OR s.numbers >= %(sequential_min)s
   OR l.run >= %(sequential_min)s
   OR n.numbers > 0
"""

IMBALANCE_SQL = """
WITH asked AS (
    SELECT member_id, count(*) AS queries FROM reports_inquiry
    WHERE member_id IS NOT NULL AND created_at >= %(start)s AND created_at < %(end)s
    GROUP BY member_id HAVING count(*) >= %(min_queries)s
), furnished AS (
    SELECT member_id, sum(rows_accepted) AS rows, count(*) AS batches
    FROM records_batch
    WHERE NOT validate_only AND status IN ('completed', 'completed_with_errors')
      AND finished_at >= %(start)s AND finished_at < %(end)s
    GROUP BY member_id
)
SELECT a.member_id, a.queries, coalesce(f.rows, 0), coalesce(f.batches, 0)
FROM asked a LEFT JOIN furnished f ON f.member_id = a.member_id
WHERE a.queries > %(ratio)s * coalesce(f.rows, 0)
"""

DRIFT_SQL = """
WITH counts AS (
    SELECT api_key_id, member_id, purpose,
           count(*) FILTER (WHERE created_at >= %(recent_start)s) AS recent,
           count(*) FILTER (WHERE created_at < %(recent_start)s) AS base
    FROM reports_inquiry
    WHERE api_key_id IS NOT NULL
      AND created_at >= %(base_start)s AND created_at < %(end)s
    GROUP BY api_key_id, member_id, purpose
), totals AS (
    SELECT api_key_id, member_id, sum(recent)::float8 AS recent_total,
           sum(base)::float8 AS base_total
    FROM counts GROUP BY api_key_id, member_id
    HAVING sum(recent) >= %(min_queries)s AND sum(base) >= %(min_queries)s
)
SELECT t.api_key_id, t.member_id, t.recent_total::bigint, t.base_total::bigint,
       0.5 * sum(abs(c.recent / t.recent_total - c.base / t.base_total)) AS tvd,
       jsonb_object_agg(c.purpose, c.recent)::text,
       jsonb_object_agg(c.purpose, c.base)::text
FROM totals t JOIN counts c USING (api_key_id, member_id)
GROUP BY t.api_key_id, t.member_id, t.recent_total, t.base_total
HAVING 0.5 * sum(abs(c.recent / t.recent_total - c.base / t.base_total)) > %(tvd)s
"""
