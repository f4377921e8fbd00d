/**
 * Do two stores hold the same runs? `node dist/bench/compare-runs.js A.duckdb B.duckdb`
 *
 * For checking that a change to `crm run` changes no figure it writes: run main's code on one
 * copy of a store and the changed code on another, then compare. Every table a run writes
 * (metrics_customers, i.e. customer_metrics' stored columns; cohort_retention,
 * segment_migration, run_intervals, run_forecast and the contract tables) is joined row to row on
 * its key: the same rows, and each column equal — DOUBLEs (and DOUBLE lists) to 1e-12 relative,
 * everything else exactly. `runs` is compared field by field, its JSON documents number by number
 * (same tolerance), but for what differs between any two runs (created_at, timings, tool_version).
 * Prints one line per table and exits 1 on any difference.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';

const TOLERANCE = 1e-12;

/**
 * run_forecast's bounds are ln-gradients by forward differences (models/intervals.ts DELTA_STEP
 * = 1e-4) of sums over customers: the last bits of a sum, which move with the order it is added
 * in (DuckDB's threads), come out ~1e4 times larger there. Two runs of the same code differ by
 * up to ~2e-12 in them; they are compared to 1e-10.
 */
const LOOSER: Record<string, number> = {
  'run_forecast.expected_purchases_low': 1e-10,
  'run_forecast.expected_purchases_high': 1e-10,
  'run_forecast.value_low': 1e-10,
  'run_forecast.value_high': 1e-10,
};

/** The tables a run writes, with the columns that identify a row. */
const TABLES: { table: string; keys: string[] }[] = [
  { table: 'metrics_customers', keys: ['run_id', 'customer_id'] },
  { table: 'cohort_retention', keys: ['run_id', 'cohort_month', 'months_since'] },
  { table: 'segment_migration', keys: ['run_id', 'from_segment', 'to_segment'] },
  { table: 'run_intervals', keys: ['run_id'] },
  { table: 'run_forecast', keys: ['run_id', 'month'] },
  { table: 'contract_metrics_stored', keys: ['run_id', 'contract_id'] },
  { table: 'contract_predictions', keys: ['run_id', 'plan', 'period_unit', 'renewals'] },
  { table: 'contract_retention', keys: ['run_id', 'plan', 'period_unit', 'period'] },
];

/** runs' columns that differ between any two runs of the same data. */
const RUNS_IGNORED = new Set(['created_at', 'timings', 'tool_version']);

const q = (name: string) => `"${name.replace(/"/g, '""')}"`;

function sameColumn(table: string, column: string, type: string): string {
  const tolerance = LOOSER[`${table}.${column}`] ?? TOLERANCE;
  const a = `a.${q(column)}`;
  const b = `b.${q(column)}`;
  if (type === 'DOUBLE' || type === 'FLOAT') {
    return `(${a} IS NOT DISTINCT FROM ${b} OR abs(${a} - ${b}) <= ${tolerance} * greatest(abs(${a}), abs(${b})))`;
  }
  if (type === 'DOUBLE[]') {
    return `(${a} IS NOT DISTINCT FROM ${b} OR (len(${a}) = len(${b}) AND list_bool_and(list_transform(range(1, len(${a}) + 1), i -> ${a}[i] IS NOT DISTINCT FROM ${b}[i] OR abs(${a}[i] - ${b}[i]) <= ${TOLERANCE} * greatest(abs(${a}[i]), abs(${b}[i]))))))`;
  }
  return `${a} IS NOT DISTINCT FROM ${b}`;
}

async function columnsOf(conn: DuckDBConnection, table: string): Promise<{ name: string; type: string }[]> {
  const reader = await conn.runAndReadAll(
    `SELECT column_name, data_type FROM information_schema.columns WHERE table_catalog = 'a' AND table_schema = 'main' AND table_name = '${table}' ORDER BY ordinal_position`,
  );
  return reader.getRows().map(([name, type]) => ({ name: String(name), type: String(type) }));
}

async function compareTable(conn: DuckDBConnection, table: string, keys: string[]): Promise<string[]> {
  const columns = await columnsOf(conn, table);
  if (columns.length === 0) return [];
  const on = keys.map((k) => `a.${q(k)} IS NOT DISTINCT FROM b.${q(k)}`).join(' AND ');
  const values = columns.filter((c) => !keys.includes(c.name));
  const counts = [
    'count(*) FILTER (WHERE a.rowid_ IS NULL) AS only_b',
    'count(*) FILTER (WHERE b.rowid_ IS NULL) AS only_a',
    'count(a.rowid_) AS rows_a',
    ...values.map((c, i) => `count(*) FILTER (WHERE a.rowid_ IS NOT NULL AND b.rowid_ IS NOT NULL AND NOT ${sameColumn(table, c.name, c.type)}) AS c${i}`),
  ];
  const doubles = values.filter((c) => c.type === 'DOUBLE');
  const maxDiff = doubles.map((c) => `max(abs(a.${q(c.name)} - b.${q(c.name)}) / nullif(greatest(abs(a.${q(c.name)}), abs(b.${q(c.name)})), 0))`);
  const sql = `SELECT ${counts.join(', ')}, ${maxDiff.length ? `greatest(${maxDiff.join(', ')})` : 'NULL'} AS max_rel
    FROM (SELECT *, 1 AS rowid_ FROM a.main.${q(table)}) a FULL OUTER JOIN (SELECT *, 1 AS rowid_ FROM b.main.${q(table)}) b ON ${on}`;
  const row = (await conn.runAndReadAll(sql)).getRowObjects()[0];
  const problems: string[] = [];
  if (Number(row.only_a) || Number(row.only_b)) problems.push(`${row.only_a} rows only in A, ${row.only_b} only in B`);
  values.forEach((c, i) => {
    if (Number(row[`c${i}`])) problems.push(`${c.name}: ${row[`c${i}`]} rows differ`);
  });
  console.log(`${table}: ${Number(row.rows_a).toLocaleString('en-US')} rows, ${problems.length ? 'DIFFERENT: ' + problems.join('; ') : 'same'}${row.max_rel !== null ? ` (largest relative difference of a DOUBLE ${Number(row.max_rel).toExponential(2)})` : ''}`);
  return problems;
}

/** Numbers within the tolerance, everything else equal; the paths that differ. */
function deepDiff(a: unknown, b: unknown, path: string, out: string[]): void {
  if (typeof a === 'number' && typeof b === 'number') {
    if (!(a === b || (Number.isNaN(a) && Number.isNaN(b)) || Math.abs(a - b) <= TOLERANCE * Math.max(Math.abs(a), Math.abs(b)))) out.push(`${path}: ${a} ≠ ${b}`);
    return;
  }
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a as object), ...Object.keys(b as object)]);
    for (const k of keys) deepDiff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`, out);
    return;
  }
  if (a !== b) out.push(`${path}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`);
}

async function compareRuns(conn: DuckDBConnection): Promise<string[]> {
  const columns = (await columnsOf(conn, 'runs')).filter((c) => !RUNS_IGNORED.has(c.name));
  const select = columns.map((c) => (c.type === 'JSON' || c.type.startsWith('STRUCT') || c.type.endsWith('[]') ? `to_json(${q(c.name)})::VARCHAR AS ${q(c.name)}` : `${q(c.name)}::VARCHAR AS ${q(c.name)}`));
  const read = async (db: string) => (await conn.runAndReadAll(`SELECT ${select.join(', ')} FROM ${db}.main.runs ORDER BY run_id`)).getRowObjects();
  const [ra, rb] = [await read('a'), await read('b')];
  const problems: string[] = [];
  if (ra.length !== rb.length) problems.push(`${ra.length} runs in A, ${rb.length} in B`);
  for (let i = 0; i < Math.min(ra.length, rb.length); i++) {
    for (const c of columns) {
      const [x, y] = [ra[i][c.name], rb[i][c.name]];
      const json = c.type === 'JSON' || c.type.startsWith('STRUCT') || c.type.endsWith('[]');
      if (json && x !== null && y !== null) deepDiff(JSON.parse(String(x)), JSON.parse(String(y)), `run ${ra[i].run_id}.${c.name}`, problems);
      else if (c.type === 'DOUBLE' && x !== null && y !== null) deepDiff(Number(x), Number(y), `run ${ra[i].run_id}.${c.name}`, problems);
      else if (x !== y) problems.push(`run ${ra[i].run_id}.${c.name}: ${String(x)} ≠ ${String(y)}`);
    }
  }
  console.log(`runs: ${ra.length} rows, ${problems.length ? 'DIFFERENT:\n  ' + problems.slice(0, 20).join('\n  ') : 'same'} (not compared: ${[...RUNS_IGNORED].join(', ')})`);
  return problems;
}

/** Compares two stores; returns the differences (empty: the same runs). */
export async function compareStores(storeA: string, storeB: string): Promise<string[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    await conn.run(`ATTACH '${storeA.replace(/'/g, "''")}' AS a (READ_ONLY)`);
    await conn.run(`ATTACH '${storeB.replace(/'/g, "''")}' AS b (READ_ONLY)`);
    const problems: string[] = [];
    for (const { table, keys } of TABLES) problems.push(...(await compareTable(conn, table, keys)).map((p) => `${table}: ${p}`));
    problems.push(...(await compareRuns(conn)));
    return problems;
  } finally {
    conn.closeSync();
    instance.closeSync();
  }
}

const [storeA, storeB] = process.argv.slice(2);
if (import.meta.url === `file://${process.argv[1]}`) {
  if (!storeA || !storeB) {
    console.error('usage: node dist/bench/compare-runs.js A.duckdb B.duckdb');
    process.exit(2);
  }
  const problems = await compareStores(storeA, storeB);
  process.exit(problems.length ? 1 : 0);
}
