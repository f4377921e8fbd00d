/**
 * The store's schema as an ordered list of migrations. A store records the highest version
 * applied in `schema_version`; opening a store applies the missing ones in order, each in its
 * own transaction, so a store written by an older crm-analytics still opens. Never edit a
 * released migration: add a new one.
 */
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
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
