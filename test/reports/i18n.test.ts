import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { Store } from '../../src/store/db.js';
import {
  columnLabel,
  dictionaryRows,
  formatDate,
  formatMonth,
  formatNumber,
  formatValue,
  localizeTree,
  parseLang,
  registerSqlDictionary,
  t,
  termKey,
  translateTerm,
} from '../../src/reports/i18n.js';
import { FALLBACK_CODES, NO_PURCHASES_CODE } from '../../src/run/index.js';
import { CrmError } from '../../src/util/errors.js';
import { createFixtureStore, type Fixture } from '../helpers/fixture.js';

const SEGMENTS = [
  'Champions',
  'Loyal',
  'Potential Loyalist',
  'New',
  'Promising',
  'Need Attention',
  'About to Sleep',
  'At Risk',
  "Can't Lose Them",
  'Hibernating',
  'Lost',
];

describe('numbers', () => {
  test('English uses en-US grouping; amounts keep two decimals below 1,000', () => {
    expect(formatNumber('en', 2262668.4, 'money')).toBe('2,262,668');
    expect(formatNumber('en', 45.5, 'money')).toBe('45.50');
    expect(formatNumber('en', 1234567, 'number')).toBe('1,234,567');
    expect(formatNumber('en', 3.14159)).toBe('3.14');
    expect(formatNumber('en', 1234.6, 'integer')).toBe('1,235');
    expect(formatNumber('en', 1234567, 'compact')).toBe('1.2M');
  });

  test('Chinese amounts from 1万 read in 万 and 亿', () => {
    expect(formatNumber('zh', 2262668.4, 'money')).toBe('226.27万');
    expect(formatNumber('zh', 123456789, 'money')).toBe('1.23亿');
    expect(formatNumber('zh', 4704.2, 'money')).toBe('4,704');
    expect(formatNumber('zh', 50000, 'compact')).toBe('5万');
    expect(formatNumber('zh', 1234567, 'number')).toBe('1,234,567');
  });

  test('percent takes a share and a digit count', () => {
    expect(formatNumber('en', 0.3421, 'percent')).toBe('34.2%');
    expect(formatNumber('zh', 0.3421, 'percent', 0)).toBe('34%');
  });

  test('missing values print as a dash, text stays text', () => {
    expect(formatNumber('en', null)).toBe('–');
    expect(formatValue('zh', null)).toBe('–');
    expect(formatValue('en', 'abc')).toBe('abc');
  });
});

describe('dates', () => {
  test('calendar dates and months per language, without time zone shifts', () => {
    expect(formatDate('zh', '2024-01-05')).toBe('2024年1月5日');
    expect(formatDate('en', '2024-01-05')).toBe('Jan 5, 2024');
    expect(formatDate('zh', '2024-12-31 23:30:00')).toBe('2024年12月31日');
    expect(formatMonth('zh', '2024-03-01')).toBe('2024年3月');
    expect(formatMonth('en', '2024-03-01')).toBe('Mar 2024');
  });

  test('store dates format as dates by default', () => {
    expect(formatValue('zh', '2024-01-05')).toBe('2024年1月5日');
  });
});

/** Words a plain-language notice must not use (they stay in runs.fallback_reason and crm model show). */
const JARGON = /BFGS|gradient|converge|Hessian|running away|ran away|parameter|likelihood|optimi[sz]/i;

describe('terms and labels', () => {
  test('every RFM segment, value tier, churn level and ABC class has a Chinese name', () => {
    const terms = [...SEGMENTS, 'Platinum', 'Gold', 'Silver', 'Bronze', 'low', 'medium', 'high', 'A', 'B', 'C'];
    for (const term of terms) {
      const zh = translateTerm('zh', term);
      expect(zh, term).toMatch(/[\u4e00-\u9fff]/);
    }
    expect(translateTerm('zh', "Can't Lose Them")).toBe('不能失去的客户');
    expect(translateTerm('zh', 'CANT_LOSE_THEM')).toBe('不能失去的客户');
    expect(translateTerm('en', 'high')).toBe('High');
    expect(translateTerm('zh', 'Acme Corp')).toBe('Acme Corp');
  });

  test('UI labels fill their parameters; an unknown label is a bug', () => {
    expect(t('zh', 'table.top_of', { shown: 10, total: 36 })).toBe('前 10 条，共 36 条');
    expect(() => t('en', 'no.such.label')).toThrow(/no label/);
  });

  test('column headers: known names translate, others become readable', () => {
    expect(columnLabel('zh', 'revenue')).toBe('收入');
    expect(columnLabel('en', 'total_spend')).toBe('Total spend');
  });

  test('localisable strings resolve deep in a spec, falling back to English with a note', () => {
    const missing: string[] = [];
    const spec = { title: { en: 'Revenue', zh: '收入' }, axis: { title: { en: 'Only English' } }, other: { en: 1 } };
    expect(localizeTree(spec, 'zh', (en) => missing.push(en))).toEqual({ title: '收入', axis: { title: 'Only English' }, other: { en: 1 } });
    expect(missing).toEqual(['Only English']);
  });

  test('every fallback code of crm run has a plain sentence in both languages, free of optimiser jargon', () => {
    const notices = new Map(dictionaryRows().map((r) => [r.key, r]));
    for (const code of [...FALLBACK_CODES, 'unknown']) {
      const notice = notices.get(`fallback.${code}`);
      expect(notice, code).toBeDefined();
      expect(notice!.en, code).toMatch(/ranked by how recently they bought\.$/);
      expect(notice!.zh, code).toMatch(/按客户最近一次购买距今的时间排序。$/);
      for (const text of [notice!.en, notice!.zh]) expect(text, code).not.toMatch(JARGON);
    }
  });

  test('the no-purchases code (contracts only) has a plain sentence in both languages, free of optimiser jargon', () => {
    const notice = dictionaryRows().find((r) => r.key === `fallback.${NO_PURCHASES_CODE}`);
    expect(notice).toBeDefined();
    expect(notice!.en).toMatch(/valued by the premiums their contracts are expected to bring\.$/);
    expect(notice!.zh).toMatch(/客户按其合同预期带来的保费估值。$/);
    for (const text of [notice!.en, notice!.zh]) expect(text).not.toMatch(JARGON);
  });

  test('--lang accepts en and zh only', () => {
    expect(parseLang('zh')).toBe('zh');
    expect(parseLang(undefined)).toBe('en');
    expect(() => parseLang('fr')).toThrow(CrmError);
  });
});

describe('SQL dictionary', () => {
  let fixture: Fixture;
  beforeAll(async () => {
    fixture = await createFixtureStore();
  });
  afterAll(() => fixture.cleanup());

  test('i18n_key in SQL and termKey agree', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      await registerSqlDictionary(conn, 'en');
      const samples = ["Can't Lose Them", '  Potential  Loyalist ', 'ABOUT-TO-SLEEP', 'col.revenue', 'x__y', '冠军客户', 'Ünïcode', 'A'];
      for (const sample of samples) {
        const reader = await conn.runAndReadAll('SELECT i18n_key($1) AS k', [sample]);
        expect(reader.getRowObjects()[0].k, sample).toBe(termKey(sample));
      }
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });

  test('tr() translates on a read-only store and passes unknown values through', async () => {
    const store = await Store.open(fixture.storePath, { readOnly: true });
    const conn = await store.instance.connect();
    try {
      await registerSqlDictionary(conn, 'zh');
      const reader = await conn.runAndReadAll(
        `SELECT tr('Champions') AS seg, tr('high') AS churn, tr('Gold') AS tier, tr('B') AS abc,
                tr('Acme') AS other, tr(NULL) AS nothing, tr(42) AS number,
                (SELECT count(*) FROM i18n) AS entries`,
      );
      expect(reader.getRowObjects()[0]).toEqual({
        seg: '冠军客户',
        churn: '高',
        tier: '黄金',
        abc: 'B类',
        other: 'Acme',
        nothing: null,
        number: '42',
        entries: BigInt(dictionaryRows().length),
      });
    } finally {
      conn.closeSync();
      store.close();
    }
  });
});
