/**
 * How much memory DuckDB may take for a store. `--memory-limit SIZE` (every store the command
 * opens), else $CRM_MEMORY_LIMIT, is the whole COMMAND's memory budget: DuckDB's memory_limit is
 * DUCKDB_SHARE of it, the rest is headroom for what DuckDB allocates outside its buffer pool and
 * for the models' JavaScript arrays. Without either, the command's own default, else
 * DEFAULT_MEMORY_LIMIT, is DuckDB's cap itself (as before budgets existed). Past its cap DuckDB
 * spills to a temporary folder beside the store (`<store>.tmp/`), so a file larger than memory
 * still loads and scores, only slower.
 */
import { usageError } from '../util/errors.js';

/**
 * DuckDB's own default is 80% of the machine's memory; a tool that shares a laptop with
 * everything else should take less. Measured on the 10M-line benchmark: ingest peaks at
 * ~1.4 GB RSS with 1 GB and is no slower (see README).
 */
export const DEFAULT_MEMORY_LIMIT = '1GB';

/**
 * DuckDB's share of an explicit budget. DuckDB's RSS goes past its memory_limit: at 100M lines
 * with memory_limit 4GB, ingest peaked at 4,262–4,771 MB and crm run's DuckDB phase alone at
 * ~4,955 MiB (the cap + ~1 GB of allocations outside its buffer pool), and the run's arrays add
 * ~300 MB on top (2026-12-07: run peaks 5,021–5,217 MiB). So a 4GB budget could not hold while
 * it was DuckDB's cap; a quarter of the budget is left for those.
 */
export const DUCKDB_SHARE = 0.75;

/**
 * Below this (on DuckDB's share) no command gets through a real export (DuckDB fails with
 * "failed to allocate"), so a cap in KB, a slip for MB, is refused at once. Loading a CSV needs
 * more still: DuckDB's reader allocates 256 MB buffers for ingest's 16 MB line limit (measured:
 * 256MB fails, 300MB loads).
 */
const MIN_MEMORY_BYTES = 64 * 1000 ** 2;
/** The smallest budget whose DuckDB share is MIN_MEMORY_BYTES, in whole MB (86MB). */
const MIN_BUDGET_MB = Math.ceil(MIN_MEMORY_BYTES / DUCKDB_SHARE / 1000 ** 2);

/** The units DuckDB's memory_limit understands: decimal (KB = 1000 B) and binary (KiB = 1024 B). */
const UNIT_BYTES: Record<string, number> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};
const UNIT_NAMES: Record<string, string> = { b: 'B', kb: 'KB', mb: 'MB', gb: 'GB', tb: 'TB', kib: 'KiB', mib: 'MiB', gib: 'GiB', tib: 'TiB' };

/**
 * A budget such as `4GB`, `512MB`, `1.5GiB` (case and a space before the unit do not matter),
 * returned in DuckDB's spelling (`4GB`). `source` names the flag or variable in the message.
 * Refused when DuckDB's share of it (duckdbShare) would be under 64 MB.
 */
export function parseMemoryLimit(value: string, source = '--memory-limit'): string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(value);
  const unit = m?.[2].toLowerCase();
  if (!m || !unit || !(unit in UNIT_BYTES)) {
    throw usageError(`${source} ${JSON.stringify(value)}: give a size with its unit, e.g. 4GB or 512MB`, [
      'Units: KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024).',
    ]);
  }
  if (Number(m[1]) * UNIT_BYTES[unit] * DUCKDB_SHARE < MIN_MEMORY_BYTES) {
    throw usageError(`${source} ${value.trim()}: too small for crm to work in; give at least ${MIN_BUDGET_MB}MB`, [
      `DuckDB gets three quarters of it and needs at least 64MB.`,
    ]);
  }
  return `${m[1]}${UNIT_NAMES[unit]}`;
}

/**
 * DuckDB's memory_limit for a budget already parsed (`4GB` → `3GB`, `512MB` → `384MB`), in the
 * budget's unit, rounded down to a thousandth so DuckDB never gets more than its share.
 */
export function duckdbShare(budget: string): string {
  const m = /^(\d+(?:\.\d+)?)([A-Za-z]+)$/.exec(budget);
  if (!m) throw new Error(`not a parsed memory size: ${budget}`);
  const digits = m[2] === 'B' ? 0 : 3;
  const share = Math.floor(Number(m[1]) * DUCKDB_SHARE * 10 ** digits) / 10 ** digits;
  return `${share}${m[2]}`;
}

/** `--memory-limit`, already parsed; set once by the CLI for every store the command opens. */
let memoryLimitFlag: string | undefined;

export function setMemoryLimitFlag(limit: string | undefined): void {
  memoryLimitFlag = limit;
}

/** The memory a command works in: the budget given (null without one) and DuckDB's cap. */
export interface MemoryLimit {
  /** The command's budget from --memory-limit or $CRM_MEMORY_LIMIT; null when neither is set. */
  budget: string | null;
  /** DuckDB's memory_limit: DUCKDB_SHARE of the budget, else the command's default cap. */
  duckdb: string;
  source: '--memory-limit' | 'CRM_MEMORY_LIMIT' | 'default';
}

/**
 * The memory a store opens with: the flag wins over the environment, which wins over a command's
 * own default, which wins over DEFAULT_MEMORY_LIMIT. A flag or variable is a budget DuckDB gets
 * DUCKDB_SHARE of; a default is DuckDB's cap as it stands.
 */
export function resolveMemory(
  commandDefault: string | undefined,
  flag: string | undefined = memoryLimitFlag,
  env: string | undefined = process.env.CRM_MEMORY_LIMIT,
): MemoryLimit {
  if (flag !== undefined) return { budget: flag, duckdb: duckdbShare(flag), source: '--memory-limit' };
  if (env !== undefined && env.trim() !== '') {
    const budget = parseMemoryLimit(env, 'CRM_MEMORY_LIMIT');
    return { budget, duckdb: duckdbShare(budget), source: 'CRM_MEMORY_LIMIT' };
  }
  return { budget: null, duckdb: commandDefault ?? DEFAULT_MEMORY_LIMIT, source: 'default' };
}

/** DuckDB's memory_limit for a store the command opens (see resolveMemory). */
export function resolveMemoryLimit(
  commandDefault: string | undefined,
  flag: string | undefined = memoryLimitFlag,
  env: string | undefined = process.env.CRM_MEMORY_LIMIT,
): string {
  return resolveMemory(commandDefault, flag, env).duckdb;
}

/**
 * The limit in the user's terms, for messages: `memory budget 4GB (--memory-limit), DuckDB's
 * share 3GB` or `DuckDB's memory limit 1GB (default)`.
 */
export function describeMemory(m: MemoryLimit): string {
  return m.budget === null
    ? `DuckDB's memory limit ${m.duckdb} (default)`
    : `memory budget ${m.budget} (${m.source}), DuckDB's share ${m.duckdb}`;
}
