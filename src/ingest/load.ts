/**
 * Loading: number the staged rows back to their row in the file, then — inside the caller's
 * transaction — copy good rows to `transactions`/`customers`/`contracts`, bad ones to `rejects`, and
 * record the file in `loads`.
 */
import type { Store } from '../store/db.js';
import { ident, literal } from '../store/db.js';
import { countLines, scanCsvRecords } from './file-scan.js';
import type { DatasetKind } from './fields.js';
import type { SourceTable } from './sources.js';
import { writeMerges } from '../merges/load.js';
import { NARROW_COLUMNS, NARROW_TABLE, transactionTableFor, WIDE_ONLY_COLUMNS, WIDE_TABLE } from '../store/transactions.js';

/** The staged rows with their position (`ord`) and, for a narrow stage, the columns left out as NULL. */
export function stageRows(stage: string, narrow: boolean): string {
  const nulls = narrow ? Object.entries(WIDE_ONLY_COLUMNS).map(([c, type]) => `, CAST(NULL AS ${type}) AS ${c}`).join('') : '';
  return `(SELECT rowid AS ord, *${nulls} FROM temp.${ident(stage)})`;
}

/** How staged rows get their `source_row`: a SQL relation over the stage with that column. */
export interface Numbering {
  /** SELECT-able relation: every stage column plus `source_row`. */
  relation: string;
  /** Malformed CSV lines (wrong field count, bad quoting): a temp table, or null. */
  malformedTable: string | null;
  malformed: number;
  /** False when the row numbers could not be reconciled with the file (then they are approximate). */
  exact: boolean;
  note?: string;
}

/**
 * Work out `source_row` for a stage. Delimited files: DuckDB reads records in order but skips
 * blank records and parks malformed ones in its rejects table, so the n-th staged row is the
 * n-th record that is none of header/title lines, blank or malformed. With the skipped record
 * numbers s_1 < s_2 < … (i = 1, 2, …), the row at 0-based position k is record
 * k + 1 + #{i : s_i − i ≤ k}, found with an ASOF join on g_i = s_i − i.
 */
export async function numberStage(
  store: Store,
  source: SourceTable,
  stage: string,
  staged: number,
  tag: string,
  physicalLines: number | null,
  narrow = false,
): Promise<Numbering> {
  const stageRel = stageRows(stage, narrow);
  const n = source.numbering;
  if (n.kind === 'column') return { relation: `(SELECT *, src_row AS source_row FROM ${stageRel})`, malformedTable: null, malformed: 0, exact: true };
  if (n.kind === 'ordinal') return { relation: `(SELECT *, ord + 1 AS source_row FROM ${stageRel})`, malformedTable: null, malformed: 0, exact: true };

  const malformedTable = `${tag}_malformed`;
  const hasErrors = await store.value<number>(
    `SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ${literal(n.rejectsTable)}`,
  );
  await store.run(
    hasErrors
      ? `CREATE OR REPLACE TEMP TABLE ${ident(malformedTable)} AS
         SELECT line AS source_row,
                string_agg(DISTINCT error_message, '; ') AS detail,
                trim(min(csv_line), chr(13) || chr(10)) AS raw
         FROM temp.${ident(n.rejectsTable)} GROUP BY line`
      : `CREATE OR REPLACE TEMP TABLE ${ident(malformedTable)} (source_row BIGINT, detail VARCHAR, raw VARCHAR)`,
  );
  const malformed = (await store.value<number>(`SELECT count(*) FROM temp.${ident(malformedTable)}`)) ?? 0;

  const lines = physicalLines ?? (await countLines(n.file, n.gzip));
  const expected = n.headerRecord + staged + malformed;
  let blank: number[] = [];
  let exact = true;
  let note: string | undefined;
  if (lines !== expected) {
    // Blank lines or fields spanning lines: find the blank records exactly.
    const scan = await scanCsvRecords(n.file, n.quote, n.gzip);
    blank = scan.blank;
    if (scan.records !== expected + blank.length) {
      exact = false;
      note = `row numbers are approximate: the file has ${scan.records} records, DuckDB read ${expected + blank.length}`;
    }
  }
  if (blank.length === 0 && malformed === 0) {
    return {
      relation: `(SELECT *, ord + 1 + ${n.headerRecord} AS source_row FROM ${stageRel})`,
      malformedTable,
      malformed,
      exact,
      note,
    };
  }
  const skips = `${tag}_skips`;
  const gaps = `${tag}_gaps`;
  // The connection is the appender's until it is closed (Store.exclusive).
  await store.exclusive(async () => {
    await store.run(`CREATE OR REPLACE TEMP TABLE ${ident(skips)} (pos BIGINT)`);
    const appender = await store.conn.createAppender(skips, 'main', 'temp');
    for (let r = 1; r <= n.headerRecord; r++) {
      appender.appendBigInt(BigInt(r));
      appender.endRow();
    }
    for (const b of blank) {
      appender.appendBigInt(BigInt(b));
      appender.endRow();
    }
    appender.closeSync();
  });
  await store.run(`INSERT INTO temp.${ident(skips)} SELECT source_row FROM temp.${ident(malformedTable)}`);
  await store.run(
    `CREATE OR REPLACE TEMP TABLE ${ident(gaps)} AS
     WITH ranked AS (
       SELECT pos, row_number() OVER (ORDER BY pos) AS i FROM (SELECT DISTINCT pos FROM temp.${ident(skips)})
     )
     SELECT pos - i AS g, max(i) AS i FROM ranked GROUP BY pos - i`,
  );
  return {
    relation: `(SELECT s.*, s.ord + 1 + coalesce(k.i, 0) AS source_row
                FROM ${stageRel} s ASOF LEFT JOIN temp.${ident(gaps)} k ON s.ord >= k.g)`,
    malformedTable,
    malformed,
    exact,
    note,
  };
}

export interface LoadTarget {
  loadId: number;
  kind: DatasetKind;
  sourceFile: string;
  sheet: string | null;
  numbering: Numbering;
  /** The file's column of each mapped field (merges: rejects name the id column at fault). */
  mapping?: Record<string, string | undefined>;
  /** The source columns kept in `attributes` (transactions: with the mapping, they choose the table, src/store/transactions.ts). */
  unmapped?: string[];
  /** Transactions or contracts with --skip-overlap: a temp table of the rows (`ord`) loaded before from other files, with the earlier row each repeats. */
  alreadyLoaded?: string | null;
  /** SQL of a rejected row's `column_name`, from its `reason` (stage.ts: rejectColumnSql). */
  rejectColumn: string;
}

export interface WriteCounts {
  loaded: number;
  rejected: number;
  /** Customers: rows that replaced a customer loaded before; owners: customers whose owner changes. */
  updated: number;
  /** Customers and owners: repeated ids within the file. */
  duplicates: number;
  /** Rows rejected while loading, by reason (merges: the checks across rows and the store). */
  rejectedWhileLoading?: Record<string, number>;
}

const TRANSACTION_COLUMNS =
  'customer_id, order_id, order_date, order_ts, quantity, unit_price, amount, cost, product, category, channel, region, is_return, attributes';
const CUSTOMER_COLUMNS = 'customer_id, name, email, phone, region, industry, account_owner, team, owner_email, signup_date, attributes';
/** What a customers file says about the owner, kept apart from the owner in effect (migration 14). */
const FILE_OWNER_COLUMNS = 'file_account_owner, file_team, file_owner_email';
const FILE_OWNER_VALUES = 'account_owner, team, owner_email';
const OWNER_COLUMNS = 'customer_id, account_owner, team, owner_email, attributes';
const CONTRACT_COLUMNS = 'customer_id, contract_id, period_start, period_end, amount, plan, channel, region, status, cancel_date, attributes';

/**
 * The rows a kind appends (customers replace ids instead): its table and columns. Transactions
 * go to transactions_narrow or transactions_wide (migration 28), under the `transactions` view.
 */
function appendedTo(t: LoadTarget): { table: string; columns: string } | null {
  if (t.kind === 'contracts') return { table: 'contracts', columns: CONTRACT_COLUMNS };
  if (t.kind !== 'transactions') return null;
  const table = transactionTableFor(t.mapping ?? {}, t.unmapped ?? [], t.sheet);
  return table === WIDE_TABLE ? { table, columns: TRANSACTION_COLUMNS } : { table, columns: NARROW_COLUMNS.join(', ') };
}

/** Copy one numbered stage into the store. Call inside a transaction. */
export async function writeStage(store: Store, t: LoadTarget, tag: string): Promise<WriteCounts> {
  const meta = `${t.loadId}, ${literal(t.sourceFile)}, ${t.sheet === null ? 'NULL' : literal(t.sheet)}`;
  const rel = t.numbering.relation;
  const rejectCols = `${t.loadId}, ${literal(t.kind)}, ${literal(t.sourceFile)}, ${t.sheet === null ? 'NULL' : literal(t.sheet)}`;
  let loaded = 0;
  let updated = 0;
  let duplicates = 0;

  let skipped = 0;
  let rejectedWhileLoading: Record<string, number> | undefined;
  const appended = appendedTo(t);
  if (appended) {
    const notLoadedBefore = t.alreadyLoaded ? `ANTI JOIN temp.${ident(t.alreadyLoaded)} USING (ord)` : '';
    // transactions_narrow has no source_sheet: only loads without a sheet go there.
    const wide = appended.table !== NARROW_TABLE;
    loaded = await store.run(
      `INSERT INTO ${appended.table} (load_id, source_file, ${wide ? 'source_sheet, ' : ''}source_row, ${appended.columns})
       SELECT ${wide ? meta : `${t.loadId}, ${literal(t.sourceFile)}`}, source_row, ${appended.columns} FROM ${rel} ${notLoadedBefore} WHERE reason IS NULL`,
    );
    if (t.alreadyLoaded) {
      // The row's content is that of the earlier row named in the detail (worded by overlap.ts).
      skipped = await store.run(
        `INSERT INTO rejects (load_id, kind, source_file, source_sheet, source_row, reason, column_name, detail, raw)
         SELECT ${rejectCols}, r.source_row, 'already_loaded', NULL, o.detail, NULL
         FROM ${rel} r JOIN temp.${ident(t.alreadyLoaded)} o USING (ord) ORDER BY ord`,
      );
    }
  } else if (t.kind === 'merges') {
    const merged = await writeMerges(store, {
      loadId: t.loadId,
      kind: t.kind,
      sourceFile: t.sourceFile,
      sheet: t.sheet,
      relation: rel,
      columns: { duplicate_id: t.mapping?.duplicate_id ?? 'duplicate_id', surviving_id: t.mapping?.surviving_id ?? 'surviving_id' },
      work: `${tag}_merges`,
    });
    loaded = merged.loaded;
    rejectedWhileLoading = merged.rejectedByReason;
    skipped = Object.values(merged.rejectedByReason).reduce((a, b) => a + b, 0);
  } else {
    // A customer id repeated within one file: the last row wins, the others are rejected.
    const ranked = `${tag}_customers`;
    await store.run(
      `CREATE OR REPLACE TEMP TABLE ${ident(ranked)} AS
       SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY ord DESC) AS dup_rank,
              first(source_row) OVER (PARTITION BY customer_id ORDER BY ord DESC) AS kept_row
       FROM ${rel} WHERE reason IS NULL`,
    );
    duplicates = await store.run(
      `INSERT INTO rejects (load_id, kind, source_file, source_sheet, source_row, reason, column_name, detail, raw)
       SELECT ${rejectCols}, source_row, 'duplicate_customer_id', NULL,
              'customer_id "' || customer_id || '" appears again at row ' || kept_row || '; the last row is kept', raw_all
       FROM temp.${ident(ranked)} WHERE dup_rank > 1 ORDER BY ord`,
    );
    if (t.kind === 'owners') {
      // Owner rows are kept per load (the customer_owners view picks the latest), so that
      // replacing an owners file brings back the owners it had overridden.
      updated = (await store.value<number>(
        `SELECT count(*) FROM temp.${ident(ranked)} r JOIN customer_owners o USING (customer_id)
         WHERE r.dup_rank = 1 AND o.account_owner IS DISTINCT FROM r.account_owner`,
      )) ?? 0;
      loaded = await store.run(
        `INSERT INTO owners (${OWNER_COLUMNS}, load_id, source_file, source_sheet, source_row)
         SELECT ${OWNER_COLUMNS}, ${meta}, source_row FROM temp.${ident(ranked)} WHERE dup_rank = 1`,
      );
    } else {
      updated = await store.run(
        `DELETE FROM customers WHERE customer_id IN (SELECT customer_id FROM temp.${ident(ranked)} WHERE dup_rank = 1)`,
      );
      // The file's owner is kept as the file gave it (file_*, which customer_owners reads); the
      // owner columns start as the same and the load's refresh (src/store/owners.ts) sets them
      // to the owner in effect.
      loaded = await store.run(
        `INSERT INTO customers (${CUSTOMER_COLUMNS}, ${FILE_OWNER_COLUMNS}, load_id, source_file, source_sheet, source_row)
         SELECT ${CUSTOMER_COLUMNS}, ${FILE_OWNER_VALUES}, ${meta}, source_row FROM temp.${ident(ranked)} WHERE dup_rank = 1`,
      );
    }
    await store.run(`DROP TABLE temp.${ident(ranked)}`);
  }
  let rejected = duplicates + skipped;
  rejected += await store.run(
    `INSERT INTO rejects (load_id, kind, source_file, source_sheet, source_row, reason, column_name, detail, raw)
     SELECT ${rejectCols}, source_row, reason, ${t.rejectColumn}, detail, raw FROM ${rel} WHERE reason IS NOT NULL ORDER BY ord`,
  );
  if (t.numbering.malformedTable && t.numbering.malformed > 0) {
    rejected += await store.run(
      `INSERT INTO rejects (load_id, kind, source_file, source_sheet, source_row, reason, column_name, detail, raw)
       SELECT ${rejectCols}, source_row, 'malformed_row', NULL, detail, raw
       FROM temp.${ident(t.numbering.malformedTable)} ORDER BY source_row`,
    );
  }
  return { loaded, rejected, updated, duplicates, rejectedWhileLoading };
}
