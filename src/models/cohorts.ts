/**
 * Segment migration: customers by (segment in the previous run, segment now). (The cohort
 * triangle is the relation relations/cohorts.ts.)
 */

/** SQL: customers by (previous segment, current segment) between two runs. */
export function segmentMigrationSql(runId: number, previousRunId: number | null): string {
  if (previousRunId === null) {
    return `SELECT ${runId} AS run_id, NULL::INTEGER AS previous_run_id, NULL::VARCHAR AS from_segment, rfm_segment AS to_segment, count(*) AS customers
            FROM customer_metrics WHERE run_id = ${runId} GROUP BY rfm_segment`;
  }
  return `
WITH now_ AS (SELECT customer_id, rfm_segment FROM customer_metrics WHERE run_id = ${runId}),
before_ AS (SELECT customer_id, rfm_segment FROM customer_metrics WHERE run_id = ${previousRunId})
SELECT ${runId} AS run_id, ${previousRunId} AS previous_run_id, b.rfm_segment AS from_segment, n.rfm_segment AS to_segment, count(*) AS customers
FROM now_ n FULL OUTER JOIN before_ b USING (customer_id)
GROUP BY ALL`;
}
