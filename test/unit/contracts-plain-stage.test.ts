/**
 * A plain-text contracts file (printable ASCII and tabs, no quote character: SourceTable.plainFields)
 * is staged with the cheaper test of a value's ends (values.ts, plainTrimExpr) for its text,
 * status and date columns, as for its ids: no `col[-1]` per value. The values must be those the
 * general trim gives — blanks and tabs around a plan, region, status or date still go.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSource } from '../../src/ingest/sources.js';
import { detectConventions, stageSql } from '../../src/ingest/stage.js';
import { planDates, statusExpr, textExpr, timestampExpr } from '../../src/ingest/values.js';
import { Store } from '../../src/store/db.js';
import { tempDir } from '../helpers/cli.js';
import { ingestFiles } from '../helpers/ingest.js';
import { evalExpr } from '../helpers/sql-expr.js';

const HEADER = 'contract_id,customer_id,plan,period_start,period_end,amount,channel,region,status,cancel_date';
const MAPPING = {
  contract_id: 'contract_id',
  customer_id: 'customer_id',
  plan: 'plan',
  period_start: 'period_start',
  period_end: 'period_end',
  amount: 'amount',
  channel: 'channel',
  region: 'region',
  status: 'status',
  cancel_date: 'cancel_date',
};

let conn: DuckDBConnection;
beforeAll(async () => {
  conn = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => conn.closeSync());


/** Values a plain-text file can hold: printable ASCII, blanks and tabs, at either end or none. */
const PLAIN = ['motor', ' motor', 'motor ', '\tmotor\t', ' \t ', '', 'UK & Ireland', 'a b', ' lapsed\t', 'Cancelled ', 'in force', '2024-01-05', ' 2024-01-05\t', '20240105 ', '!', '~ '];

describe('a plain-text source', () => {
  it('trims text, status and date values as the general trim does', async () => {
    expect(await evalExpr(conn, PLAIN, (c) => textExpr(c, true))).toEqual(await evalExpr(conn, PLAIN, (c) => textExpr(c)));
    expect(await evalExpr(conn, PLAIN, (c) => statusExpr(c, true))).toEqual(await evalExpr(conn, PLAIN, (c) => statusExpr(c)));
    const plan = planDates({ candidates: 0, maxFirst: 0, maxSecond: 0 });
    expect(await evalExpr(conn, PLAIN, (c) => timestampExpr(c, plan, true))).toEqual(await evalExpr(conn, PLAIN, (c) => timestampExpr(c, plan)));
    expect(await evalExpr(conn, [' motor\t', '\tlapsed ', ' 2024-01-05\t'], (c) => textExpr(c, true))).toEqual(['motor', 'lapsed', '2024-01-05']);
  });

  it('is staged without a per-value col[-1] in its parsed columns', async () => {
    const dir = tempDir('crm-plain-stage-');
    const file = path.join(dir, 'contracts.csv');
    fs.writeFileSync(file, `${HEADER}\nP1,C1,motor,2024-01-01,2024-12-31,10.50,online,Europe,active,\n`);
    const store = await Store.open(path.join(dir, 'store.duckdb'), { create: true });
    try {
      const opened = await openSource(store, file, { format: 'csv', tag: 'plain_stage', label: 'contracts.csv', rawLineEnds: 'lf', rawBytes: { plainBytes: true, quoteChars: '' } });
      const source = opened.tables[0];
      expect(source.plainFields).toBe(true);
      const conventions = await detectConventions(store, source, 'contracts', MAPPING);
      const sql = stageSql({ kind: 'contracts', source, mapping: MAPPING, unmapped: [], conventions, returnPattern: '^C', table: 'plain_stage' });
      // Each of these is evaluated on every row (an amount's trim only for the values its cast missed).
      const parsed = sql.slice(sql.indexOf('parsed AS ('), sql.indexOf('checked AS (')).split('\n');
      for (const f of ['customer_id', 'contract_id', 'plan', 'channel', 'region', 'status', 'period_start', 'period_end', 'cancel_date']) {
        const line = parsed.find((l) => l.endsWith(`AS p_${f},`));
        expect(line, f).toBeDefined();
        expect(line, f).not.toContain('[-1]');
      }
      await opened.cleanup();
    } finally {
      store.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads a plain file\'s blanks and tabs trimmed from plan, channel, region, status and dates', async () => {
    const csv = `${HEADER}\nP1,C1, motor\t,2024-01-01 ,\t2024-12-31,10.50,online ,\tUK & Ireland, lapsed\t,\nP2,C2,home,2024-01-01,2024-12-31,5,,,cancelled , 2024-06-30\t\n`;
    const run = await ingestFiles({ 'contracts.csv': csv }, { kind: 'contracts' });
    expect(
      await run.query(
        'SELECT contract_id, plan, channel, region, status, CAST(period_start AS VARCHAR) AS s, CAST(period_end AS VARCHAR) AS e, CAST(cancel_date AS VARCHAR) AS c FROM contracts ORDER BY contract_id',
      ),
    ).toEqual([
      { contract_id: 'P1', plan: 'motor', channel: 'online', region: 'UK & Ireland', status: 'lapsed', s: '2024-01-01', e: '2024-12-31', c: null },
      { contract_id: 'P2', plan: 'home', channel: null, region: null, status: 'cancelled', s: '2024-01-01', e: '2024-12-31', c: '2024-06-30' },
    ]);
  });
});
