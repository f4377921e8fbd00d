/**
 * A load's identity is its bytes and, for a workbook, the sheet selection: the same bytes read
 * the same way again are "unchanged". A sheet set in crm.config.json means nothing to a CSV.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingest } from '../../src/ingest/index.js';
import { createReporter } from '../../src/util/log.js';
import { createProgress } from '../../src/util/progress.js';
import { ingestFiles } from '../helpers/ingest.js';

describe('load identity', () => {
  it('a CSV loaded with a config naming a sheet is unchanged when ingested again without that config', async () => {
    const config = { source: '/home/ana/crm.config.json', ingest: { transactions: { sheet: 'Sales' } } };
    const first = await ingestFiles({ 'orders.csv': 'customer_id,order_date,amount\nC1,2024-01-05,10\n' }, { config });
    expect(first.report.files[0].status).toBe('loaded');
    const again = await ingest({
      kind: 'transactions',
      files: [path.join(first.dir, 'orders.csv')],
      storePath: first.db,
      reporter: createReporter({ quiet: true }),
      progress: createProgress({ quiet: true }),
    });
    expect(again.files[0].status).toBe('unchanged');
    expect(await first.query("SELECT options->>'sheet' AS sheet FROM loads")).toEqual([{ sheet: null }]);
  });
});
