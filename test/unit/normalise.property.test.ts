/**
 * Property-based tests (fast-check) of the normalisers people are matched by
 * (src/ingest/normalise.ts) and the on-screen masks (src/reports/pii.ts), run as the real SQL in
 * an in-memory DuckDB: normalising twice changes nothing; how a phone is written does not change
 * it; the width fold is NFKC on full-width text; the lookup's phone prefilter never drops a true
 * match; a mask never reveals more than its rule allows.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FULL_WIDTH_CHARS, HALF_WIDTH_CHARS, NORMALISED_EMAIL, NORMALISED_NAME, NORMALISED_PHONE } from '../../src/ingest/normalise.js';
import { maskEmailSql, maskNameSql, maskPhoneSql } from '../../src/reports/pii.js';
import { PHONE_DIGITS_PATTERN } from '../../src/run/lookup.js';

let conn: DuckDBConnection;
beforeAll(async () => {
  conn = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => conn.closeSync());

/** One SQL expression over the bound value $v. */
async function sqlOf(expr: (v: string) => string, value: string | null): Promise<unknown> {
  const reader = await conn.runAndReadAll(`SELECT ${expr('$v')} AS r`, { v: value });
  return reader.getRowObjectsJS()[0]!.r;
}

const RUNS = { numRuns: 150 };
const text = fc.string({ unit: fc.constantFrom(...'aZ9 .@+-()_%\'"é张　Ａｚ０'.split('')), maxLength: 24 });
const digit = fc.constantFrom(...'0123456789'.split(''));
const separator = fc.constantFrom('', ' ', '-', '.', '(', ')', '/');
/** Digits with separators between them, as phones are written. */
const writtenPhone = fc
  .tuple(fc.constantFrom('', '+', '00', '0'), fc.array(fc.tuple(digit, separator), { minLength: 7, maxLength: 14 }))
  .map(([prefix, parts]) => prefix + parts.map(([d, s]) => d + s).join(''));

describe('normalisers', () => {
  it('are idempotent (e-mail, phone, name)', async () => {
    await fc.assert(
      fc.asyncProperty(text, async (s) => {
        for (const n of [NORMALISED_EMAIL, NORMALISED_PHONE, NORMALISED_NAME]) {
          const once = (await sqlOf(n, s)) as string;
          expect(await sqlOf(n, once)).toBe(once);
        }
      }),
      RUNS,
    );
  });

  it('e-mail: case and surrounding spaces do not matter', async () => {
    const local = fc.string({ unit: fc.constantFrom(...'abcXYZ09._-'.split('')), minLength: 1, maxLength: 12 });
    await fc.assert(
      fc.asyncProperty(local, fc.nat(3), fc.nat(3), async (l, before, after) => {
        const e = `${l}@Example.COM`;
        expect(await sqlOf(NORMALISED_EMAIL, ' '.repeat(before) + e.toUpperCase() + ' '.repeat(after))).toBe(await sqlOf(NORMALISED_EMAIL, e.toLowerCase()));
      }),
      RUNS,
    );
  });

  it('phone: separators, a leading +, 00 or 0 do not change it; at most the last 10 digits', async () => {
    await fc.assert(
      fc.asyncProperty(writtenPhone, async (p) => {
        const digits = p.replace(/\D/g, '').replace(/^0+/, '');
        const n = (await sqlOf(NORMALISED_PHONE, p)) as string;
        expect(n).toBe(digits.slice(-10));
        expect(n).toMatch(/^\d{0,10}$/);
      }),
      RUNS,
    );
  });

  it("phone: the lookup's prefilter pattern matches every phone that normalises to the query's form", async () => {
    await fc.assert(
      fc.asyncProperty(writtenPhone, async (p) => {
        expect(await sqlOf((v) => `${v} LIKE ${PHONE_DIGITS_PATTERN(NORMALISED_PHONE(v))}`, p)).toBe(true);
      }),
      RUNS,
    );
  });

  it('name: the width fold is NFKC on ASCII and full-width text, then lower case', async () => {
    const chars = [...HALF_WIDTH_CHARS, ...FULL_WIDTH_CHARS];
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: fc.constantFrom(...chars), maxLength: 20 }), async (s) => {
        expect(await sqlOf(NORMALISED_NAME, s)).toBe(s.normalize('NFKC').toLowerCase());
      }),
      RUNS,
    );
  });

  it('name: a full-width spelling and the half-width one normalise alike', async () => {
    const ascii = fc.string({ unit: fc.constantFrom(...HALF_WIDTH_CHARS), maxLength: 20 });
    const wide = (s: string) => [...s].map((c) => FULL_WIDTH_CHARS[HALF_WIDTH_CHARS.indexOf(c)]).join('');
    await fc.assert(
      fc.asyncProperty(ascii, async (s) => {
        expect(await sqlOf(NORMALISED_NAME, wide(s))).toBe(await sqlOf(NORMALISED_NAME, s.toUpperCase()));
      }),
      RUNS,
    );
  });
});

describe('masks never reveal more than their rule', () => {
  it('e-mail: at most the first character of the local part, and the domain', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(text, fc.tuple(text, text).map(([a, b]) => `${a}@${b}`)), async (e) => {
        const m = (await sqlOf(maskEmailSql, e)) as string;
        const t = e.trim();
        if (m === '' || m === '***') return;
        const at = t.indexOf('@');
        expect(m).toBe(`${t[0]}***${t.slice(at)}`);
      }),
      RUNS,
    );
  });

  it('phone: the country code, at most 3 + 4 digits of the number, none of a short one', async () => {
    await fc.assert(
      fc.asyncProperty(writtenPhone, async (p) => {
        const m = (await sqlOf(maskPhoneSql, p)) as string;
        const national = m.replace(/^\+\d{1,3} /, '');
        const shown = national.replace(/\D/g, '').length;
        const all = national.replace(/[^\d*]/g, '').length;
        expect(shown).toBeLessThanOrEqual(7);
        if (all < 8) expect(shown).toBe(0);
      }),
      RUNS,
    );
  });

  it('name: one character per word, every word ending in ***', async () => {
    await fc.assert(
      fc.asyncProperty(text, async (n) => {
        const m = (await sqlOf(maskNameSql, n)) as string;
        const words = m.split(/[\s\u3000]+/).filter(Boolean);
        for (const w of words) expect([...w].length === 4 && w.endsWith('***')).toBe(true);
        expect(words.length).toBe(n.trim().split(/[\s\u3000]+/).filter(Boolean).length);
      }),
      RUNS,
    );
  });
});
