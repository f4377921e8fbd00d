/**
 * Segment migration (segment_migration's rows of a run): customers by (RFM segment in the
 * previous run, segment now). NULL from_segment: not scored in the previous run (a new customer,
 * or every customer when there is no previous run: $previous_run_id NULL); NULL to_segment: no
 * longer scored. Only customers with an RFM segment take part: a customer with contracts only has
 * none (customer-metrics.ts), and is neither new nor gone here.
 *
 * Reads the stored rows of both runs (metrics_customers, customer_metrics' stored columns). Without
 * a previous run there is nothing to match: the segments are counted as they are, and the FULL
 * OUTER JOIN of the customers against nobody (2 s on 2.5M customers) is not built — DuckDB drops
 * the branch whose bound condition is false.
 */
import type { Relation } from '../relation.js';

export const SEGMENT_MIGRATION: Relation<'run_id' | 'previous_run_id'> = {
  name: 'temp.run_segment_migration',
  grain: 'one row per (previous segment, segment now)',
  sql: `
WITH now_ AS (
  SELECT customer_id, rfm_segment FROM metrics_customers WHERE run_id = $run_id AND rfm_segment IS NOT NULL
),
before_ AS (
  SELECT customer_id, rfm_segment FROM metrics_customers WHERE run_id = $previous_run_id AND rfm_segment IS NOT NULL
),
moves AS (
  SELECT NULL::VARCHAR AS from_segment, rfm_segment AS to_segment
  FROM now_
  WHERE $previous_run_id IS NULL
  UNION ALL
  SELECT b.rfm_segment AS from_segment, n.rfm_segment AS to_segment
  FROM now_ n FULL OUTER JOIN before_ b USING (customer_id)
  WHERE $previous_run_id IS NOT NULL
)
SELECT CAST($run_id AS INTEGER) AS run_id,
       CAST($previous_run_id AS INTEGER) AS previous_run_id,
       from_segment,
       to_segment,
       count(*) AS customers
FROM moves
GROUP BY ALL`,
  params: ['run_id', 'previous_run_id'],
};
