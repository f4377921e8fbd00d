/**
 * The store's schema as an ordered list of migrations. A store records the highest version
 * applied in `schema_version`; opening a store applies the missing ones in order, each in its
 * own transaction, so a store written by an older crm-analytics still opens. Never edit a
 * released migration: add a new one.
 */
import { REFRESH_OWNERS_IN_EFFECT_SQL } from './owners.js';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: 'ingest: loads, transactions, customers, rejects',
    sql: `
CREATE TABLE loads (
  load_id        INTEGER   NOT NULL,
  kind           VARCHAR   NOT NULL,  -- 'transactions' | 'customers'
  path           VARCHAR   NOT NULL,  -- absolute path at ingest time
  file_name      VARCHAR   NOT NULL,  -- the path as given on the command line
  sha256         VARCHAR   NOT NULL,  -- of the file's bytes
  bytes          BIGINT    NOT NULL,
  format         VARCHAR   NOT NULL,  -- csv | tsv | parquet | json | ndjson | xlsx
  encoding       VARCHAR,
  sheets         VARCHAR[],           -- spreadsheets: the sheets read
  mapping        JSON      NOT NULL,  -- canonical field -> source column
  options        JSON      NOT NULL,  -- the options that shaped the load (date format, ...)
  rows_read      BIGINT    NOT NULL,
  rows_loaded    BIGINT    NOT NULL,
  rows_rejected  BIGINT    NOT NULL,
  status         VARCHAR   NOT NULL,  -- 'loaded' | 'replaced'
  replaced_by    INTEGER,             -- the load that replaced this one (--replace)
  started_at     TIMESTAMP NOT NULL,
  finished_at    TIMESTAMP NOT NULL,
  timings        JSON      NOT NULL   -- milliseconds per step
);

CREATE TABLE transactions (
  load_id      INTEGER       NOT NULL,
  source_file  VARCHAR       NOT NULL,
  source_sheet VARCHAR,
  source_row   BIGINT        NOT NULL,
  customer_id  VARCHAR       NOT NULL,
  order_id     VARCHAR,
  order_date   DATE          NOT NULL,
  order_ts     TIMESTAMP,
  quantity     DECIMAL(18,4),
  unit_price   DECIMAL(18,4),
  amount       DECIMAL(18,4) NOT NULL,
  cost         DECIMAL(18,4),
  product      VARCHAR,
  category     VARCHAR,
  channel      VARCHAR,
  region       VARCHAR,
  is_return    BOOLEAN       NOT NULL,
  attributes   JSON
);

CREATE TABLE customers (
  customer_id   VARCHAR NOT NULL,
  name          VARCHAR,
  email         VARCHAR,
  phone         VARCHAR,
  region        VARCHAR,
  industry      VARCHAR,
  account_owner VARCHAR,
  signup_date   DATE,
  attributes    JSON,
  load_id       INTEGER NOT NULL,
  source_file   VARCHAR NOT NULL,
  source_sheet  VARCHAR,
  source_row    BIGINT  NOT NULL
);

CREATE TABLE rejects (
  load_id      INTEGER NOT NULL,
  kind         VARCHAR NOT NULL,
  source_file  VARCHAR NOT NULL,
  source_sheet VARCHAR,
  source_row   BIGINT,
  reason       VARCHAR NOT NULL,  -- a stable code, e.g. missing_customer_id
  column_name  VARCHAR,           -- the source column at fault, when there is one
  detail       VARCHAR,           -- a sentence for people
  raw          VARCHAR            -- the original row
);
`,
  },
  {
    version: 2,
    description: 'crm run: runs, customer_metrics, customer_latest, cohorts, segment migration',
    sql: `
CREATE TABLE runs (
  run_id          INTEGER   NOT NULL,
  created_at      TIMESTAMP NOT NULL,
  as_of           DATE      NOT NULL,   -- inclusive: transactions on this day count
  since           DATE,                 -- start of the 80/20 window (NULL: all history)
  holdout_end     DATE,                 -- end of the backtest window (NULL: no backtest)
  time_unit       VARCHAR   NOT NULL,   -- day | week | month
  horizon_months  INTEGER   NOT NULL,
  params          JSON      NOT NULL,   -- every setting that shaped the results
  input           JSON      NOT NULL,   -- loads used and row counts: what the run read
  customers       INTEGER   NOT NULL,   -- customers scored (at least one purchase by as_of)
  model_status    VARCHAR   NOT NULL,   -- fitted | fallback
  fallback_reason VARCHAR,
  bgnbd           JSON,                 -- r, alpha, a, b, log_likelihood, converged, standard errors, …
  gamma_gamma     JSON,                 -- p, q, v, log_likelihood, converged, …
  backtest        JSON,
  summary         JSON      NOT NULL,   -- segment sizes, key-account share, … (for reports)
  timings         JSON      NOT NULL,   -- milliseconds per step
  tool_version    VARCHAR   NOT NULL
);

CREATE TABLE customer_metrics (
  run_id              INTEGER NOT NULL,
  customer_id         VARCHAR NOT NULL,
  first_purchase      DATE    NOT NULL,
  last_purchase       DATE    NOT NULL,
  recency_days        INTEGER NOT NULL,
  tenure_days         INTEGER NOT NULL,
  frequency           INTEGER NOT NULL,  -- purchase orders (distinct order ids, else days), returns excluded
  purchase_days       INTEGER NOT NULL,  -- distinct days with a purchase
  monetary            DOUBLE  NOT NULL,  -- net revenue to as_of: purchases minus returns
  gross_revenue       DOUBLE  NOT NULL,
  returns_value       DOUBLE  NOT NULL,  -- value of returned goods (positive)
  return_lines        INTEGER NOT NULL,
  avg_order_value     DOUBLE  NOT NULL,  -- gross revenue / orders
  margin              DOUBLE,            -- net revenue minus cost, where cost exists
  r_score             TINYINT NOT NULL,
  f_score             TINYINT NOT NULL,
  m_score             TINYINT NOT NULL,
  rfm_segment         VARCHAR NOT NULL,
  bgnbd_x             INTEGER NOT NULL,  -- repeat purchase days
  bgnbd_t_x           DOUBLE  NOT NULL,  -- first to last purchase, in time units
  bgnbd_T             DOUBLE  NOT NULL,  -- first purchase to as_of, in time units
  p_alive             DOUBLE  NOT NULL,
  churn_risk          DOUBLE  NOT NULL,  -- 1 − p_alive (or the recency fallback)
  p_no_purchase       DOUBLE,            -- P(no purchase within the horizon) under BG/NBD (NULL in fallback)
  churn_tier          VARCHAR NOT NULL,  -- low | medium | high
  churn_reason        VARCHAR NOT NULL,
  churn_method        VARCHAR NOT NULL,  -- bgnbd | recency
  expected_purchases  DOUBLE,            -- over the horizon (NULL in fallback)
  expected_order_value DOUBLE,
  clv                 DOUBLE,            -- discounted, over the horizon (NULL in fallback)
  value_tier          VARCHAR NOT NULL,
  value_basis         VARCHAR NOT NULL,  -- clv | net_revenue (fallback)
  net_revenue         DOUBLE  NOT NULL,  -- in the 80/20 window
  revenue_rank        INTEGER,           -- 1 = largest; NULL when net_revenue ≤ 0
  revenue_share       DOUBLE  NOT NULL,  -- of the window's positive net revenue
  cumulative_share    DOUBLE,            -- share of all customers ranked at or above
  abc_class           VARCHAR NOT NULL,  -- A (key accounts) | B | C
  is_key_account      BOOLEAN NOT NULL,
  revenue_current     DOUBLE  NOT NULL,  -- trend window ending at as_of
  revenue_previous    DOUBLE  NOT NULL,  -- the window before it
  revenue_trend       DOUBLE,            -- current / previous − 1 (NULL when previous = 0)
  previous_churn_risk DOUBLE,            -- in the previous run, if scored there
  key_account_at_risk BOOLEAN NOT NULL,  -- a key account with an at-risk reason
  at_risk_reason      VARCHAR,           -- falling revenue, rising or high churn risk (any customer)
  cohort_month        DATE    NOT NULL
);

CREATE VIEW customer_latest AS
SELECT m.* FROM customer_metrics m
WHERE m.run_id = (SELECT max(run_id) FROM runs);

CREATE TABLE cohort_retention (
  run_id          INTEGER NOT NULL,
  cohort_month    DATE    NOT NULL,  -- month of first purchase
  months_since    INTEGER NOT NULL,  -- 0 = the acquisition month
  cohort_size     INTEGER NOT NULL,
  active_customers INTEGER NOT NULL, -- bought in that month
  retention       DOUBLE  NOT NULL,  -- active / cohort size
  revenue         DOUBLE  NOT NULL,  -- net revenue of the cohort in that month
  revenue_per_customer DOUBLE NOT NULL
);

CREATE TABLE segment_migration (
  run_id          INTEGER NOT NULL,
  previous_run_id INTEGER,            -- NULL for the first run
  from_segment    VARCHAR,            -- NULL: not scored in the previous run (new customer)
  to_segment      VARCHAR,            -- NULL: no longer scored (should not happen with growing history)
  customers       INTEGER NOT NULL
);
`,
  },
  {
    version: 3,
    description: 'customer_metrics: fixed vocabularies as ENUMs, derived columns (and the churn reason) computed on read, as_of and time_unit_days per row',
    // Writing 2.5 M rows × 45 columns was most of `crm run`'s time, and DuckDB's cost is per stored
    // value. Columns that are a function of the same row (recency from as_of and the last purchase,
    // average order value, the churn reason's sentence, …) become VIRTUAL generated columns: the
    // same names, types and values, computed when read. The four columns with a fixed vocabulary become ENUMs (one byte each).
    // Columns keep their order; as_of and time_unit_days are added at the end.
    sql: `
ALTER TABLE customer_metrics RENAME TO customer_metrics_v2;

CREATE TABLE customer_metrics (
  run_id              INTEGER NOT NULL,
  customer_id         VARCHAR NOT NULL,
  first_purchase      DATE    NOT NULL,
  last_purchase       DATE    NOT NULL,
  recency_days        INTEGER GENERATED ALWAYS AS (CAST(as_of - last_purchase AS INTEGER)) VIRTUAL,
  tenure_days         INTEGER GENERATED ALWAYS AS (CAST(as_of - first_purchase AS INTEGER)) VIRTUAL,
  frequency           INTEGER NOT NULL,
  purchase_days       INTEGER NOT NULL,
  monetary            DOUBLE  NOT NULL,
  gross_revenue       DOUBLE  NOT NULL,
  returns_value       DOUBLE  NOT NULL,
  return_lines        INTEGER NOT NULL,
  avg_order_value     DOUBLE  GENERATED ALWAYS AS (gross_revenue / frequency) VIRTUAL,
  margin              DOUBLE,
  r_score             TINYINT NOT NULL,
  f_score             TINYINT NOT NULL,
  m_score             TINYINT NOT NULL,
  rfm_segment         VARCHAR NOT NULL,
  bgnbd_x             INTEGER GENERATED ALWAYS AS (purchase_days - 1) VIRTUAL,
  bgnbd_t_x           DOUBLE  GENERATED ALWAYS AS ((last_purchase - first_purchase) / time_unit_days) VIRTUAL,
  bgnbd_T             DOUBLE  GENERATED ALWAYS AS ((as_of - first_purchase) / time_unit_days) VIRTUAL,
  p_alive             DOUBLE  NOT NULL,
  churn_risk          DOUBLE  NOT NULL,
  p_no_purchase       DOUBLE,
  churn_tier          ENUM('low', 'medium', 'high') NOT NULL,
  churn_reason        VARCHAR GENERATED ALWAYS AS (CASE  -- the customer's usual gap: (last − first purchase) / (purchase days − 1)
    WHEN purchase_days = 1 AND recency_days = 0 THEN 'first purchase today'
    WHEN purchase_days = 1 THEN 'bought once, ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || ' ago'
    WHEN recency_days = 0 THEN 'last purchase today; usually buys every ' || CAST(round(CAST(last_purchase - first_purchase AS INTEGER) / (purchase_days - 1)) AS INTEGER) || CASE WHEN CAST(round(CAST(last_purchase - first_purchase AS INTEGER) / (purchase_days - 1)) AS INTEGER) = 1 THEN ' day' ELSE ' days' END
    WHEN recency_days <= CAST(round(CAST(last_purchase - first_purchase AS INTEGER) / (purchase_days - 1)) AS INTEGER) THEN 'last purchase ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || ' ago; usually buys every ' || CAST(round(CAST(last_purchase - first_purchase AS INTEGER) / (purchase_days - 1)) AS INTEGER) || CASE WHEN CAST(round(CAST(last_purchase - first_purchase AS INTEGER) / (purchase_days - 1)) AS INTEGER) = 1 THEN ' day' ELSE ' days' END
    ELSE 'no purchase in ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || '; usually buys every ' || CAST(round(CAST(last_purchase - first_purchase AS INTEGER) / (purchase_days - 1)) AS INTEGER) || CASE WHEN CAST(round(CAST(last_purchase - first_purchase AS INTEGER) / (purchase_days - 1)) AS INTEGER) = 1 THEN ' day' ELSE ' days' END
  END) VIRTUAL,
  churn_method        ENUM('bgnbd', 'recency') NOT NULL,
  expected_purchases  DOUBLE,
  expected_order_value DOUBLE,
  clv                 DOUBLE,
  value_tier          VARCHAR NOT NULL,
  value_basis         ENUM('clv', 'net_revenue') NOT NULL,
  net_revenue         DOUBLE  NOT NULL,
  revenue_rank        INTEGER,
  revenue_share       DOUBLE  NOT NULL,
  cumulative_share    DOUBLE,
  abc_class           ENUM('A', 'B', 'C') NOT NULL,
  is_key_account      BOOLEAN GENERATED ALWAYS AS (abc_class = 'A') VIRTUAL,
  revenue_current     DOUBLE  NOT NULL,
  revenue_previous    DOUBLE  NOT NULL,
  revenue_trend       DOUBLE  GENERATED ALWAYS AS (CASE WHEN revenue_previous > 0 THEN revenue_current / revenue_previous - 1 END) VIRTUAL,
  previous_churn_risk DOUBLE,
  key_account_at_risk BOOLEAN GENERATED ALWAYS AS (abc_class = 'A' AND at_risk_reason IS NOT NULL) VIRTUAL,
  at_risk_reason      VARCHAR,
  cohort_month        DATE    GENERATED ALWAYS AS (CAST(date_trunc('month', first_purchase) AS DATE)) VIRTUAL,
  as_of               DATE    NOT NULL,  -- the run's as-of date (as in runs)
  time_unit_days      DOUBLE  NOT NULL   -- the run's time unit in days: 1, 7 or 30.4375
);

INSERT INTO customer_metrics BY NAME
SELECT m.* EXCLUDE (recency_days, tenure_days, avg_order_value, bgnbd_x, bgnbd_t_x, bgnbd_T, churn_reason, is_key_account, revenue_trend, key_account_at_risk, cohort_month),
       r.as_of,
       CASE r.time_unit WHEN 'day' THEN 1 WHEN 'week' THEN 7 ELSE 30.4375 END AS time_unit_days
FROM customer_metrics_v2 m JOIN runs r USING (run_id);

DROP TABLE customer_metrics_v2;

CREATE OR REPLACE VIEW customer_latest AS
SELECT m.* FROM customer_metrics m
WHERE m.run_id = (SELECT max(run_id) FROM runs);
`,
  },
  {
    version: 4,
    description: 'honest comparisons: revenue_previous is NULL when the data does not cover the previous trend window; runs.fallback_code',
    // revenue_trend (generated from revenue_previous) and the "revenue down" flag follow: NULL,
    // "not enough history", instead of a ratio of a full window to a sliver of one. The fallback
    // code (too_few_customers | no_repeat_purchases | fit_failed) is what a report words in plain
    // language; fallback_reason keeps the technical message.
    sql: `
ALTER TABLE customer_metrics ALTER COLUMN revenue_previous DROP NOT NULL;
ALTER TABLE runs ADD COLUMN fallback_code VARCHAR;
`,
  },
  {
    version: 5,
    description: 'customer_metrics: reason codes with their numbers (at_risk_codes, churn_reason_code, usual_gap_days, at_risk); churn_reason and at_risk_reason worded from them on read',
    // The store holds what a report words in any language: at_risk_codes (stored: the codes depend
    // on the run's thresholds) and the churn reason's code and the customer's usual gap (functions
    // of the row, so VIRTUAL). churn_reason and at_risk_reason keep their names and English text,
    // now generated from the codes and numbers; at_risk is the one home of "at risk". Generated
    // columns change, so the table is rebuilt as in migration 3; existing rows get the codes their
    // at_risk_reason text names (the text is regenerated from the same row values, unchanged).
    sql: `
ALTER TABLE customer_metrics RENAME TO customer_metrics_v4;

CREATE TABLE customer_metrics (
  run_id              INTEGER NOT NULL,
  customer_id         VARCHAR NOT NULL,
  first_purchase      DATE    NOT NULL,
  last_purchase       DATE    NOT NULL,
  recency_days        INTEGER GENERATED ALWAYS AS (CAST(as_of - last_purchase AS INTEGER)) VIRTUAL,
  tenure_days         INTEGER GENERATED ALWAYS AS (CAST(as_of - first_purchase AS INTEGER)) VIRTUAL,
  frequency           INTEGER NOT NULL,
  purchase_days       INTEGER NOT NULL,
  monetary            DOUBLE  NOT NULL,
  gross_revenue       DOUBLE  NOT NULL,
  returns_value       DOUBLE  NOT NULL,
  return_lines        INTEGER NOT NULL,
  avg_order_value     DOUBLE  GENERATED ALWAYS AS (gross_revenue / frequency) VIRTUAL,
  margin              DOUBLE,
  r_score             TINYINT NOT NULL,
  f_score             TINYINT NOT NULL,
  m_score             TINYINT NOT NULL,
  rfm_segment         VARCHAR NOT NULL,
  bgnbd_x             INTEGER GENERATED ALWAYS AS (purchase_days - 1) VIRTUAL,
  bgnbd_t_x           DOUBLE  GENERATED ALWAYS AS ((last_purchase - first_purchase) / time_unit_days) VIRTUAL,
  bgnbd_T             DOUBLE  GENERATED ALWAYS AS ((as_of - first_purchase) / time_unit_days) VIRTUAL,
  p_alive             DOUBLE  NOT NULL,
  churn_risk          DOUBLE  NOT NULL,
  p_no_purchase       DOUBLE,
  churn_tier          ENUM('low', 'medium', 'high') NOT NULL,
  churn_reason        VARCHAR GENERATED ALWAYS AS (CASE churn_reason_code
    WHEN 'first_purchase_today' THEN 'first purchase today'
    WHEN 'bought_once' THEN 'bought once, ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || ' ago'
    WHEN 'last_purchase_today' THEN 'last purchase today; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
    WHEN 'within_usual_gap' THEN 'last purchase ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || ' ago; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
    ELSE 'no purchase in ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || '; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
  END) VIRTUAL,
  churn_method        ENUM('bgnbd', 'recency') NOT NULL,
  expected_purchases  DOUBLE,
  expected_order_value DOUBLE,
  clv                 DOUBLE,
  value_tier          VARCHAR NOT NULL,
  value_basis         ENUM('clv', 'net_revenue') NOT NULL,
  net_revenue         DOUBLE  NOT NULL,
  revenue_rank        INTEGER,
  revenue_share       DOUBLE  NOT NULL,
  cumulative_share    DOUBLE,
  abc_class           ENUM('A', 'B', 'C') NOT NULL,
  is_key_account      BOOLEAN GENERATED ALWAYS AS (abc_class = 'A') VIRTUAL,
  revenue_current     DOUBLE  NOT NULL,
  revenue_previous    DOUBLE,
  revenue_trend       DOUBLE  GENERATED ALWAYS AS (CASE WHEN revenue_previous > 0 THEN revenue_current / revenue_previous - 1 END) VIRTUAL,
  previous_churn_risk DOUBLE,
  key_account_at_risk BOOLEAN GENERATED ALWAYS AS (abc_class = 'A' AND at_risk_codes IS NOT NULL) VIRTUAL,
  at_risk_reason      VARCHAR GENERATED ALWAYS AS (CASE WHEN at_risk_codes IS NOT NULL THEN concat_ws('; ',
    CASE WHEN list_contains(at_risk_codes, 'revenue_down') THEN 'revenue down ' || CAST(round(-revenue_trend * 100) AS INTEGER) || '% on the previous period' END,
    CASE WHEN list_contains(at_risk_codes, 'churn_risk_up') THEN 'churn risk up from ' || CAST(round(previous_churn_risk * 100) AS INTEGER) || '% to ' || CAST(round(churn_risk * 100) AS INTEGER) || '%' END,
    CASE WHEN list_contains(at_risk_codes, 'churn_risk_high') THEN 'high churn risk (' || CAST(round(churn_risk * 100) AS INTEGER) || '%)' END
  ) END) VIRTUAL,
  cohort_month        DATE    GENERATED ALWAYS AS (CAST(date_trunc('month', first_purchase) AS DATE)) VIRTUAL,
  as_of               DATE    NOT NULL,
  time_unit_days      DOUBLE  NOT NULL,
  -- Why the customer is at risk, in this order; NULL when not (models/relations/customer-metrics.ts).
  at_risk_codes       ENUM('revenue_down', 'churn_risk_up', 'churn_risk_high')[],
  at_risk             BOOLEAN GENERATED ALWAYS AS (at_risk_codes IS NOT NULL) VIRTUAL,
  -- The churn reason: the silence (recency_days) against the customer's usual gap between purchase days.
  churn_reason_code   VARCHAR GENERATED ALWAYS AS (CASE
    WHEN purchase_days = 1 AND recency_days = 0 THEN 'first_purchase_today'
    WHEN purchase_days = 1 THEN 'bought_once'
    WHEN recency_days = 0 THEN 'last_purchase_today'
    WHEN recency_days <= usual_gap_days THEN 'within_usual_gap'
    ELSE 'overdue'
  END) VIRTUAL,
  usual_gap_days      INTEGER GENERATED ALWAYS AS (CASE WHEN purchase_days > 1 THEN CAST(round(CAST(last_purchase - first_purchase AS INTEGER) / (purchase_days - 1)) AS INTEGER) END) VIRTUAL
);

INSERT INTO customer_metrics BY NAME
SELECT m.* EXCLUDE (recency_days, tenure_days, avg_order_value, bgnbd_x, bgnbd_t_x, bgnbd_T, churn_reason, is_key_account, revenue_trend, key_account_at_risk, at_risk_reason, cohort_month),
       CASE WHEN m.at_risk_reason IS NOT NULL THEN list_concat(
         CASE WHEN contains(m.at_risk_reason, 'revenue down ') THEN ['revenue_down'] END,
         CASE WHEN contains(m.at_risk_reason, 'churn risk up from ') THEN ['churn_risk_up'] END,
         CASE WHEN contains(m.at_risk_reason, 'high churn risk (') THEN ['churn_risk_high'] END) END AS at_risk_codes
FROM customer_metrics_v4 m;

DROP TABLE customer_metrics_v4;

CREATE OR REPLACE VIEW customer_latest AS
SELECT m.* FROM customer_metrics m
WHERE m.run_id = (SELECT max(run_id) FROM runs);
`,
  },
  {
    version: 6,
    description: 'customer_metrics: the stored values in metrics_customers (no generated columns); customer_metrics a view over it with every column',
    // Writing customer_metrics was the run's largest step: DuckDB evaluates every generated
    // column of each row as it is inserted (to check that it computes) and throws the value away.
    // Measured on 640k customers, in the same go: the insert cost 2.3–2.9× a bare per-customer
    // summary, the same stored columns into a table without generated columns 1.05–1.3×. So the
    // stored values move to metrics_customers (one row per run and customer, the columns of
    // before that were not generated, in their order) and customer_metrics becomes a view with
    // every column of before — same names, types and values — whose expressions are the former
    // generated columns (one home each, here). customer_latest reads it as before.
    // Splitting the rows further by grain (predictions per purchase history, constants per run)
    // wrote faster still (0.8×) but made every read join: `crm report` took 1.4× as long.
    sql: `
ALTER TABLE customer_metrics RENAME TO customer_metrics_v5;

CREATE TABLE metrics_customers (
  run_id               INTEGER NOT NULL,
  customer_id          VARCHAR NOT NULL,
  first_purchase       DATE    NOT NULL,
  last_purchase        DATE    NOT NULL,
  frequency            INTEGER NOT NULL,
  purchase_days        INTEGER NOT NULL,
  monetary             DOUBLE  NOT NULL,
  gross_revenue        DOUBLE  NOT NULL,
  returns_value        DOUBLE  NOT NULL,
  return_lines         INTEGER NOT NULL,
  margin               DOUBLE,
  r_score              TINYINT NOT NULL,
  f_score              TINYINT NOT NULL,
  m_score              TINYINT NOT NULL,
  rfm_segment          VARCHAR NOT NULL,
  p_alive              DOUBLE  NOT NULL,
  churn_risk           DOUBLE  NOT NULL,
  p_no_purchase        DOUBLE,
  churn_tier           ENUM('low', 'medium', 'high') NOT NULL,
  churn_method         ENUM('bgnbd', 'recency') NOT NULL,
  expected_purchases   DOUBLE,
  expected_order_value DOUBLE,
  clv                  DOUBLE,
  value_tier           VARCHAR NOT NULL,
  value_basis          ENUM('clv', 'net_revenue') NOT NULL,
  net_revenue          DOUBLE  NOT NULL,
  revenue_rank         INTEGER,
  revenue_share        DOUBLE  NOT NULL,
  cumulative_share     DOUBLE,
  abc_class            ENUM('A', 'B', 'C') NOT NULL,
  revenue_current      DOUBLE  NOT NULL,
  revenue_previous     DOUBLE,
  previous_churn_risk  DOUBLE,
  as_of                DATE    NOT NULL,  -- the run's as-of date (as in runs)
  time_unit_days       DOUBLE  NOT NULL,  -- the run's time unit in days: 1, 7 or 30.4375
  -- Why the customer is at risk, in this order; NULL when not (models/relations/customer-metrics.ts).
  at_risk_codes        ENUM('revenue_down', 'churn_risk_up', 'churn_risk_high')[]
);

INSERT INTO metrics_customers BY NAME
SELECT * EXCLUDE (recency_days, tenure_days, avg_order_value, bgnbd_x, bgnbd_t_x, bgnbd_T, churn_reason, is_key_account, revenue_trend,
                  key_account_at_risk, at_risk_reason, cohort_month, at_risk, churn_reason_code, usual_gap_days)
FROM customer_metrics_v5;

DROP TABLE customer_metrics_v5;

CREATE VIEW customer_metrics AS
WITH derived AS (
  SELECT *,
         CAST(as_of - last_purchase AS INTEGER) AS recency_days,
         CAST(as_of - first_purchase AS INTEGER) AS tenure_days,
         CAST(CASE WHEN revenue_previous > 0 THEN revenue_current / revenue_previous - 1 END AS DOUBLE) AS revenue_trend,
         -- The customer's usual gap between purchase days.
         CAST(CASE WHEN purchase_days > 1 THEN CAST(round(CAST(last_purchase - first_purchase AS INTEGER) / (purchase_days - 1)) AS INTEGER) END AS INTEGER) AS usual_gap_days
  FROM metrics_customers
),
coded AS (
  SELECT *,
         -- The churn reason: the silence (recency_days) against the customer's usual gap.
         CAST(CASE
           WHEN purchase_days = 1 AND recency_days = 0 THEN 'first_purchase_today'
           WHEN purchase_days = 1 THEN 'bought_once'
           WHEN recency_days = 0 THEN 'last_purchase_today'
           WHEN recency_days <= usual_gap_days THEN 'within_usual_gap'
           ELSE 'overdue'
         END AS VARCHAR) AS churn_reason_code
  FROM derived
)
SELECT run_id, customer_id, first_purchase, last_purchase, recency_days, tenure_days, frequency, purchase_days,
       monetary, gross_revenue, returns_value, return_lines,
       CAST(gross_revenue / frequency AS DOUBLE) AS avg_order_value,
       margin, r_score, f_score, m_score, rfm_segment,
       CAST(purchase_days - 1 AS INTEGER) AS bgnbd_x,
       CAST((last_purchase - first_purchase) / time_unit_days AS DOUBLE) AS bgnbd_t_x,
       CAST((as_of - first_purchase) / time_unit_days AS DOUBLE) AS bgnbd_T,
       p_alive, churn_risk, p_no_purchase, churn_tier,
       CAST(CASE churn_reason_code
         WHEN 'first_purchase_today' THEN 'first purchase today'
         WHEN 'bought_once' THEN 'bought once, ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || ' ago'
         WHEN 'last_purchase_today' THEN 'last purchase today; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
         WHEN 'within_usual_gap' THEN 'last purchase ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || ' ago; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
         ELSE 'no purchase in ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || '; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
       END AS VARCHAR) AS churn_reason,
       churn_method, expected_purchases, expected_order_value, clv, value_tier, value_basis,
       net_revenue, revenue_rank, revenue_share, cumulative_share, abc_class,
       CAST(abc_class = 'A' AS BOOLEAN) AS is_key_account,
       revenue_current, revenue_previous, revenue_trend, previous_churn_risk,
       CAST(abc_class = 'A' AND at_risk_codes IS NOT NULL AS BOOLEAN) AS key_account_at_risk,
       CAST(CASE WHEN at_risk_codes IS NOT NULL THEN concat_ws('; ',
         CASE WHEN list_contains(at_risk_codes, 'revenue_down') THEN 'revenue down ' || CAST(round(-revenue_trend * 100) AS INTEGER) || '% on the previous period' END,
         CASE WHEN list_contains(at_risk_codes, 'churn_risk_up') THEN 'churn risk up from ' || CAST(round(previous_churn_risk * 100) AS INTEGER) || '% to ' || CAST(round(churn_risk * 100) AS INTEGER) || '%' END,
         CASE WHEN list_contains(at_risk_codes, 'churn_risk_high') THEN 'high churn risk (' || CAST(round(churn_risk * 100) AS INTEGER) || '%)' END
       ) END AS VARCHAR) AS at_risk_reason,
       CAST(date_trunc('month', first_purchase) AS DATE) AS cohort_month,
       as_of, time_unit_days, at_risk_codes,
       CAST(at_risk_codes IS NOT NULL AS BOOLEAN) AS at_risk,
       churn_reason_code, usual_gap_days
FROM coded;

CREATE OR REPLACE VIEW customer_latest AS
SELECT m.* FROM customer_metrics m
WHERE m.run_id = (SELECT max(run_id) FROM runs);
`,
  },
  {
    version: 7,
    description: 'contracts: contracts (one row per contract period), contract_metrics and contract_latest (per contract per run), contract_retention (per plan and period per run), runs.contracts',
    // Contractual customers (policies, telecom plans, subscriptions) leave observably: a period
    // is not renewed. `crm ingest contracts` loads one row per contract period, as transactions
    // load one per order line (same provenance columns); `crm run` detects renewals (a period
    // starting within models.contracts.grace_days of the previous one's end), fits the sBG per
    // plan and for the whole book (models/sbg.ts) and writes one row per contract.
    sql: `
CREATE TABLE contracts (
  load_id      INTEGER       NOT NULL,
  source_file  VARCHAR       NOT NULL,
  source_sheet VARCHAR,
  source_row   BIGINT        NOT NULL,
  customer_id  VARCHAR       NOT NULL,
  contract_id  VARCHAR       NOT NULL,  -- policy or subscription number: the periods of one contract share it
  period_start DATE          NOT NULL,
  period_end   DATE          NOT NULL,  -- as the file gives it: the period's last day, or the next period's start
  amount       DECIMAL(18,4) NOT NULL,  -- premium or fee for the period
  plan         VARCHAR,                 -- plan or product
  channel      VARCHAR,
  region       VARCHAR,
  status       VARCHAR,                 -- active | cancelled | lapsed, as the source says (NULL: not given)
  cancel_date  DATE,
  attributes   JSON
);

CREATE TABLE contract_metrics (
  run_id              INTEGER NOT NULL,
  contract_id         VARCHAR NOT NULL,
  customer_id         VARCHAR NOT NULL,
  plan                VARCHAR,
  channel             VARCHAR,
  region              VARCHAR,
  period_unit         VARCHAR NOT NULL,  -- month | quarter | half_year | year | irregular
  first_start         DATE    NOT NULL,  -- start of the contract's first period in its current run of renewals
  period_start        DATE    NOT NULL,  -- the current (or last) period
  period_end          DATE    NOT NULL,
  periods             INTEGER NOT NULL,  -- periods in the current run of renewals
  renewals            INTEGER NOT NULL,  -- renewals survived: periods - 1
  premium             DOUBLE  NOT NULL,  -- amount of the current (or last) period
  total_premium       DOUBLE  NOT NULL,  -- amount over the periods counted
  status              VARCHAR NOT NULL,  -- active | in_grace | lapsed | cancelled, at as_of
  renewal_due         DATE,              -- the next renewal date (period_end), NULL once lapsed or cancelled
  p_renew             DOUBLE,            -- P(renew at renewal_due); NULL when lapsed, cancelled or not modelled
  derl                DOUBLE,            -- discounted expected renewals still to come (periods)
  residual_value      DOUBLE,            -- premium x DERL: expected future premiums, discounted
  residual_value_horizon DOUBLE,         -- the same over the run's horizon (comparable with clv)
  value_at_risk       DOUBLE,            -- residual_value x (1 - p_renew)
  model_plan          VARCHAR,           -- the plan whose fit scored it; NULL: the whole book
  model_kind          VARCHAR,           -- sbg | geometric (a boundary fit's limit) | NULL: not modelled
  as_of               DATE    NOT NULL
);

CREATE VIEW contract_latest AS
SELECT c.* FROM contract_metrics c
WHERE c.run_id = (SELECT max(run_id) FROM runs);

CREATE TABLE contract_retention (
  run_id            INTEGER NOT NULL,
  plan              VARCHAR,           -- NULL: the whole book
  period            INTEGER NOT NULL,  -- renewals made: 0, 1, 2, …
  contracts_at_risk INTEGER NOT NULL,  -- contracts observed long enough to reach this period
  observed_survival DOUBLE,            -- share still in after this many renewals (product-limit estimate), NULL beyond the data
  fitted_survival   DOUBLE,            -- the model's S(period); NULL when not modelled
  period_unit       VARCHAR            -- month | quarter | half_year | year: the unit the periods count
);

ALTER TABLE runs ADD COLUMN contracts JSON;  -- per plan and the whole book: alpha, beta, log_likelihood, standard_errors, contracts, converged, …
`,
  },
  {
    version: 8,
    description: 'every customer once: metrics_customers\' purchase columns nullable (customers with contracts only), contract columns per customer at the end of customer_metrics',
    // A customer with contracts but no purchase by as-of (the usual insurer's or telecom's
    // customer) gets a row: the columns that assume purchases (dates, counts, money, RFM, churn,
    // 80/20, trend) are NULL for them, and the contract columns (models/relations/customer-contracts.ts)
    // are filled; they are NULL for customers without contracts. Stored rows keep every value:
    // only constraints are dropped and columns added. The view is customer_metrics of migration 6
    // with the contract columns appended, and no churn reason without purchases (its CASE ended in
    // 'overdue' for a NULL purchase_days); every existing column keeps its order, name, type and value.
    sql: `
ALTER TABLE metrics_customers ALTER COLUMN first_purchase DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN last_purchase DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN frequency DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN purchase_days DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN monetary DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN gross_revenue DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN returns_value DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN return_lines DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN r_score DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN f_score DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN m_score DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN rfm_segment DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN p_alive DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN churn_risk DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN churn_tier DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN churn_method DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN net_revenue DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN revenue_share DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN abc_class DROP NOT NULL;
ALTER TABLE metrics_customers ALTER COLUMN revenue_current DROP NOT NULL;
ALTER TABLE metrics_customers ADD COLUMN contracts_in_force INTEGER;       -- active or in_grace contracts at as_of (NULL: no contracts)
ALTER TABLE metrics_customers ADD COLUMN contract_premium DOUBLE;          -- premium per period over them (NULL when their period units differ)
ALTER TABLE metrics_customers ADD COLUMN contract_period_unit VARCHAR;     -- that period unit; 'mixed' when they differ
ALTER TABLE metrics_customers ADD COLUMN annual_premium DOUBLE;            -- premium per year over them (premium x periods per year)
ALTER TABLE metrics_customers ADD COLUMN renewal_probability DOUBLE;       -- P(renew) of them, weighted by annual premium
ALTER TABLE metrics_customers ADD COLUMN contract_residual_value DOUBLE;   -- sum of residual_value_horizon (comparable with clv)
ALTER TABLE metrics_customers ADD COLUMN next_renewal_due DATE;            -- the earliest renewal_due of them

CREATE OR REPLACE VIEW customer_metrics AS
WITH derived AS (
  SELECT *,
         CAST(as_of - last_purchase AS INTEGER) AS recency_days,
         CAST(as_of - first_purchase AS INTEGER) AS tenure_days,
         CAST(CASE WHEN revenue_previous > 0 THEN revenue_current / revenue_previous - 1 END AS DOUBLE) AS revenue_trend,
         -- The customer's usual gap between purchase days.
         CAST(CASE WHEN purchase_days > 1 THEN CAST(round(CAST(last_purchase - first_purchase AS INTEGER) / (purchase_days - 1)) AS INTEGER) END AS INTEGER) AS usual_gap_days
  FROM metrics_customers
),
coded AS (
  SELECT *,
         -- The churn reason: the silence (recency_days) against the customer's usual gap.
         CAST(CASE
           WHEN purchase_days IS NULL THEN NULL  -- no purchase (a customer with contracts only): no churn reason
           WHEN purchase_days = 1 AND recency_days = 0 THEN 'first_purchase_today'
           WHEN purchase_days = 1 THEN 'bought_once'
           WHEN recency_days = 0 THEN 'last_purchase_today'
           WHEN recency_days <= usual_gap_days THEN 'within_usual_gap'
           ELSE 'overdue'
         END AS VARCHAR) AS churn_reason_code
  FROM derived
)
SELECT run_id, customer_id, first_purchase, last_purchase, recency_days, tenure_days, frequency, purchase_days,
       monetary, gross_revenue, returns_value, return_lines,
       CAST(gross_revenue / frequency AS DOUBLE) AS avg_order_value,
       margin, r_score, f_score, m_score, rfm_segment,
       CAST(purchase_days - 1 AS INTEGER) AS bgnbd_x,
       CAST((last_purchase - first_purchase) / time_unit_days AS DOUBLE) AS bgnbd_t_x,
       CAST((as_of - first_purchase) / time_unit_days AS DOUBLE) AS bgnbd_T,
       p_alive, churn_risk, p_no_purchase, churn_tier,
       CAST(CASE churn_reason_code
         WHEN 'first_purchase_today' THEN 'first purchase today'
         WHEN 'bought_once' THEN 'bought once, ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || ' ago'
         WHEN 'last_purchase_today' THEN 'last purchase today; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
         WHEN 'within_usual_gap' THEN 'last purchase ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || ' ago; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
         ELSE 'no purchase in ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || '; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
       END AS VARCHAR) AS churn_reason,
       churn_method, expected_purchases, expected_order_value, clv, value_tier, value_basis,
       net_revenue, revenue_rank, revenue_share, cumulative_share, abc_class,
       CAST(abc_class = 'A' AS BOOLEAN) AS is_key_account,
       revenue_current, revenue_previous, revenue_trend, previous_churn_risk,
       CAST(abc_class = 'A' AND at_risk_codes IS NOT NULL AS BOOLEAN) AS key_account_at_risk,
       CAST(CASE WHEN at_risk_codes IS NOT NULL THEN concat_ws('; ',
         CASE WHEN list_contains(at_risk_codes, 'revenue_down') THEN 'revenue down ' || CAST(round(-revenue_trend * 100) AS INTEGER) || '% on the previous period' END,
         CASE WHEN list_contains(at_risk_codes, 'churn_risk_up') THEN 'churn risk up from ' || CAST(round(previous_churn_risk * 100) AS INTEGER) || '% to ' || CAST(round(churn_risk * 100) AS INTEGER) || '%' END,
         CASE WHEN list_contains(at_risk_codes, 'churn_risk_high') THEN 'high churn risk (' || CAST(round(churn_risk * 100) AS INTEGER) || '%)' END
       ) END AS VARCHAR) AS at_risk_reason,
       CAST(date_trunc('month', first_purchase) AS DATE) AS cohort_month,
       as_of, time_unit_days, at_risk_codes,
       CAST(at_risk_codes IS NOT NULL AS BOOLEAN) AS at_risk,
       churn_reason_code, usual_gap_days,
       contracts_in_force, contract_premium, contract_period_unit, annual_premium, renewal_probability,
       contract_residual_value, next_renewal_due
FROM coded;

CREATE OR REPLACE VIEW customer_latest AS
SELECT m.* FROM customer_metrics m
WHERE m.run_id = (SELECT max(run_id) FROM runs);
`,
  },
  {
    version: 9,
    description: 'account owners: owners (owners files), customers.team and owner_email, customer_owners (the owner in effect)',
    // An owners file (crm ingest owners) sets who owns a customer; a customers file may too. The
    // owner in effect is the latest load's, across both kinds (load_id orders loads; within a
    // load, the last row): customer_owners is that rule's one home, and every list that names an
    // owner reads it. A customers row without an owner says nothing about the owner, so it never
    // hides one an owners file gave. Owner rows are kept per load, so replacing an owners file
    // (--replace) brings back the owners it had overridden.
    sql: `
CREATE TABLE owners (
  customer_id   VARCHAR NOT NULL,
  account_owner VARCHAR NOT NULL,
  team          VARCHAR,
  owner_email   VARCHAR,
  attributes    JSON,
  load_id       INTEGER NOT NULL,
  source_file   VARCHAR NOT NULL,
  source_sheet  VARCHAR,
  source_row    BIGINT  NOT NULL
);

ALTER TABLE customers ADD COLUMN team VARCHAR;         -- the account owner's team (customers files that give one)
ALTER TABLE customers ADD COLUMN owner_email VARCHAR;  -- the account owner's e-mail

CREATE VIEW customer_owners AS
SELECT customer_id, account_owner, team, owner_email, load_id, kind AS source_kind
FROM (
  SELECT customer_id, account_owner, team, owner_email, load_id, source_row, 'owners' AS kind FROM owners
  UNION ALL
  SELECT customer_id, account_owner, team, owner_email, load_id, source_row, 'customers' AS kind FROM customers
  WHERE account_owner IS NOT NULL
)
QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY load_id DESC, source_row DESC) = 1;
`,
  },
  {
    version: 10,
    description: 'audit: one row per export, report, on-screen display of personal data and erasure (who, when, what, how many customers, masked or not)',
    // Who received which customers' data is a privacy record (PIPL art. 51, GDPR art. 30): every
    // command that hands customer data out of the store writes one row here, in the same process,
    // before it reports success. Erasures (crm forget) are recorded here too: the fact, the count and
    // the reason, never the erased data. src/store/audit.ts is the one writer.
    sql: `
CREATE SEQUENCE audit_id_seq START 1;
CREATE TABLE audit (
  audit_id     BIGINT    NOT NULL DEFAULT nextval('audit_id_seq') PRIMARY KEY,
  logged_at    TIMESTAMP NOT NULL,       -- UTC, when the command finished its work
  command      VARCHAR   NOT NULL,       -- e.g. 'export segment', 'report', 'customer', 'forget'
  actor        VARCHAR   NOT NULL,       -- --actor, else $CRM_ACTOR, else the OS user
  actor_source VARCHAR   NOT NULL,       -- 'flag' | 'env' | 'os'
  what         VARCHAR   NOT NULL,       -- the target in words: a segment, 'keyaccounts', an owner's book, a file
  path         VARCHAR,                  -- the file or folder written, if any
  run_id       INTEGER,                  -- the run whose scores were handed out, if any
  customers    BIGINT    NOT NULL,       -- distinct customers whose data left the store
  rows         BIGINT,                   -- rows written or shown
  masked       BOOLEAN   NOT NULL,       -- personal data masked (true) or given as stored (false)
  details      JSON                      -- command-specific facts: owner, format, columns, reason
);
`,
  },
  {
    version: 11,
    description: 'one customer, one id: merges (duplicate_id -> surviving_id, from merge files), customer_merges (the merges in effect)',
    // Duplicate customer records split a person's frequency and value. A merge file (crm ingest
    // merges, usually written by crm quality --suggest-merges and reviewed by a person) records
    // which id's history belongs to which: one row per duplicate. Only ids, codes and confidence are
    // stored, never the e-mail, phone or name that matched (they stay in customers, where crm forget
    // finds them). A merge is undone by marking it (crm merges undo), never by deleting it, so the
    // history of who was merged when stays. customer_merges is the one home of "which id a
    // customer's history belongs to": every run reads it (models/relations/merged-history.ts).
    sql: `
CREATE TABLE merges (
  merge_id     INTEGER   NOT NULL,  -- 1, 2, … in load order
  duplicate_id VARCHAR   NOT NULL,  -- the id whose history moves
  surviving_id VARCHAR   NOT NULL,  -- the id that keeps it (never itself a duplicate of an active merge)
  confidence   VARCHAR,             -- high | medium | low, as the merge file gives it (NULL: not given)
  evidence     VARCHAR,             -- codes of what matched, e.g. 'email+phone', 'name+region' (NULL: not given)
  load_id      INTEGER   NOT NULL,
  source_file  VARCHAR   NOT NULL,
  source_sheet VARCHAR,
  source_row   BIGINT    NOT NULL,
  merged_at    TIMESTAMP NOT NULL,  -- UTC, when the merge file was loaded
  undone_at    TIMESTAMP,           -- UTC, when crm merges undo reversed it (NULL: in effect)
  undone_by    VARCHAR              -- who reversed it (--actor, $CRM_ACTOR or the OS user)
);

CREATE VIEW customer_merges AS
SELECT merge_id, duplicate_id, surviving_id, confidence, evidence, load_id, source_file, source_row, merged_at
FROM merges
WHERE undone_at IS NULL;
`,
  },
  {
    version: 12,
    description: 'models users choose: churn_method may name the Pareto/NBD or MBG/NBD; runs.model and runs.purchase_model record the model used',
    // crm run --model bgnbd|pareto-nbd|mbgnbd (src/models/purchase-models.ts). Widening an ENUM keeps
    // every stored value; earlier runs have model NULL (they used the BG/NBD, or the fallback).
    sql: `
ALTER TABLE metrics_customers ALTER COLUMN churn_method TYPE ENUM('bgnbd', 'recency', 'pareto_nbd', 'mbgnbd');
ALTER TABLE runs ADD COLUMN model VARCHAR;        -- key of the purchase model used: bgnbd | pareto_nbd | mbgnbd (NULL: fallback, or a run before migration 12)
ALTER TABLE runs ADD COLUMN purchase_model JSON;  -- the chosen model's report when it is not the BG/NBD (runs.bgnbd holds that one)
`,
  },
  {
    version: 13,
    description: 'contract_metrics: the stored values in contract_metrics_stored and the per-run predictions in contract_predictions; contract_metrics a view over them with every column',
    // Writing contract_metrics was a third of the contract part of crm run at 1M contracts, most
    // of it compressing columns that repeat what a few others say: renewals (periods - 1),
    // renewal_due (period_end while in force), status and period_unit as text, and five DOUBLEs
    // and two texts that depend on a contract only through (plan, period_unit, renewals) — the
    // sBG predictions the run computes once per such key (models/relations/contract-metrics.ts).
    // So the rows keep only what is the contract's own (status and period_unit as ENUMs), the
    // predictions are stored once per run and key in contract_predictions, and contract_metrics
    // becomes a view with every column of before — same names, types, order and values — that
    // derives the rest (one home each, here). Rows written before this migration stay as they
    // were, in contract_metrics_v7, read by the same view.
    sql: `
DROP VIEW contract_latest;
ALTER TABLE contract_metrics RENAME TO contract_metrics_v7;

CREATE TABLE contract_metrics_stored (
  run_id        INTEGER NOT NULL,
  contract_id   VARCHAR NOT NULL,
  customer_id   VARCHAR NOT NULL,
  plan          VARCHAR,
  channel       VARCHAR,
  region        VARCHAR,
  period_unit   ENUM('month', 'quarter', 'half_year', 'year', 'irregular') NOT NULL,
  first_start   DATE    NOT NULL,  -- start of the contract's first period in its current run of renewals
  period_start  DATE    NOT NULL,  -- the current (or last) period
  period_end    DATE    NOT NULL,
  periods       INTEGER NOT NULL,  -- periods in the current run of renewals
  premium       DOUBLE  NOT NULL,  -- amount of the current (or last) period
  total_premium DOUBLE  NOT NULL,  -- amount over the periods counted
  status        ENUM('active', 'in_grace', 'lapsed', 'cancelled') NOT NULL,  -- at as_of
  as_of         DATE    NOT NULL
);

CREATE TABLE contract_predictions (
  run_id                    INTEGER NOT NULL,
  plan                      VARCHAR,           -- the contracts' plan (NULL: contracts without one)
  period_unit               VARCHAR NOT NULL,  -- month | quarter | half_year | year
  renewals                  INTEGER NOT NULL,  -- renewals survived
  model_plan                VARCHAR,           -- the plan whose fit scores them; NULL: the whole book of the unit
  model_kind                VARCHAR NOT NULL,  -- sbg | geometric (a boundary fit's limit)
  p_renew                   DOUBLE,            -- P(renew at the next renewal)
  derl                      DOUBLE,            -- discounted expected renewals still to come (periods)
  value_per_premium         DOUBLE,            -- residual value per unit of premium (NULL where the sum diverges)
  value_per_premium_horizon DOUBLE             -- the same over the run's horizon
);

CREATE VIEW contract_metrics AS
SELECT * FROM contract_metrics_v7
UNION ALL
SELECT s.run_id, s.contract_id, s.customer_id, s.plan, s.channel, s.region,
       CAST(s.period_unit AS VARCHAR) AS period_unit,
       s.first_start, s.period_start, s.period_end, s.periods,
       CAST(s.periods - 1 AS INTEGER) AS renewals,
       s.premium, s.total_premium,
       CAST(s.status AS VARCHAR) AS status,
       -- The next renewal date while in force (active or in grace).
       CASE WHEN s.status IN ('active', 'in_grace') THEN s.period_end END AS renewal_due,
       -- Lapsed and cancelled contracts expect no more premiums and have no renewal probability.
       CASE WHEN s.status IN ('active', 'in_grace') THEN p.p_renew END AS p_renew,
       CASE WHEN s.status IN ('lapsed', 'cancelled') THEN 0 ELSE p.derl END AS derl,
       CASE WHEN s.status IN ('lapsed', 'cancelled') THEN 0 ELSE s.premium * p.value_per_premium END AS residual_value,
       CASE WHEN s.status IN ('lapsed', 'cancelled') THEN 0 ELSE s.premium * p.value_per_premium_horizon END AS residual_value_horizon,
       CASE WHEN s.status IN ('lapsed', 'cancelled') THEN 0 ELSE s.premium * p.value_per_premium * (1 - p.p_renew) END AS value_at_risk,
       CASE WHEN s.status IN ('active', 'in_grace') THEN p.model_plan END AS model_plan,
       CASE WHEN s.status IN ('active', 'in_grace') THEN p.model_kind END AS model_kind,
       s.as_of
FROM contract_metrics_stored s
LEFT JOIN contract_predictions p
  ON p.run_id = s.run_id
 AND p.plan IS NOT DISTINCT FROM s.plan
 AND p.period_unit = CAST(s.period_unit AS VARCHAR)
 AND p.renewals = s.periods - 1;

CREATE VIEW contract_latest AS
SELECT c.* FROM contract_metrics c
WHERE c.run_id = (SELECT max(run_id) FROM runs);
`,
  },
  {
    version: 14,
    description: 'account owners in customers: customers.account_owner, team and owner_email hold the owner in effect; file_account_owner, file_team, file_owner_email what the customers file said',
    // Issue #11: an owners file sets customers.account_owner, the later load wins. Analysts query
    // that column, so it holds the owner in effect (customer_owners, still the rule's one home);
    // what the customers file itself said moves to file_* columns, which the view reads, so that
    // --replace of an owners file still brings back the owners it overrode. Every load that can
    // change the owner in effect ends with src/store/owners.ts's refresh; here it runs once.
    sql: `
ALTER TABLE customers ADD COLUMN file_account_owner VARCHAR;  -- the account owner as the customers file gave it (NULL: none)
ALTER TABLE customers ADD COLUMN file_team VARCHAR;           -- the owner's team as the customers file gave it
ALTER TABLE customers ADD COLUMN file_owner_email VARCHAR;    -- the owner's e-mail as the customers file gave it
UPDATE customers SET file_account_owner = account_owner, file_team = team, file_owner_email = owner_email;

CREATE OR REPLACE VIEW customer_owners AS
SELECT customer_id, account_owner, team, owner_email, load_id, kind AS source_kind
FROM (
  SELECT customer_id, account_owner, team, owner_email, load_id, source_row, 'owners' AS kind FROM owners
  UNION ALL
  SELECT customer_id, file_account_owner, file_team, file_owner_email, load_id, source_row, 'customers' AS kind FROM customers
  WHERE file_account_owner IS NOT NULL
)
QUALIFY row_number() OVER (PARTITION BY customer_id ORDER BY load_id DESC, source_row DESC) = 1;

${REFRESH_OWNERS_IN_EFFECT_SQL};
`,
  },
  {
    version: 15,
    description: 'crm run --model auto: runs.model_choice holds the models compared and the one chosen',
    // Issue #12 §2: the comparison table (models/model-choice.ts) is part of the run's record;
    // NULL for runs that fitted one model.
    sql: `
ALTER TABLE runs ADD COLUMN model_choice JSON;  -- --model auto: basis (holdout|bic), chosen, and per model its key, log_likelihood, parameters, bic, holdout_mae, aucs, converged, chosen, excluded
`,
  },
  {
    version: 18,
    description: 'intervals (issue #12 §3): metrics_customers and customer_metrics gain expected_purchases_low, expected_purchases_high, clv_low, clv_high; run_intervals holds each run\'s level and covariances',
    // The bounds come from the parameters' sampling uncertainty (models/intervals.ts: the delta
    // method on the log scale), computed per distinct history and written with each customer's
    // row (relations/customer-metrics.ts), like expected_purchases. They were first kept per
    // history in a table of their own, joined by the view: on 2.5M customers every read of
    // customer_metrics then took 10-20x as long (a count per segment 2.7-3.1 s against
    // 0.14-0.28 s; DuckDB drops no unused LEFT JOIN, even on a key), so they are stored per
    // customer: four DOUBLE columns at the end, NULL for runs before this migration. The view is
    // migration 8's with the four columns appended. run_intervals keeps what crm forecast needs
    // to draw a band for any group of customers: the level, z and both models' estimates and
    // covariances. run_forecast holds the run's 12-month projection of all its customers, which
    // the report shows: computing it per report took 6 s on 2.5M customers.
    sql: `
ALTER TABLE metrics_customers ADD COLUMN expected_purchases_low DOUBLE;   -- interval of expected_purchases at the run's level (NULL: no intervals)
ALTER TABLE metrics_customers ADD COLUMN expected_purchases_high DOUBLE;
ALTER TABLE metrics_customers ADD COLUMN clv_low DOUBLE;                  -- interval of clv (purchase and spend uncertainty)
ALTER TABLE metrics_customers ADD COLUMN clv_high DOUBLE;

CREATE TABLE run_intervals (
  run_id              INTEGER NOT NULL,
  level               DOUBLE  NOT NULL,  -- e.g. 0.9 (crm run --interval, models.interval)
  z                   DOUBLE  NOT NULL,  -- the normal quantile of (1 + level) / 2
  method              VARCHAR NOT NULL,  -- 'delta_log'
  model               VARCHAR NOT NULL,  -- the purchase model's key
  purchase_params     JSON    NOT NULL,  -- its estimates by name
  purchase_covariance DOUBLE[] NOT NULL, -- covariance of its ln params, row by row (models/intervals.ts PARAMETER_ORDER)
  gg_p                DOUBLE,            -- the Gamma-Gamma estimate (NULL: no usable fit, no spend spread)
  gg_q                DOUBLE,
  gg_v                DOUBLE,
  gg_covariance       DOUBLE[]           -- covariance of (ln p, ln q, ln v), row by row
);

CREATE TABLE run_forecast (
  run_id                  INTEGER NOT NULL,
  month                   INTEGER,           -- 1..12 after as_of; NULL: the 12 months together
  month_end               DATE,
  expected_purchases      DOUBLE,            -- of all the run's customers (crm forecast's computation)
  expected_purchases_low  DOUBLE,
  expected_purchases_high DOUBLE,
  value                   DOUBLE,            -- discounted to as_of
  value_low               DOUBLE,
  value_high              DOUBLE
);

CREATE OR REPLACE VIEW customer_metrics AS
WITH derived AS (
  SELECT *,
         CAST(as_of - last_purchase AS INTEGER) AS recency_days,
         CAST(as_of - first_purchase AS INTEGER) AS tenure_days,
         CAST(CASE WHEN revenue_previous > 0 THEN revenue_current / revenue_previous - 1 END AS DOUBLE) AS revenue_trend,
         -- The customer's usual gap between purchase days.
         CAST(CASE WHEN purchase_days > 1 THEN CAST(round(CAST(last_purchase - first_purchase AS INTEGER) / (purchase_days - 1)) AS INTEGER) END AS INTEGER) AS usual_gap_days
  FROM metrics_customers
),
coded AS (
  SELECT *,
         -- The churn reason: the silence (recency_days) against the customer's usual gap.
         CAST(CASE
           WHEN purchase_days IS NULL THEN NULL  -- no purchase (a customer with contracts only): no churn reason
           WHEN purchase_days = 1 AND recency_days = 0 THEN 'first_purchase_today'
           WHEN purchase_days = 1 THEN 'bought_once'
           WHEN recency_days = 0 THEN 'last_purchase_today'
           WHEN recency_days <= usual_gap_days THEN 'within_usual_gap'
           ELSE 'overdue'
         END AS VARCHAR) AS churn_reason_code
  FROM derived
)
SELECT run_id, customer_id, first_purchase, last_purchase, recency_days, tenure_days, frequency, purchase_days,
       monetary, gross_revenue, returns_value, return_lines,
       CAST(gross_revenue / frequency AS DOUBLE) AS avg_order_value,
       margin, r_score, f_score, m_score, rfm_segment,
       CAST(purchase_days - 1 AS INTEGER) AS bgnbd_x,
       CAST((last_purchase - first_purchase) / time_unit_days AS DOUBLE) AS bgnbd_t_x,
       CAST((as_of - first_purchase) / time_unit_days AS DOUBLE) AS bgnbd_T,
       p_alive, churn_risk, p_no_purchase, churn_tier,
       CAST(CASE churn_reason_code
         WHEN 'first_purchase_today' THEN 'first purchase today'
         WHEN 'bought_once' THEN 'bought once, ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || ' ago'
         WHEN 'last_purchase_today' THEN 'last purchase today; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
         WHEN 'within_usual_gap' THEN 'last purchase ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || ' ago; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
         ELSE 'no purchase in ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || '; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
       END AS VARCHAR) AS churn_reason,
       churn_method, expected_purchases, expected_order_value, clv, value_tier, value_basis,
       net_revenue, revenue_rank, revenue_share, cumulative_share, abc_class,
       CAST(abc_class = 'A' AS BOOLEAN) AS is_key_account,
       revenue_current, revenue_previous, revenue_trend, previous_churn_risk,
       CAST(abc_class = 'A' AND at_risk_codes IS NOT NULL AS BOOLEAN) AS key_account_at_risk,
       CAST(CASE WHEN at_risk_codes IS NOT NULL THEN concat_ws('; ',
         CASE WHEN list_contains(at_risk_codes, 'revenue_down') THEN 'revenue down ' || CAST(round(-revenue_trend * 100) AS INTEGER) || '% on the previous period' END,
         CASE WHEN list_contains(at_risk_codes, 'churn_risk_up') THEN 'churn risk up from ' || CAST(round(previous_churn_risk * 100) AS INTEGER) || '% to ' || CAST(round(churn_risk * 100) AS INTEGER) || '%' END,
         CASE WHEN list_contains(at_risk_codes, 'churn_risk_high') THEN 'high churn risk (' || CAST(round(churn_risk * 100) AS INTEGER) || '%)' END
       ) END AS VARCHAR) AS at_risk_reason,
       CAST(date_trunc('month', first_purchase) AS DATE) AS cohort_month,
       as_of, time_unit_days, at_risk_codes,
       CAST(at_risk_codes IS NOT NULL AS BOOLEAN) AS at_risk,
       churn_reason_code, usual_gap_days,
       contracts_in_force, contract_premium, contract_period_unit, annual_premium, renewal_probability,
       contract_residual_value, next_renewal_due,
       expected_purchases_low, expected_purchases_high, clv_low, clv_high
FROM coded;

CREATE OR REPLACE VIEW customer_latest AS
SELECT m.* FROM customer_metrics m
WHERE m.run_id = (SELECT max(run_id) FROM runs);
`,
  },
  {
    version: 21,
    description: 'crm run --covariates: runs.covariates holds the covariate model (levels, coefficients with standard errors, likelihood-ratio test)',
    // Issue #12 §5 (run/covariates.ts): NULL for runs without --covariates.
    sql: `
ALTER TABLE runs ADD COLUMN covariates JSON;  -- --covariates: names, model, variables (baseline, levels with customers and coefficients ± se, pooled), baseline parameters, log_likelihood, converged, used, lr_test
`,
  },
  {
    version: 22,
    description: 'metrics_customers and customer_metrics gain churn_basis (what the churn tier was cut from); the at-risk reason words a high tier with that score',
    // Issue #12 §4 made p_no_purchase the churn tiers' default basis, but at_risk_reason still
    // said "high churn risk (18%)" with 1 − P(alive) for a customer put in the high tier by a 72%
    // chance of no purchase: a figure that misleads. The row now records its basis
    // ('p_no_purchase', 'churn_risk', or 'recency' for the fallback; NULL before this migration,
    // when it was churn_risk), and the reason quotes the score the tier was cut from.
    sql: `
ALTER TABLE metrics_customers ADD COLUMN churn_basis VARCHAR;  -- p_no_purchase | churn_risk | recency (NULL: runs before migration 22, cut on churn_risk)

CREATE OR REPLACE VIEW customer_metrics AS
WITH derived AS (
  SELECT *,
         CAST(as_of - last_purchase AS INTEGER) AS recency_days,
         CAST(as_of - first_purchase AS INTEGER) AS tenure_days,
         CAST(CASE WHEN revenue_previous > 0 THEN revenue_current / revenue_previous - 1 END AS DOUBLE) AS revenue_trend,
         -- The customer's usual gap between purchase days.
         CAST(CASE WHEN purchase_days > 1 THEN CAST(round(CAST(last_purchase - first_purchase AS INTEGER) / (purchase_days - 1)) AS INTEGER) END AS INTEGER) AS usual_gap_days
  FROM metrics_customers
),
coded AS (
  SELECT *,
         -- The churn reason: the silence (recency_days) against the customer's usual gap.
         CAST(CASE
           WHEN purchase_days IS NULL THEN NULL  -- no purchase (a customer with contracts only): no churn reason
           WHEN purchase_days = 1 AND recency_days = 0 THEN 'first_purchase_today'
           WHEN purchase_days = 1 THEN 'bought_once'
           WHEN recency_days = 0 THEN 'last_purchase_today'
           WHEN recency_days <= usual_gap_days THEN 'within_usual_gap'
           ELSE 'overdue'
         END AS VARCHAR) AS churn_reason_code
  FROM derived
)
SELECT run_id, customer_id, first_purchase, last_purchase, recency_days, tenure_days, frequency, purchase_days,
       monetary, gross_revenue, returns_value, return_lines,
       CAST(gross_revenue / frequency AS DOUBLE) AS avg_order_value,
       margin, r_score, f_score, m_score, rfm_segment,
       CAST(purchase_days - 1 AS INTEGER) AS bgnbd_x,
       CAST((last_purchase - first_purchase) / time_unit_days AS DOUBLE) AS bgnbd_t_x,
       CAST((as_of - first_purchase) / time_unit_days AS DOUBLE) AS bgnbd_T,
       p_alive, churn_risk, p_no_purchase, churn_tier,
       CAST(CASE churn_reason_code
         WHEN 'first_purchase_today' THEN 'first purchase today'
         WHEN 'bought_once' THEN 'bought once, ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || ' ago'
         WHEN 'last_purchase_today' THEN 'last purchase today; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
         WHEN 'within_usual_gap' THEN 'last purchase ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || ' ago; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
         ELSE 'no purchase in ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || '; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
       END AS VARCHAR) AS churn_reason,
       churn_method, expected_purchases, expected_order_value, clv, value_tier, value_basis,
       net_revenue, revenue_rank, revenue_share, cumulative_share, abc_class,
       CAST(abc_class = 'A' AS BOOLEAN) AS is_key_account,
       revenue_current, revenue_previous, revenue_trend, previous_churn_risk,
       CAST(abc_class = 'A' AND at_risk_codes IS NOT NULL AS BOOLEAN) AS key_account_at_risk,
       CAST(CASE WHEN at_risk_codes IS NOT NULL THEN concat_ws('; ',
         CASE WHEN list_contains(at_risk_codes, 'revenue_down') THEN 'revenue down ' || CAST(round(-revenue_trend * 100) AS INTEGER) || '% on the previous period' END,
         CASE WHEN list_contains(at_risk_codes, 'churn_risk_up') THEN 'churn risk up from ' || CAST(round(previous_churn_risk * 100) AS INTEGER) || '% to ' || CAST(round(churn_risk * 100) AS INTEGER) || '%' END,
         CASE WHEN list_contains(at_risk_codes, 'churn_risk_high') THEN CASE churn_basis
            WHEN 'p_no_purchase' THEN 'high churn risk (' || CAST(round(p_no_purchase * 100) AS INTEGER) || '% chance of no purchase within the horizon)'
            ELSE 'high churn risk (' || CAST(round(churn_risk * 100) AS INTEGER) || '%)' END END
       ) END AS VARCHAR) AS at_risk_reason,
       CAST(date_trunc('month', first_purchase) AS DATE) AS cohort_month,
       as_of, time_unit_days, at_risk_codes,
       CAST(at_risk_codes IS NOT NULL AS BOOLEAN) AS at_risk,
       churn_reason_code, usual_gap_days,
       contracts_in_force, contract_premium, contract_period_unit, annual_premium, renewal_probability,
       contract_residual_value, next_renewal_due,
       expected_purchases_low, expected_purchases_high, clv_low, clv_high,
       churn_basis
FROM coded;

CREATE OR REPLACE VIEW customer_latest AS
SELECT m.* FROM customer_metrics m
WHERE m.run_id = (SELECT max(run_id) FROM runs);
`,
  },
  {
    version: 23,
    description: 'crm run --model bgbb: churn_method may name the BG/BB',
    // The BG/BB (models/bgbb.ts) scores customers on whole periods (crm run --model bgbb
    // --time-unit month|year). Widening the ENUM keeps every stored value; customer_metrics is
    // recreated over it (a DuckDB view keeps the column types it was created with), the same
    // view as migration 22's.
    sql: `
ALTER TABLE metrics_customers ALTER COLUMN churn_method TYPE ENUM('bgnbd', 'recency', 'pareto_nbd', 'mbgnbd', 'bgbb');

CREATE OR REPLACE VIEW customer_metrics AS
WITH derived AS (
  SELECT *,
         CAST(as_of - last_purchase AS INTEGER) AS recency_days,
         CAST(as_of - first_purchase AS INTEGER) AS tenure_days,
         CAST(CASE WHEN revenue_previous > 0 THEN revenue_current / revenue_previous - 1 END AS DOUBLE) AS revenue_trend,
         -- The customer's usual gap between purchase days.
         CAST(CASE WHEN purchase_days > 1 THEN CAST(round(CAST(last_purchase - first_purchase AS INTEGER) / (purchase_days - 1)) AS INTEGER) END AS INTEGER) AS usual_gap_days
  FROM metrics_customers
),
coded AS (
  SELECT *,
         -- The churn reason: the silence (recency_days) against the customer's usual gap.
         CAST(CASE
           WHEN purchase_days IS NULL THEN NULL  -- no purchase (a customer with contracts only): no churn reason
           WHEN purchase_days = 1 AND recency_days = 0 THEN 'first_purchase_today'
           WHEN purchase_days = 1 THEN 'bought_once'
           WHEN recency_days = 0 THEN 'last_purchase_today'
           WHEN recency_days <= usual_gap_days THEN 'within_usual_gap'
           ELSE 'overdue'
         END AS VARCHAR) AS churn_reason_code
  FROM derived
)
SELECT run_id, customer_id, first_purchase, last_purchase, recency_days, tenure_days, frequency, purchase_days,
       monetary, gross_revenue, returns_value, return_lines,
       CAST(gross_revenue / frequency AS DOUBLE) AS avg_order_value,
       margin, r_score, f_score, m_score, rfm_segment,
       CAST(purchase_days - 1 AS INTEGER) AS bgnbd_x,
       CAST((last_purchase - first_purchase) / time_unit_days AS DOUBLE) AS bgnbd_t_x,
       CAST((as_of - first_purchase) / time_unit_days AS DOUBLE) AS bgnbd_T,
       p_alive, churn_risk, p_no_purchase, churn_tier,
       CAST(CASE churn_reason_code
         WHEN 'first_purchase_today' THEN 'first purchase today'
         WHEN 'bought_once' THEN 'bought once, ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || ' ago'
         WHEN 'last_purchase_today' THEN 'last purchase today; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
         WHEN 'within_usual_gap' THEN 'last purchase ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || ' ago; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
         ELSE 'no purchase in ' || recency_days || CASE WHEN recency_days = 1 THEN ' day' ELSE ' days' END || '; usually buys every ' || usual_gap_days || CASE WHEN usual_gap_days = 1 THEN ' day' ELSE ' days' END
       END AS VARCHAR) AS churn_reason,
       churn_method, expected_purchases, expected_order_value, clv, value_tier, value_basis,
       net_revenue, revenue_rank, revenue_share, cumulative_share, abc_class,
       CAST(abc_class = 'A' AS BOOLEAN) AS is_key_account,
       revenue_current, revenue_previous, revenue_trend, previous_churn_risk,
       CAST(abc_class = 'A' AND at_risk_codes IS NOT NULL AS BOOLEAN) AS key_account_at_risk,
       CAST(CASE WHEN at_risk_codes IS NOT NULL THEN concat_ws('; ',
         CASE WHEN list_contains(at_risk_codes, 'revenue_down') THEN 'revenue down ' || CAST(round(-revenue_trend * 100) AS INTEGER) || '% on the previous period' END,
         CASE WHEN list_contains(at_risk_codes, 'churn_risk_up') THEN 'churn risk up from ' || CAST(round(previous_churn_risk * 100) AS INTEGER) || '% to ' || CAST(round(churn_risk * 100) AS INTEGER) || '%' END,
         CASE WHEN list_contains(at_risk_codes, 'churn_risk_high') THEN CASE churn_basis
            WHEN 'p_no_purchase' THEN 'high churn risk (' || CAST(round(p_no_purchase * 100) AS INTEGER) || '% chance of no purchase within the horizon)'
            ELSE 'high churn risk (' || CAST(round(churn_risk * 100) AS INTEGER) || '%)' END END
       ) END AS VARCHAR) AS at_risk_reason,
       CAST(date_trunc('month', first_purchase) AS DATE) AS cohort_month,
       as_of, time_unit_days, at_risk_codes,
       CAST(at_risk_codes IS NOT NULL AS BOOLEAN) AS at_risk,
       churn_reason_code, usual_gap_days,
       contracts_in_force, contract_premium, contract_period_unit, annual_premium, renewal_probability,
       contract_residual_value, next_renewal_due,
       expected_purchases_low, expected_purchases_high, clv_low, clv_high,
       churn_basis
FROM coded;

CREATE OR REPLACE VIEW customer_latest AS
SELECT m.* FROM customer_metrics m
WHERE m.run_id = (SELECT max(run_id) FROM runs);
`,
  },
  {
    version: 24,
    description: 'bgbb_histories: the period history (x, t_x, n) of each customer of a BG/BB run, which crm forecast projects',
    // crm run --model bgbb (relations/period-histories.ts): what the BG/BB saw of each customer,
    // in whole periods of the run's time unit (runs.time_unit: month or year). customer_metrics
    // keeps the day history of every run; this table only the BG/BB runs' period histories.
    sql: `
CREATE TABLE bgbb_histories (
  run_id       INTEGER NOT NULL,
  customer_id  VARCHAR NOT NULL,
  x            INTEGER NOT NULL,  -- whole periods after the first with a purchase
  t_x          INTEGER NOT NULL,  -- the period of the last of them, counted from the first (0 when x = 0)
  n            INTEGER NOT NULL   -- whole periods after the first, up to as-of
);
`,
  },
  {
    version: 28,
    description: 'transactions: a view over transactions_narrow (loads with only the core columns) and transactions_wide (every column); same columns, types and values',
    // Writing the 18-column table was the largest step of `crm ingest transactions` on a
    // typical four-column export, and half of it went to the nine columns such a file leaves
    // empty (DuckDB 1.5: 11.2 against 8.0 CPU-s on 9.8M lines). A load whose mapping has none
    // of quantity, unit_price, cost, product, category, channel, region, no unmapped columns
    // (attributes) and no sheet goes to transactions_narrow, which has no such columns; any
    // other load to transactions_wide, the table of before (so every row of an older store
    // stays where it was). Each load is in exactly one of them. `transactions` is a view with
    // the columns of before, in their order and types: the narrow rows show NULL there, as
    // they were stored before. Writers name a table (src/store/transactions.ts); readers the view.
    sql: `
ALTER TABLE transactions RENAME TO transactions_wide;

CREATE TABLE transactions_narrow (
  load_id      INTEGER       NOT NULL,
  source_file  VARCHAR       NOT NULL,
  source_row   BIGINT        NOT NULL,
  customer_id  VARCHAR       NOT NULL,
  order_id     VARCHAR,
  order_date   DATE          NOT NULL,
  order_ts     TIMESTAMP,
  amount       DECIMAL(18,4) NOT NULL,
  is_return    BOOLEAN       NOT NULL
);

CREATE VIEW transactions AS
SELECT load_id, source_file, source_sheet, source_row, customer_id, order_id, order_date, order_ts,
       quantity, unit_price, amount, cost, product, category, channel, region, is_return, attributes
FROM transactions_wide
UNION ALL
SELECT load_id, source_file, CAST(NULL AS VARCHAR) AS source_sheet, source_row, customer_id, order_id, order_date, order_ts,
       CAST(NULL AS DECIMAL(18,4)) AS quantity, CAST(NULL AS DECIMAL(18,4)) AS unit_price, amount,
       CAST(NULL AS DECIMAL(18,4)) AS cost, CAST(NULL AS VARCHAR) AS product, CAST(NULL AS VARCHAR) AS category,
       CAST(NULL AS VARCHAR) AS channel, CAST(NULL AS VARCHAR) AS region, is_return, CAST(NULL AS JSON) AS attributes
FROM transactions_narrow;
`,
  },
  {
    version: 31,
    description: 'transactions_narrow: customer_id and order_id stored with FSST, source_file with a dictionary, without trying the other compressions; same columns, types and values',
    // DuckDB picks each column segment's compression by trying every method that fits the type.
    // For the ids of a typical export (C0000318, O00000318: most values distinct within a row
    // group) it always picks FSST, but trying dictionary compression first cost as much again:
    // writing the two id columns of 9.8M lines took 5.4 CPU-s chosen automatically and 3.1–3.4
    // with FSST named (DuckDB 1.5.6). source_file holds one value per load, which dictionary
    // compression stores once. The table is rebuilt with the same rows; the view reads it by name.
    sql: `
ALTER TABLE transactions_narrow RENAME TO transactions_narrow_28;

CREATE TABLE transactions_narrow (
  load_id      INTEGER       NOT NULL,
  source_file  VARCHAR       USING COMPRESSION dictionary NOT NULL,
  source_row   BIGINT        NOT NULL,
  customer_id  VARCHAR       USING COMPRESSION fsst NOT NULL,
  order_id     VARCHAR       USING COMPRESSION fsst,
  order_date   DATE          NOT NULL,
  order_ts     TIMESTAMP,
  amount       DECIMAL(18,4) NOT NULL,
  is_return    BOOLEAN       NOT NULL
);

INSERT INTO transactions_narrow SELECT * FROM transactions_narrow_28;

DROP TABLE transactions_narrow_28;
`,
  },
  {
    version: 33,
    description: 'contracts: customer_id and contract_id stored with FSST, source_file, source_sheet, plan, channel, region and status with a dictionary, without trying the other compressions; same columns, types and values',
    // As migration 31 for transactions_narrow: DuckDB tries every compression that fits a
    // column segment before writing it. Writing the 3.6M periods of 1M contracts (the bench's
    // policy book) took 3.6-3.9 CPU-s with the compressions chosen and 2.9-3.1 with them named
    // (DuckDB 1.5.6). The ids are mostly distinct within a row group (FSST); the file name, sheet
    // and the plan, channel, region and status words are a few values each (a dictionary, which
    // DuckDB picked for them anyway). The table is rebuilt with the same rows, in the same order
    // (insertion order is preserved); views read it by name.
    sql: `
ALTER TABLE contracts RENAME TO contracts_7;

CREATE TABLE contracts (
  load_id      INTEGER       NOT NULL,
  source_file  VARCHAR       USING COMPRESSION dictionary NOT NULL,
  source_sheet VARCHAR       USING COMPRESSION dictionary,
  source_row   BIGINT        NOT NULL,
  customer_id  VARCHAR       USING COMPRESSION fsst NOT NULL,
  contract_id  VARCHAR       USING COMPRESSION fsst NOT NULL,  -- policy or subscription number: the periods of one contract share it
  period_start DATE          NOT NULL,
  period_end   DATE          NOT NULL,  -- as the file gives it: the period's last day, or the next period's start
  amount       DECIMAL(18,4) NOT NULL,  -- premium or fee for the period
  plan         VARCHAR       USING COMPRESSION dictionary,  -- plan or product
  channel      VARCHAR       USING COMPRESSION dictionary,
  region       VARCHAR       USING COMPRESSION dictionary,
  status       VARCHAR       USING COMPRESSION dictionary,  -- active | cancelled | lapsed, as the source says (NULL: not given)
  cancel_date  DATE,
  attributes   JSON
);

INSERT INTO contracts SELECT * FROM contracts_7;

DROP TABLE contracts_7;
`,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
