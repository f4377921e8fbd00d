/**
 * `crm ingest owners` in process: the Chinese and English headers, every reject code with its
 * column and sentence, row accounting, the unchanged-file no-op, and the owner in effect
 * (`customer_owners`): the latest load wins across customers and owners files, and replacing an
 * owners file brings back the owners it had overridden; customers.account_owner, team and
 * owner_email hold that owner after every load (migration 14).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ingest, type IngestOptions } from '../../src/ingest/index.js';
import { resolveMapping } from '../../src/ingest/mapping.js';
import { Store } from '../../src/store/db.js';
import { createReporter } from '../../src/util/log.js';
import { createProgress } from '../../src/util/progress.js';
import { tempDir } from '../helpers/cli.js';
import { ingestFiles } from '../helpers/ingest.js';

describe('owners mapping', () => {
  it('reads the Chinese headers of an owners file', () => {
    const { mapping } = resolveMapping({ kind: 'owners', headers: ['客户编号', '客户经理', '团队', '客户经理邮箱'], sourceLabel: 'o.csv' });
    expect(mapping).toEqual({ customer_id: '客户编号', account_owner: '客户经理', team: '团队', owner_email: '客户经理邮箱' });
  });
  it('reads 负责人 as the owner and a plain email column as the owner e-mail', () => {
    const { mapping } = resolveMapping({ kind: 'owners', headers: ['customer id', '负责人', 'Email'], sourceLabel: 'o.csv' });
    expect(mapping).toEqual({ customer_id: 'customer id', account_owner: '负责人', owner_email: 'Email' });
  });
  it('refuses an owners file without an owner column', () => {
    expect(() => resolveMapping({ kind: 'owners', headers: ['customer_id', 'team'], sourceLabel: 'o.csv' })).toThrow(/account_owner/);
  });
  it('keeps a customers file e-mail column the customer e-mail, and reads the owner team and e-mail next to it', () => {
    const { mapping } = resolveMapping({ kind: 'customers', headers: ['customer_id', 'email', 'account_owner', '团队', 'owner email'], sourceLabel: 'c.csv' });
    expect(mapping).toMatchObject({ email: 'email', account_owner: 'account_owner', team: '团队', owner_email: 'owner email' });
  });
});

describe('owners validation', () => {
  const file = [
    'customer_id,account_owner,team,owner_email',
    'C1,Ann Lee,North,ann@corp.example',
    ',Bob Wu,South,',
    'C3,,South,',
    'C4,Bob Wu,South,bob at corp',
    'C5,Bob Wu,,',
    'C1,Ann Lee,North East,ann@corp.example',
  ].join('\n') + '\n';

  it('rejects each bad row with its reason, column and sentence; a repeated id keeps its last row; rows reconcile', async () => {
    const run = await ingestFiles({ 'owners.csv': file }, { kind: 'owners' });
    const f = run.report.files[0];
    expect([f.rows_read, f.rows_loaded, f.rows_rejected]).toEqual([6, 2, 4]);
    expect(f.rejected_by_reason).toEqual({ missing_customer_id: 1, missing_account_owner: 1, invalid_owner_email: 1, duplicate_customer_id: 1 });
    const rejects = await run.query<{ source_row: number; reason: string; column_name: string | null; detail: string; raw: string; kind: string }>(
      'SELECT source_row, reason, column_name, detail, raw, kind FROM rejects ORDER BY source_row',
    );
    expect(rejects.map((r) => [r.source_row, r.reason, r.column_name, r.detail])).toEqual([
      [2, 'duplicate_customer_id', null, 'customer_id "C1" appears again at row 7; the last row is kept'],
      [3, 'missing_customer_id', 'customer_id', 'customer_id: no customer id'],
      [4, 'missing_account_owner', 'account_owner', 'account_owner: no account owner'],
      [5, 'invalid_owner_email', 'owner_email', 'owner_email: "bob at corp" is not an e-mail address'],
    ]);
    expect(rejects[2].raw).toBe('C3,,South,');
    expect(new Set(rejects.map((r) => r.kind))).toEqual(new Set(['owners']));
    const owners = await run.query('SELECT customer_id, account_owner, team, owner_email, source_row FROM owners ORDER BY customer_id');
    expect(owners).toEqual([
      { customer_id: 'C1', account_owner: 'Ann Lee', team: 'North East', owner_email: 'ann@corp.example', source_row: 7 },
      { customer_id: 'C5', account_owner: 'Bob Wu', team: null, owner_email: null, source_row: 6 },
    ]);
    const loads = await run.query('SELECT kind, rows_read, rows_loaded, rows_rejected FROM loads');
    expect(loads).toEqual([{ kind: 'owners', rows_read: 6, rows_loaded: 2, rows_rejected: 4 }]);
  });
});

describe('the owner in effect: the latest load wins', () => {
  const dir = tempDir('crm-owners-');
  const db = path.join(dir, 'store.duckdb');
  const write = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  const load = (kind: IngestOptions['kind'], file: string, extra: Partial<IngestOptions> = {}) =>
    ingest({ kind, files: [file], storePath: db, reporter: createReporter({ quiet: true }), progress: createProgress({ quiet: true }), ...extra });
  const inEffect = async () => {
    const store = await Store.open(db, { readOnly: true });
    try {
      return Object.fromEntries(
        (await store.all<{ customer_id: string; account_owner: string; source_kind: string }>('SELECT customer_id, account_owner, source_kind FROM customer_owners ORDER BY 1')).map((r) => [
          r.customer_id,
          `${r.account_owner} (${r.source_kind})`,
        ]),
      );
    } finally {
      store.close();
    }
  };

  /** customers.account_owner, team and owner_email: the owner in effect, as analysts query them (migration 14). */
  const inCustomers = async () => {
    const store = await Store.open(db, { readOnly: true });
    try {
      return Object.fromEntries(
        (await store.all<{ customer_id: string; account_owner: string | null; team: string | null; owner_email: string | null }>(
          'SELECT customer_id, account_owner, team, owner_email FROM customers ORDER BY 1',
        )).map((r) => [r.customer_id, [r.account_owner, r.team, r.owner_email]]),
      );
    } finally {
      store.close();
    }
  };
  /** The same, as customer_owners gives it, for the customers in `customers`. */
  const inViewForCustomers = async () => {
    const store = await Store.open(db, { readOnly: true });
    try {
      return Object.fromEntries(
        (await store.all<{ customer_id: string; account_owner: string | null; team: string | null; owner_email: string | null }>(
          'SELECT c.customer_id, o.account_owner, o.team, o.owner_email FROM customers c LEFT JOIN customer_owners o USING (customer_id) ORDER BY 1',
        )).map((r) => [r.customer_id, [r.account_owner, r.team, r.owner_email]]),
      );
    } finally {
      store.close();
    }
  };

  it('follows customers and owners loads in order, and --replace of an owners file restores what it overrode', async () => {
    await load('customers', write('customers.csv', 'customer_id,name,account_owner\nC1,A,Ann\nC2,B,\nC3,C,Cy\n'));
    expect(await inEffect()).toEqual({ C1: 'Ann (customers)', C3: 'Cy (customers)' });

    const owners = write('owners.csv', '客户编号,客户经理,团队\nC1,Bob,North\nC2,Bob,North\nC9,Dee,South\n');
    const first = await load('owners', owners);
    expect(first.files[0].owners_changed).toBe(1); // C1: Ann → Bob; C2 and C9 had none
    expect(await inEffect()).toEqual({ C1: 'Bob (owners)', C2: 'Bob (owners)', C3: 'Cy (customers)', C9: 'Dee (owners)' });
    // customers.account_owner says so too (C9 is in no customers file: no customers row).
    expect(await inCustomers()).toEqual({ C1: ['Bob', 'North', null], C2: ['Bob', 'North', null], C3: ['Cy', null, null] });

    // The same file again: nothing to do.
    const again = await load('owners', owners);
    expect(again.files[0].status).toBe('unchanged');

    // A later customers file naming an owner wins; one without an owner says nothing about it.
    await load('customers', write('customers2.csv', 'customer_id,name,account_owner\nC1,A,Eve\nC2,B,\n'));
    expect(await inEffect()).toEqual({ C1: 'Eve (customers)', C2: 'Bob (owners)', C3: 'Cy (customers)', C9: 'Dee (owners)' });
    expect(await inCustomers()).toEqual({ C1: ['Eve', null, null], C2: ['Bob', 'North', null], C3: ['Cy', null, null] });

    // A corrected owners file replaces the first: its rows go, the new ones count from now.
    fs.writeFileSync(owners, '客户编号,客户经理,团队\nC2,Fay,North\n');
    await load('owners', owners, { replace: true });
    expect(await inEffect()).toEqual({ C1: 'Eve (customers)', C2: 'Fay (owners)', C3: 'Cy (customers)' });
    expect(await inCustomers()).toEqual({ C1: ['Eve', null, null], C2: ['Fay', 'North', null], C3: ['Cy', null, null] });
    expect(await inCustomers()).toEqual(await inViewForCustomers());
  });

  it('--replace of an owners file brings back the customers file\'s owner in customers.account_owner; a customer nobody owns any more gets NULL', async () => {
    const own = tempDir('crm-owners-restore-');
    const store = path.join(own, 'store.duckdb');
    const file = (name: string, text: string) => {
      const p = path.join(own, name);
      fs.writeFileSync(p, text);
      return p;
    };
    const loadHere = (kind: IngestOptions['kind'], f: string, extra: Partial<IngestOptions> = {}) =>
      ingest({ kind, files: [f], storePath: store, reporter: createReporter({ quiet: true }), progress: createProgress({ quiet: true }), ...extra });
    const owners = async () => {
      const s = await Store.open(store, { readOnly: true });
      try {
        return await s.all('SELECT customer_id, account_owner, team, owner_email, file_account_owner, file_team FROM customers ORDER BY 1');
      } finally {
        s.close();
      }
    };
    await loadHere('customers', file('customers.csv', 'customer_id,name,account_owner,team\nC1,A,Ann,East\nC2,B,,West\n'));
    const ownersFile = file('owners.csv', 'customer_id,account_owner,team,owner_email\nC1,Bob,North,bob@corp.example\nC2,Bob,North,bob@corp.example\n');
    await loadHere('owners', ownersFile);
    expect(await owners()).toEqual([
      { customer_id: 'C1', account_owner: 'Bob', team: 'North', owner_email: 'bob@corp.example', file_account_owner: 'Ann', file_team: 'East' },
      { customer_id: 'C2', account_owner: 'Bob', team: 'North', owner_email: 'bob@corp.example', file_account_owner: null, file_team: 'West' },
    ]);
    // The corrected owners file names neither: C1's customers file owner comes back, C2 has none.
    fs.writeFileSync(ownersFile, 'customer_id,account_owner\nC7,Cy\n');
    const replaced = await loadHere('owners', ownersFile, { replace: true });
    expect(replaced.files[0].replaced_loads).toEqual([2]);
    expect(await owners()).toEqual([
      { customer_id: 'C1', account_owner: 'Ann', team: 'East', owner_email: null, file_account_owner: 'Ann', file_team: 'East' },
      { customer_id: 'C2', account_owner: null, team: null, owner_email: null, file_account_owner: null, file_team: 'West' },
    ]);
    // Replacing the customers file keeps the owners file's owners for the ids it names again.
    await loadHere('owners', file('owners2.csv', 'customer_id,account_owner\nC2,Dee\n'));
    fs.writeFileSync(path.join(own, 'customers.csv'), 'customer_id,name,account_owner\nC1,A,\nC2,B,Eve\n');
    await loadHere('customers', path.join(own, 'customers.csv'), { replace: true });
    expect((await owners()).map((r) => [r.customer_id, r.account_owner])).toEqual([
      ['C1', null], // the new version gives C1 no owner, and no owners file names it
      ['C2', 'Eve'], // the customers load is later than owners2.csv
    ]);
  });
});
