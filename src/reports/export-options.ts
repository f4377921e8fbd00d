/**
 * Export formats and the parsing of --format and --columns: kept apart from the writers (which
 * load exceljs and apache-arrow) so the command line can define its options without them.
 */
import path from 'node:path';
import { usageError } from '../util/errors.js';

export const EXPORT_FORMATS = ['csv', 'xlsx', 'parquet', 'arrow', 'json'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

const FORMAT_BY_EXTENSION: Record<string, ExportFormat> = {
  '.csv': 'csv',
  '.xlsx': 'xlsx',
  '.parquet': 'parquet',
  '.arrow': 'arrow',
  '.feather': 'arrow',
  '.ipc': 'arrow',
  '.json': 'json',
};

/** Validate a --format value. */
export function parseFormat(value: string): ExportFormat {
  const v = value.trim().toLowerCase();
  if ((EXPORT_FORMATS as readonly string[]).includes(v)) return v as ExportFormat;
  throw usageError(`unknown export format "${value}"`, [`Use one of: ${EXPORT_FORMATS.join(', ')}.`]);
}

/** The format implied by a file name's extension, or null (for a CLI default). */
export function formatFromPath(file: string): ExportFormat | null {
  return FORMAT_BY_EXTENSION[path.extname(file).toLowerCase()] ?? null;
}

/** Split a --columns value ("a, b,c") into names; empty names are ignored, duplicates refused. */
export function parseColumns(value: string): string[] {
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  if (names.length === 0) throw usageError('--columns needs at least one column name, e.g. --columns customer_id,email');
  const seen = new Set<string>();
  for (const n of names) {
    const key = n.toLowerCase();
    if (seen.has(key)) throw usageError(`column ${n} is listed twice in --columns`);
    seen.add(key);
  }
  return names;
}

