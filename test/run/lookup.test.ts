/**
 * `crm customer QUERY` (src/run/lookup.ts) on a tiny customers table in an in-memory store:
 * which customers each kind of query finds, what matched, the exact id winning, --where on
 * attributes, masking by default, and hostile text (quotes, SQL, LIKE wildcards) taken literally.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '../../src/store/db.js';
import { lookupIn, parseLimit, parseWhere, formatCandidates, type CandidateList, type FoundCustomer, type LookupOptions } from '../../src/run/lookup.js';
import { CrmError, ExitCode } from '../../src/util/errors.js';

// id, name, email, phone, region, attributes (JSON or null)
const CUSTOMERS: [string, string | null, string | null, string | null, string | null, string | null][] = [
  ['C1', 'Zhang Wei', 'Zhang.Wei@Example.com', '+86 138-1234-5678', 'East', '{"plate":"沪A12345","tier":"VIP"}'],
  ['C2', 'ＺＨＡＮＧ　Ｍｉｎ', 'min@example.com', '021 5555 1234', 'East', '{"plate":"京B99999","tier":"vip"}'],
  ['C3', 'Anna Schmidt', 'anna@example.de', '+49 30 1234567', 'West', '{"a/b":"slash","a.b":"dot"}'],
  ['C4', 'Acme 100% Pure_Water', null, null, 'West', null],
  ['C5', "O'Brien'; DROP TABLE customers; --", 'ob@example.ie', null, 'North', null],
  ['CX1', 'Contains c1 in name', null, null, 'South', null],
  ['C0013812345678', 'Digits Id Ltd', null, null, 'South', null],
  ['C8', 'zhang', null, null, 'East', null],
  ['K9', 'K9 Kennels', null, null, 'North', '{"club":"yes"}'],
];

let store: Store;
const base: LookupOptions = { where: [], limit: 20, showPii: false, maskNames: false };

beforeAll(async () => {
  store = await Store.open(':memory:', { create: true });
  for (const [id, name, email, phone, region, attributes] of CUSTOMERS) {
    await store.run(
      `INSERT INTO customers (customer_id, name, email, phone, region, attributes, load_id, source_file, source_row)
       VALUES ($id, $name, $email, $phone, $region, CAST($attributes AS JSON), 1, 'customers.csv', 1)`,
      { id, name, email, phone, region, attributes },
    );
  }
});
afterAll(() => store?.close());

async function found(query: string | null, options: Partial<LookupOptions> = {}): Promise<FoundCustomer> {
  const r = await lookupIn(store, query, { ...base, ...options });
  if (r.kind !== 'customer') throw new Error(`expected one customer, got ${r.list.matches} candidates`);
  return r.customer;
}
async function listed(query: string | null, options: Partial<LookupOptions> = {}): Promise<CandidateList> {
  const r = await lookupIn(store, query, { ...base, ...options });
  if (r.kind !== 'candidates') throw new Error(`expected candidates, got customer ${r.customer.customer_id}`);
  return r.list;
}
async function failure(query: string | null, options: Partial<LookupOptions> = {}): Promise<CrmError> {
  try {
    await lookupIn(store, query, { ...base, ...options });
  } catch (err) {
    return err as CrmError;
  }
  throw new Error('expected an error');
}

describe('finding one customer', () => {
  it('an exact id wins over names containing it', async () => {
    const c = await found('C1');
    expect([c.customer_id, c.matched]).toEqual(['C1', ['id']]);
  });

  it('an e-mail, trimmed and in any case', async () => {
    const c = await found('  zhang.wei@EXAMPLE.COM ');
    expect([c.customer_id, c.matched]).toEqual(['C1', ['email']]);
  });

  it('a phone written another way (0086 prefix, no separators) — normalised as crm quality does', async () => {
    expect((await found('0086 13812345678')).customer_id).toBe('C1');
    expect((await found('(138) 1234 5678')).matched).toEqual(['phone']);
  });

  it('the digits of an id are not taken for a phone number', async () => {
    // C0013812345678 holds C1's phone digits; only a query written like a phone compares phones.
    const c = await found('C0013812345678');
    expect([c.customer_id, c.matched]).toEqual(['C0013812345678', ['id']]);
  });

  it('a name in part, case- and width-insensitively, both ways', async () => {
    expect((await found('anna')).customer_id).toBe('C3');
    expect((await found('ｓｃｈｍｉｄｔ')).customer_id).toBe('C3');
    const min = await found('zhang min');
    expect([min.customer_id, min.matched]).toEqual(['C2', ['name']]);
  });
});

describe('several customers: candidates', () => {
  it('lists each with what matched, the whole name before a part of one, masked contact', async () => {
    const l = await listed('ZHANG');
    expect(l.matches).toBe(3);
    expect(l.candidates.map((c) => [c.customer_id, c.matched])).toEqual([
      ['C8', ['name']],
      ['C1', ['name']],
      ['C2', ['name']],
    ]);
    expect(l.candidates[1]).toMatchObject({ name: 'Zhang Wei', email: 'Z***@Example.com', phone: '+86 138****5678', region: 'East', value_tier: null });
    expect(l.pii_masked).toBe(true);
  });

  it('a customer found by two tests is one match with both reasons', async () => {
    // With --where the id is not probed first: the id and the name test both find K9.
    const c = await found('K9', { where: [parseWhere('club=yes')] });
    expect([c.customer_id, c.matched]).toEqual(['K9', ['id', 'name']]);
  });

  it('--limit caps the list and keeps the count', async () => {
    const l = await listed('c', { limit: 1 });
    expect(l.candidates.length).toBe(1);
    expect(l.matches).toBeGreaterThan(1);
    expect(formatCandidates(l)[0]).toMatch(/^\d+ customers match "c" .*; the first 1 \(--limit\):$/);
  });
});

describe('--where on attributes', () => {
  it('one condition, case- and width-insensitive whole value', async () => {
    const c = await found(null, { where: [parseWhere('plate=沪a12345')] });
    expect([c.customer_id, c.matched]).toEqual(['C1', ['attribute']]);
  });

  it('repeated conditions all hold (AND); with a query they filter its matches', async () => {
    expect((await listed(null, { where: [parseWhere('tier=vip')] })).matches).toBe(2);
    expect((await found(null, { where: [parseWhere('tier=vip'), parseWhere('plate=京B99999')] })).customer_id).toBe('C2');
    const c = await found('zhang', { where: [parseWhere('plate=京B99999')] });
    expect([c.customer_id, c.matched]).toEqual(['C2', ['name']]);
  });

  it('keys holding / and . are plain keys, not paths', async () => {
    expect((await found(null, { where: [parseWhere('a/b=slash')] })).customer_id).toBe('C3');
    expect((await found(null, { where: [parseWhere('a.b=dot')] })).customer_id).toBe('C3');
  });

  it('parseWhere splits at the first =; a missing key is a usage error', () => {
    expect(parseWhere('note=a=b')).toEqual({ key: 'note', value: 'a=b' });
    expect(() => parseWhere('=x')).toThrow(/give key=value/);
    expect(() => parseWhere('plate')).toThrow(/give key=value/);
    expect(() => parseLimit('0')).toThrow(/1 or more/);
    expect(parseLimit('5')).toBe(5);
  });
});

describe('nothing found', () => {
  it('an input error (exit 3) naming what was searched', async () => {
    const e = await failure('nobody');
    expect(e.exitCode).toBe(ExitCode.input);
    expect(e.message).toBe('no customer "nobody" (by id, e-mail, phone or name) in the store');
    const w = await failure(null, { where: [parseWhere('plate=none')] });
    expect(w.message).toBe('no customer plate="none" in the store');
  });

  it('neither a query nor --where: a usage error', async () => {
    const { lookupCustomer } = await import('../../src/run/lookup.js');
    await expect(lookupCustomer('/nonexistent.duckdb', null, base)).rejects.toMatchObject({ exitCode: ExitCode.usage });
  });
});

describe('masking on screen', () => {
  it('e-mail and phone masked by default in the 360° view; --show-pii shows them', async () => {
    const masked = await found('C1');
    expect(masked.profile).toMatchObject({ name: 'Zhang Wei', email: 'Z***@Example.com', phone: '+86 138****5678' });
    expect(masked.pii_masked).toBe(true);
    const shown = await found('C1', { showPii: true });
    expect(shown.profile).toMatchObject({ email: 'Zhang.Wei@Example.com', phone: '+86 138-1234-5678' });
    expect(shown.pii_masked).toBe(false);
  });

  it('privacy.mask_names masks names too, in the view and in candidates', async () => {
    expect((await found('C1', { maskNames: true })).profile).toMatchObject({ name: 'Z*** W***' });
    expect((await listed('zhang', { maskNames: true })).candidates.map((c) => c.name)).toEqual(['z***', 'Z*** W***', 'Ｚ***\u3000Ｍ***']);
    expect((await found('C1', { maskNames: true, showPii: true })).profile).toMatchObject({ name: 'Zhang Wei' });
  });
});

describe('hostile text is taken literally', () => {
  it('% and _ match only themselves in names', async () => {
    expect((await found('100%')).customer_id).toBe('C4');
    expect((await found('pure_water')).customer_id).toBe('C4');
    await expect(failure('%%')).resolves.toMatchObject({ exitCode: ExitCode.input });
    await expect(failure('a_n_n_a')).resolves.toMatchObject({ exitCode: ExitCode.input });
  });

  it('quotes and SQL in the query are text: found as a name, the table intact', async () => {
    expect((await found("o'brien'; drop table")).customer_id).toBe('C5');
    await failure("' OR 1=1 --");
    await failure('x\'); DELETE FROM customers; --', { where: [parseWhere("k'=v'")] });
    expect(await store.value<number>('SELECT count(*) FROM customers')).toBe(CUSTOMERS.length);
  });
});
