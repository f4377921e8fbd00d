/**
 * Contract periods → runs of renewals ("spells"), the input of the sBG retention model
 * (models/sbg.ts, Fader & Hardie 2007). The one home of the renewal rule, the period-unit
 * detection and the contract status at as-of.
 *
 * Renewal: the periods of a contract (those starting on or before $as_of; later ones are the
 * future) are ordered by start. A period renews the contract when it starts no more than
 * $grace_days uncovered days after the coverage so far ends:
 *   gap = period_start − (latest period_end before it) − 1 ≤ $grace_days.
 * period_end is the period's last day (inclusive), so a seamless renewal has gap 0; sources that
 * write the next period's start as the end (end = next start) give gap −1, and overlapping
 * periods a negative gap: renewals too. The coverage is the running maximum of the ends, so a
 * short period inside a longer one does not shorten it. A later start breaks the run (a lapse)
 * and starts a new run of renewals.
 *
 * Every run of renewals is one sBG observation (a customer who lapsed and came back is two
 * lifetimes: the first ended at an observed decision). `is_current` marks each contract's last
 * run: contract_metrics keeps that one.
 *
 * Period unit: each period's length in days d = period_end − period_start is a month when
 * 27 ≤ d ≤ 31 (28–31 days with either end convention), a quarter 88–92, a half year 180–184, a
 * year 364–366, else irregular. A contract's unit is the one all its periods share (periods with
 * a cancel_date are left out when others are not: a cancellation may cut a period short), else
 * 'irregular'. With $period other than 'auto' every contract has that unit.
 *
 * Status at as-of (of a run's last period; its end is the run's coverage end):
 *   cancelled — cancel_date ≤ $as_of, or the source says 'cancelled' (no cancel_date) and the
 *               period is over;
 *   lapsed    — an earlier run (a later one followed it), or ended more than $grace_days ago;
 *   active    — period_end ≥ $as_of;
 *   in_grace  — ended at most $grace_days days ago: a renewal may still come (censored).
 * For the fit, active and in-grace runs are censored after n = periods − 1 renewals (active = 1);
 * lapsed and cancelled ones left at their (n+1)-th renewal decision (active = 0).
 */
import type { Relation } from '../relation.js';

export type ContractStatus = 'active' | 'in_grace' | 'lapsed' | 'cancelled';

export const CONTRACT_SPELLS: Relation<'as_of' | 'grace_days' | 'period'> = {
  name: 'temp.run_contract_spells',
  grain: 'one row per contract and run of renewals (periods starting on or before as-of)',
  sql: `
WITH known_periods AS (
  SELECT contract_id, customer_id, period_start, period_end, CAST(amount AS DOUBLE) AS amount,
         plan, channel, region, lower(trim(status)) AS source_status, cancel_date,
         load_id, source_row
  FROM contracts
  WHERE period_start <= CAST($as_of AS DATE)
),
period_lengths AS (
  SELECT *,
         CASE WHEN period_end - period_start BETWEEN 27 AND 31 THEN 'month'
              WHEN period_end - period_start BETWEEN 88 AND 92 THEN 'quarter'
              WHEN period_end - period_start BETWEEN 180 AND 184 THEN 'half_year'
              WHEN period_end - period_start BETWEEN 364 AND 366 THEN 'year'
              ELSE 'irregular' END AS length_unit,
         -- Periods with a cancel_date may be cut short: they decide the unit only when all have one.
         cancel_date IS NULL OR bool_and(cancel_date IS NOT NULL) OVER (PARTITION BY contract_id) AS decides_unit
  FROM known_periods
),
contract_units AS (
  SELECT contract_id,
         CASE WHEN $period <> 'auto' THEN CAST($period AS VARCHAR)
              WHEN min(length_unit) FILTER (WHERE decides_unit) = max(length_unit) FILTER (WHERE decides_unit)
                THEN min(length_unit) FILTER (WHERE decides_unit)
              ELSE 'irregular' END AS period_unit
  FROM period_lengths
  GROUP BY contract_id
),
ordered_periods AS (
  SELECT *,
         row_number() OVER w AS seq,
         max(period_end) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered_until
  FROM known_periods
  WINDOW w AS (PARTITION BY contract_id ORDER BY period_start, period_end, load_id, source_row)
),
run_starts AS (
  SELECT *,
         CASE WHEN covered_until IS NULL OR period_start - covered_until - 1 > CAST($grace_days AS INTEGER) THEN 1 ELSE 0 END AS starts_run
  FROM ordered_periods
),
numbered_periods AS (
  SELECT *,
         sum(starts_run) OVER (PARTITION BY contract_id ORDER BY seq ROWS UNBOUNDED PRECEDING) AS spell
  FROM run_starts
),
spells AS (
  SELECT contract_id,
         CAST(spell AS INTEGER) AS spell,
         arg_max(customer_id, seq) AS customer_id,
         arg_max_null(plan, seq) AS plan,
         arg_max_null(channel, seq) AS channel,
         arg_max_null(region, seq) AS region,
         min(period_start) AS first_start,
         max(period_start) AS period_start,
         max(period_end) AS period_end,
         CAST(count(*) AS INTEGER) AS periods,
         arg_max(amount, seq) AS premium,
         sum(amount) AS total_premium,
         arg_max_null(cancel_date, seq) AS cancel_date,
         arg_max_null(source_status, seq) AS source_status
  FROM numbered_periods
  GROUP BY contract_id, spell
),
spell_status AS (
  SELECT s.*,
         u.period_unit,
         s.spell = max(s.spell) OVER (PARTITION BY s.contract_id) AS is_current,
         CASE WHEN s.cancel_date <= CAST($as_of AS DATE)
                   OR (s.cancel_date IS NULL AND s.source_status = 'cancelled' AND s.period_end < CAST($as_of AS DATE)) THEN 'cancelled'
              WHEN s.spell < max(s.spell) OVER (PARTITION BY s.contract_id) THEN 'lapsed'
              WHEN s.period_end >= CAST($as_of AS DATE) THEN 'active'
              WHEN CAST($as_of AS DATE) - s.period_end <= CAST($grace_days AS INTEGER) THEN 'in_grace'
              ELSE 'lapsed' END AS status
  FROM spells s JOIN contract_units u USING (contract_id)
)
SELECT contract_id, spell, is_current, customer_id, plan, channel, region, period_unit,
       first_start, period_start, period_end, periods, periods - 1 AS renewals,
       premium, total_premium, status,
       CASE WHEN status IN ('active', 'in_grace') THEN period_end END AS renewal_due,
       CASE WHEN status IN ('active', 'in_grace') THEN 1 ELSE 0 END AS active
FROM spell_status`,
  params: ['as_of', 'period', 'grace_days'],
};

/**
 * The sBG's compressed input: runs of renewals per (plan, period unit, renewals survived,
 * censored) with their count as weight. Irregular contracts are not modelled. The whole book of
 * a unit is the sum of its rows over plans (contracts without a plan count only there).
 */
export const CONTRACT_FIT_INPUT: Relation = {
  name: 'run_contract_fit_input',
  grain: 'one row per (plan, period_unit, renewals, active)',
  sql: `
WITH modelled_spells AS (
  SELECT plan, period_unit, renewals, active
  FROM temp.run_contract_spells
  WHERE period_unit <> 'irregular'
)
SELECT plan, period_unit, renewals, active, CAST(count(*) AS DOUBLE) AS contracts
FROM modelled_spells
GROUP BY plan, period_unit, renewals, active
ORDER BY plan NULLS FIRST, period_unit, renewals, active`,
  params: [],
};
