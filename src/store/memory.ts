/**
 * How much memory DuckDB may take for a store: `--memory-limit SIZE` (every store the command
 * opens), else $CRM_MEMORY_LIMIT, else the command's own default, else DEFAULT_MEMORY_LIMIT.
 * Past the limit DuckDB spills to a temporary folder beside the store (`<store>.tmp/`), so a
 * file larger than memory still loads and scores, only slower.
 */
import { usageError } from '../util/errors.js';

/**
 * DuckDB's own default is 80% of the machine's memory; a tool that shares a laptop with
 * everything else should take less. Measured on the 10M-line benchmark: ingest peaks at
 * ~1.4 GB RSS with 1 GB and is no slower (see README).
 */
export const DEFAULT_MEMORY_LIMIT = '1GB';

/**
 * Below this no command gets through a real export (DuckDB fails with "failed to allocate"), so
 * a cap in KB, a slip for MB, is refused at once. Loading a CSV needs more still: DuckDB's reader
 * allocates 256 MB buffers for ingest's 16 MB line limit (measured: 256MB fails, 300MB loads).
 */
const MIN_MEMORY_BYTES = 64 * 1000 ** 2;

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
 * A size such as `4GB`, `512MB`, `1.5GiB` (case and a space before the unit do not matter),
 * returned in DuckDB's spelling (`4GB`). `source` names the flag or variable in the message.
 */
export function parseMemoryLimit(value: string, source = '--memory-limit'): string {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(value);
  const unit = m?.[2].toLowerCase();
  if (!m || !unit || !(unit in UNIT_BYTES)) {
    throw usageError(`${source} ${JSON.stringify(value)}: give a size with its unit, e.g. 4GB or 512MB`, [
      'Units: KB, MB, GB, TB (powers of 1000) or KiB, MiB, GiB, TiB (powers of 1024).',
    ]);
  }
  if (Number(m[1]) * UNIT_BYTES[unit] < MIN_MEMORY_BYTES) {
    throw usageError(`${source} ${value.trim()}: too small for DuckDB to work in; give at least 64MB`);
  }
  return `${m[1]}${UNIT_NAMES[unit]}`;
}

/** `--memory-limit`, already parsed; set once by the CLI for every store the command opens. */
let memoryLimitFlag: string | undefined;

export function setMemoryLimitFlag(limit: string | undefined): void {
  memoryLimitFlag = limit;
}

/**
 * The limit a store opens with: the flag wins over the environment, which wins over a command's
 * own default (`crm run` asks for more than ingest does), which wins over DEFAULT_MEMORY_LIMIT.
 */
export function resolveMemoryLimit(
  commandDefault: string | undefined,
  flag: string | undefined = memoryLimitFlag,
  env: string | undefined = process.env.CRM_MEMORY_LIMIT,
): string {
  if (flag !== undefined) return flag;
  if (env !== undefined && env.trim() !== '') return parseMemoryLimit(env, 'CRM_MEMORY_LIMIT');
  return commandDefault ?? DEFAULT_MEMORY_LIMIT;
}
