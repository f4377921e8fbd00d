/**
 * In-process ingest for unit tests: the library function `crm ingest` calls, on files written
 * to a temporary folder, with the loaded rows and rejects read back from the store.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ingest, type IngestOptions, type IngestReport } from '../../src/ingest/index.js';
import { Store, type Row } from '../../src/store/db.js';
import { createReporter } from '../../src/util/log.js';
import { createProgress } from '../../src/util/progress.js';
import { tempDir } from './cli.js';

export interface IngestRun {
  report: IngestReport;
  dir: string;
  db: string;
  query<T = Row>(sql: string): Promise<T[]>;
}

/** Write `files` (name → text or bytes) into a fresh folder and ingest them into a fresh store. */
export async function ingestFiles(
  files: Record<string, string | Buffer>,
  opts: Partial<Omit<IngestOptions, 'files' | 'storePath' | 'reporter' | 'progress'>> = {},
): Promise<IngestRun> {
  const dir = tempDir('crm-ingest-');
  const paths = Object.entries(files).map(([name, content]) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    return p;
  });
  const db = path.join(dir, 'store.duckdb');
  const report = await ingest({
    kind: 'transactions',
    ...opts,
    files: paths,
    storePath: db,
    reporter: createReporter({ quiet: true }),
    progress: createProgress({ quiet: true }),
  });
  return {
    report,
    dir,
    db,
    async query<T = Row>(sql: string): Promise<T[]> {
      const store = await Store.open(db, { readOnly: true });
      try {
        return (await store.all(sql)) as T[];
      } finally {
        store.close();
      }
    },
  };
}

/** The error an ingest throws (fails the test when it succeeds). */
export async function ingestError(
  files: Record<string, string | Buffer>,
  opts: Partial<Omit<IngestOptions, 'files' | 'storePath' | 'reporter' | 'progress'>> = {},
): Promise<Error & { exitCode?: number; details?: string[] }> {
  try {
    await ingestFiles(files, opts);
  } catch (err) {
    return err as Error & { exitCode?: number; details?: string[] };
  }
  throw new Error('ingest succeeded where it should have failed');
}
