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
 * run: contract_metrics keeps that one. Customer, plan, channel and region are those of the
 * contract's last period for all its runs (a contract counts under its latest plan, as a run
 * whose plan changed at a renewal does); premium is the amount of the run's last period.
 *
 * Period unit: each period's length in days d = period_end − period_start is a month when
 * 27 ≤ d ≤ 31 (28–31 days with either end convention), a quarter 88–92, a half year 180–184, a
 * year 364–366, else irregular. A contract's unit is the one all its periods share (periods with
 * a cancel_date are left out when others are not: a cancellation may cut a period short), else
 * 'irregular'. With $period other than 'auto' every contract has that unit.
 *
 * Cost (issue #10 §5: the contract part under 5 s at 1M contracts, 3.6M periods). One sort of
 * the periods by (contract_id, period_start, period_end, rowid) serves every window of
 * ordered_periods; the runs' second window sorts only the run starts (≈ 1 per contract). In
 * DuckDB 1.5 each whole-partition aggregate beside the running frames costs a pass of its own
 * (and bit_or over the whole partition took minutes at 1M contracts: never use it here), so the
 * unit takes two of them, not four: min(unit_low) and max(unit_high), where a period's unit
 * code (months, 0 irregular) is offset by 100 in opposite directions for periods with and
 * without a cancel_date (measured on a 1M book under load: ≈ 0.7 s less CPU per run, the same
 * rows bit for bit). Tried and not kept, no gain measurable on the shared machine: the second
 * window partitioned by the last row's rowid instead of the VARCHAR contract_id; running sums
 * and a running bit_or instead of the whole-partition aggregates, with the runs paired by lead
 * over run starts and last periods (slower: 1.6M rows through the second sort); one list per
 * contract (GROUP BY, list_sort, lambdas: ran out of memory at the run's 1.5 GB limit).
 *
 * Status at as-of (of a run's last period; its end is the run's coverage end):
 *   lapsed    — an earlier run (a later one followed it: it ended, whatever its last period
 *               says), or ended more than $grace_days ago;
 *   cancelled — the current run's last period has cancel_date ≤ $as_of, or the source says
 *               'cancelled' (no cancel_date) and the period is over;
 *   active    — period_end ≥ $as_of;
 *   in_grace  — ended at most $grace_days days ago: a renewal may still come (censored).
 * For the fit, active and in-grace runs are censored after n = periods − 1 renewals (active = 1);
 * lapsed and cancelled ones left at their (n+1)-th renewal decision (active = 0).
 */
import type { Relation } from '../relation.js';
import { historyOwner } from './merged-history.js';

const owner = historyOwner('p');

export type ContractStatus = 'active' | 'in_grace' | 'lapsed' | 'cancelled';

export const CONTRACT_SPELLS: Relation<'as_of' | 'grace_days' | 'period'> = {
  name: 'temp.run_contract_spells',
  grain: 'one row per contract and run of renewals (periods starting on or before as-of)',
  sql: `
WITH known_periods AS (
  -- Narrow rows for the one sort; the last period's text columns are fetched by rowid.
  -- The length as months per period (0: irregular), a number so that comparing them is cheap.
  SELECT rowid AS period_row, contract_id, period_start, period_end,
         CAST(amount AS DOUBLE) AS amount,
         -- Full-length periods (no cancel_date) rank as 100 + months for max and as months for
         -- min, the others the other way round: see contract_units.
         CASE WHEN period_end - period_start BETWEEN 27 AND 31 THEN 1
              WHEN period_end - period_start BETWEEN 88 AND 92 THEN 3
              WHEN period_end - period_start BETWEEN 180 AND 184 THEN 6
              WHEN period_end - period_start BETWEEN 364 AND 366 THEN 12
              ELSE 0 END + CASE WHEN cancel_date IS NULL THEN 0 ELSE 100 END AS unit_low,
         CASE WHEN period_end - period_start BETWEEN 27 AND 31 THEN 1
              WHEN period_end - period_start BETWEEN 88 AND 92 THEN 3
              WHEN period_end - period_start BETWEEN 180 AND 184 THEN 6
              WHEN period_end - period_start BETWEEN 364 AND 366 THEN 12
              ELSE 0 END + CASE WHEN cancel_date IS NULL THEN 100 ELSE 0 END AS unit_high
  FROM contracts
  WHERE period_start <= CAST($as_of AS DATE)
),
ordered_periods AS (
  -- Per period: the coverage before it and what the run ending just before it needs (its last
  -- start and amount, the amounts from here on); per contract: totals and its last period.
  SELECT contract_id, period_start, amount,
         row_number() OVER w AS seq,
         max(period_end) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS covered_until,
         lag(period_start) OVER w AS previous_start,
         lag(amount) OVER w AS previous_amount,
         -- (A sum over the whole partition is very slow in DuckDB 1.5 beside these frames; this one is not.)
         sum(amount) OVER (w ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS amount_from_here,
         count(*) OVER c AS contract_periods,
         max(period_start) OVER c AS contract_last_start,
         max(period_end) OVER c AS contract_end,
         last_value(period_row) OVER c AS last_row,
         -- The units of its periods: all, and those without a cancel_date (which may be cut short).
         min(unit_low) OVER c AS unit_low,
         max(unit_high) OVER c AS unit_high
  FROM known_periods
  -- Ties (the same dates twice) in load order.
  WINDOW w AS (PARTITION BY contract_id ORDER BY period_start, period_end, period_row),
         c AS (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
),
run_starts AS (
  -- A period more than $grace_days uncovered days after the coverage so far starts a run.
  SELECT *
  FROM ordered_periods
  WHERE covered_until IS NULL OR period_start - covered_until - 1 > CAST($grace_days AS INTEGER)
),
spells AS (
  -- A run lasts until the next run starts: its end is the coverage the next start saw.
  SELECT contract_id, last_row, unit_low, unit_high,
         CAST(row_number() OVER r AS INTEGER) AS spell,
         lead(seq) OVER r IS NULL AS is_current,
         period_start AS first_start,
         coalesce(lead(previous_start) OVER r, contract_last_start) AS period_start,
         coalesce(lead(covered_until) OVER r, contract_end) AS period_end,
         CAST(coalesce(lead(seq) OVER r, contract_periods + 1) - seq AS INTEGER) AS periods,
         lead(previous_amount) OVER r AS ended_premium,
         amount_from_here - coalesce(lead(amount_from_here) OVER r, 0) AS total_premium
  FROM run_starts
  WINDOW r AS (PARTITION BY contract_id ORDER BY seq)
),
last_periods AS (
  -- Customer, plan, channel and region of the contract's last period (every run of it counts
  -- under its latest plan); the current run's premium and cancellation are that period's too.
  -- The policyholder is the customer whose history the contract is (merged-history.ts).
  SELECT s.*, ${owner.customerId} AS customer_id, p.plan, p.channel, p.region,
         CASE WHEN s.is_current THEN CAST(p.amount AS DOUBLE) ELSE s.ended_premium END AS premium,
         CASE WHEN s.is_current THEN p.cancel_date END AS cancel_date,
         CASE WHEN s.is_current THEN lower(trim(p.status)) END AS source_status
  FROM spells s JOIN contracts p ON p.rowid = s.last_row ${owner.join}
),
contract_units AS (
  SELECT *,
         -- Periods with a cancel_date decide the unit only when all have one. With a full-length
         -- period, unit_high ≥ 100 is 100 + the longest full-length unit and unit_low < 100 the
         -- shortest; without one, unit_low is 100 + the shortest and unit_high the longest.
         CASE WHEN unit_high >= 100
                THEN CASE WHEN unit_low = unit_high - 100 THEN unit_low ELSE 0 END
              WHEN unit_low - 100 = unit_high THEN unit_high
              ELSE 0 END AS unit_months
  FROM last_periods
),
spell_status AS (
  SELECT *,
         CASE WHEN $period <> 'auto' THEN CAST($period AS VARCHAR)
              WHEN unit_months = 1 THEN 'month'
              WHEN unit_months = 3 THEN 'quarter'
              WHEN unit_months = 6 THEN 'half_year'
              WHEN unit_months = 12 THEN 'year'
              ELSE 'irregular' END AS period_unit,
         CASE WHEN NOT is_current THEN 'lapsed'
              WHEN cancel_date <= CAST($as_of AS DATE)
                   OR (cancel_date IS NULL AND source_status = 'cancelled' AND period_end < CAST($as_of AS DATE)) THEN 'cancelled'
              WHEN period_end >= CAST($as_of AS DATE) THEN 'active'
              WHEN CAST($as_of AS DATE) - period_end <= CAST($grace_days AS INTEGER) THEN 'in_grace'
              ELSE 'lapsed' END AS status
  FROM contract_units
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
