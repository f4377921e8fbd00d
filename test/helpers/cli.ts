/**
 * Run the built `crm` CLI (dist/cli.js, built by `npm test` before vitest starts) as a
 * real process, the way analysts and cron jobs run it.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI = path.join(ROOT, 'dist/cli.js');
/** The real Online Retail II subset, kept in the repository (data/online-retail-ii, CC BY 4.0). */
export const REAL_XLSX = path.join(ROOT, 'data/online-retail-ii/online_retail_II_subset.xlsx');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function crm(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): CliResult {
  if (!fs.existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` (npm test does it first)`);
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? ROOT,
    env: { ...process.env, CRM_DB: '', ...opts.env },
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Start the CLI without waiting (for kill tests). */
export function crmSpawn(args: string[], opts: { cwd?: string } = {}) {
  return spawn(process.execPath, [CLI, ...args], { cwd: opts.cwd ?? ROOT, env: { ...process.env, CRM_DB: '' } });
}

export function tempDir(prefix = 'crm-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** `crm query` as JSON rows. */
export function sql<T = Record<string, unknown>>(db: string, query: string, cwd?: string): T[] {
  const r = crm(['--db', db, 'query', query, '--format', 'json'], { cwd });
  if (r.code !== 0) throw new Error(`query failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout) as T[];
}
