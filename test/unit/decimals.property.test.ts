/**
 * Property-based tests (fast-check) of amount parsing, run as the real SQL in an in-memory
 * DuckDB: any well-formed amount written in either convention reads back exactly, and a column
 * written in one convention is never read as the other. Values are compared as decimal text.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  decideDecimalSeparator,
  decimalEvidenceExpr,
  decimalEvidenceGrammarExpr,
  decimalExpr,
  EVIDENCE,
  type DecimalSeparator,
} from '../../src/ingest/values.js';
import { literal } from '../../src/store/db.js';

let conn: DuckDBConnection;
beforeAll(async () => {
  conn = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => conn.closeSync());

interface Amount {
  negative: boolean;
  /** Whole part, up to 14 digits (DECIMAL(18,4)). */
  whole: bigint;
  /** 0 to 4 decimal digits. */
  fraction: string;
}

interface Writing {
  convention: DecimalSeparator;
  /** Thousands separator: none, the other mark, a blank, a no-break space or an apostrophe. */
  group: 'none' | 'mark' | ' ' | '\u00a0' | "'";
  sign: 'minus' | 'plus' | 'parentheses' | 'trailing';
  currency: '' | '$' | '€ suffix' | 'EUR ' | ' USD';
}

const amountArb: fc.Arbitrary<Amount> = fc.record({
  negative: fc.boolean(),
  whole: fc.bigInt({ min: 0n, max: 10n ** 14n - 1n }),
  fraction: fc.stringMatching(/^[0-9]{0,4}$/),
});

const writingArb: fc.Arbitrary<Writing> = fc.record({
  convention: fc.constantFrom<DecimalSeparator>('.', ','),
  group: fc.constantFrom<Writing['group']>('none', 'mark', ' ', '\u00a0', "'"),
  sign: fc.constantFrom<Writing['sign']>('minus', 'plus', 'parentheses', 'trailing'),
  currency: fc.constantFrom<Writing['currency']>('', '$', '€ suffix', 'EUR ', ' USD'),
});

/** The amount as an export would write it. */
function write(a: Amount, w: Writing): string {
  const digits = a.whole.toString();
  const groupSep = w.group === 'none' ? '' : w.group === 'mark' ? (w.convention === '.' ? ',' : '.') : w.group;
  const grouped = groupSep ? digits.replace(/\B(?=(\d{3})+$)/g, groupSep) : digits;
  let number = a.fraction ? `${grouped}${w.convention}${a.fraction}` : grouped;
  if (w.currency === '$' || w.currency === 'EUR ') number = w.currency + number;
  if (w.currency === '€ suffix') number += ' €';
  if (w.currency === ' USD') number += w.currency;
  if (!a.negative) return w.sign === 'plus' ? `+${number}` : number;
  if (w.sign === 'parentheses') return `(${number})`;
  if (w.sign === 'trailing') return `${number}-`;
  return `-${number}`;
}

/** What DuckDB should give back: DECIMAL(18,4) as text (no sign on zero). */
function expected(a: Amount): string {
  const text = `${a.whole}.${a.fraction.padEnd(4, '0')}`;
  const zero = a.whole === 0n && /^0*$/.test(a.fraction);
  return a.negative && !zero ? `-${text}` : text;
}

async function evalAll(values: string[], expr: (col: string) => string): Promise<(string | null)[]> {
  const rows = values.map((v, i) => `(${i}, ${literal(v)})`).join(', ');
  const reader = await conn.runAndReadAll(`SELECT CAST(${expr('v')} AS VARCHAR) AS out FROM (VALUES ${rows}) t(i, v) ORDER BY i`);
  return reader.getRowObjectsJS().map((r) => (r.out === null ? null : String(r.out)));
}

describe('amounts (property-based)', () => {
  it('any well-formed amount reads back exactly in the convention it was written in', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(amountArb, writingArb), { minLength: 1, maxLength: 30 }), async (cases) => {
        for (const convention of ['.', ','] as const) {
          const mine = cases.filter(([, w]) => w.convention === convention);
          if (!mine.length) continue;
          const out = await evalAll(
            mine.map(([a, w]) => write(a, w)),
            (c) => decimalExpr(c, convention),
          );
          expect(out).toEqual(mine.map(([a]) => expected(a)));
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a column written in one convention is decided that way or left undecided, never read the other way', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<DecimalSeparator>('.', ','),
        fc.array(fc.tuple(amountArb, writingArb), { minLength: 1, maxLength: 30 }),
        async (convention, cases) => {
          const texts = cases.map(([a, w]) => write(a, { ...w, convention }));
          const evidence = await evalAll(texts, decimalEvidenceExpr);
          const count = (k: number) => evidence.filter((e) => e === String(k)).length;
          const decision = decideDecimalSeparator({ point: count(EVIDENCE.point), comma: count(EVIDENCE.comma), ambiguous: count(EVIDENCE.ambiguous) });
          expect([convention, null]).toContain(decision);
          const out = await evalAll(texts, (c) => decimalExpr(c, decision as DecimalSeparator | null));
          // Each value reads exactly, or (undecided and ambiguous) is left unread: never another number.
          out.forEach((v, i) => {
            if (v !== null || decision !== null) expect(v).toBe(expected(cases[i][0]));
          });
        },
      ),
      { numRuns: 150 },
    );
  });

  it('the plain-number shortcut of the decimal evidence says what the amount grammar says, for any text', async () => {
    // Texts built from the characters that matter (digits, marks, signs, blanks, a currency,
    // a letter), plus the writings above: the shortcut may only skip work, never change an answer.
    const charArb = fc.constantFrom('0', '1', '2', '5', '9', '.', ',', '-', '+', ' ', '\u00a0', "'", '$', 'e', '(', ')');
    const textArb = fc.oneof(
      fc.array(charArb, { maxLength: 12 }).map((cs) => cs.join('')),
      fc.tuple(amountArb, writingArb).map(([a, w]) => write(a, w)),
      fc.tuple(fc.stringMatching(/^[0-9]{0,5}$/), fc.stringMatching(/^[0-9]{0,5}$/)).map(([w, f]) => `${w}.${f}`),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(textArb, { minLength: 1, maxLength: 40 }), async (texts) => {
        expect(await evalAll(texts, decimalEvidenceExpr)).toEqual(await evalAll(texts, decimalEvidenceGrammarExpr));
      }),
      { numRuns: 60 },
    );
  });
});
