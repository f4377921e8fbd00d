/**
 * Segment migration (segment_migration's rows of a run): customers by (RFM segment in the
 * previous run, segment now). NULL from_segment: not scored in the previous run (a new customer,
 * or every customer when there is no previous run: $previous_run_id NULL); NULL to_segment: no
 * longer scored.
 */
import type { Relation } from '../relation.js';

export const SEGMENT_MIGRATION: Relation<'run_id' | 'previous_run_id'> = {
  name: 'temp.run_segment_migration',
  grain: 'one row per (previous segment, segment now)',
  sql: `
WITH now_ AS (
  SELECT customer_id, rfm_segment FROM customer_metrics WHERE run_id = $run_id
),
before_ AS (
  SELECT customer_id, rfm_segment FROM customer_metrics WHERE run_id = $previous_run_id
)
SELECT CAST($run_id AS INTEGER) AS run_id,
       CAST($previous_run_id AS INTEGER) AS previous_run_id,
       b.rfm_segment AS from_segment,
       n.rfm_segment AS to_segment,
       count(*) AS customers
FROM now_ n FULL OUTER JOIN before_ b USING (customer_id)
GROUP BY ALL`,
  params: ['run_id', 'previous_run_id'],
};
