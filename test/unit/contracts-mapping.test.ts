/**
 * Contract files: which columns feed which field (English and Chinese headers, most specific
 * synonym first), the required fields, and --map for the contracts kind.
 */
import { describe, expect, it } from 'vitest';
import { CONTRACT_FIELDS, CONTRACT_STATUS_WORDS, fieldsFor, foldStatusWord, normaliseHeader } from '../../src/ingest/fields.js';
import { parseMapFlags, resolveMapping } from '../../src/ingest/mapping.js';
import { CrmError } from '../../src/util/errors.js';

const resolve = (headers: string[]) => resolveMapping({ kind: 'contracts', headers, sourceLabel: 'p.csv' }).mapping;

describe('contract column mapping', () => {
  it('recognises an English policy export', () => {
    expect(resolve(['Policy No', 'Customer ID', 'Product', 'Start Date', 'End Date', 'Premium', 'Channel', 'Region', 'Status', 'Cancel Date'])).toEqual({
      customer_id: 'Customer ID',
      contract_id: 'Policy No',
      period_start: 'Start Date',
      period_end: 'End Date',
      amount: 'Premium',
      plan: 'Product',
      channel: 'Channel',
      region: 'Region',
      status: 'Status',
      cancel_date: 'Cancel Date',
    });
  });

  it('recognises a subscription export', () => {
    expect(resolve(['Subscription ID', 'Subscriber ID', 'Plan', 'Valid From', 'Valid To', 'Monthly Fee', 'Termination Date'])).toEqual({
      customer_id: 'Subscriber ID',
      contract_id: 'Subscription ID',
      period_start: 'Valid From',
      period_end: 'Valid To',
      amount: 'Monthly Fee',
      plan: 'Plan',
      cancel_date: 'Termination Date',
    });
  });

  it('recognises a Chinese policy export', () => {
    expect(resolve(['保单号', '客户编号', '险种', '起保日期', '终保日期', '保费', '渠道', '状态', '退保日期'])).toEqual({
      customer_id: '客户编号',
      contract_id: '保单号',
      period_start: '起保日期',
      period_end: '终保日期',
      amount: '保费',
      plan: '险种',
      channel: '渠道',
      status: '状态',
      cancel_date: '退保日期',
    });
    expect(resolve(['保单编号', '投保人编号', '险种名称', '保险起期', '保险止期', '应收保费', '保单状态', '注销日期'])).toEqual({
      customer_id: '投保人编号',
      contract_id: '保单编号',
      period_start: '保险起期',
      period_end: '保险止期',
      amount: '应收保费',
      plan: '险种名称',
      status: '保单状态',
      cancel_date: '注销日期',
    });
    expect(resolve(['合同编号', '客户号', '产品', '生效日期', '到期日期', '金额'])).toMatchObject({ contract_id: '合同编号', plan: '产品', period_start: '生效日期', period_end: '到期日期', amount: '金额' });
  });

  it('prefers the more specific synonym: 保费 over 金额, the policyholder id over a generic customer column', () => {
    expect(resolve(['保单号', '客户编号', '起保日期', '终保日期', '金额', '保费']).amount).toBe('保费');
    expect(resolve(['policy', 'customer', 'policyholder id', 'start date', 'end date', 'premium']).customer_id).toBe('policyholder id');
  });

  it('refuses a file without a required field, naming every missing one', () => {
    try {
      resolve(['保单号', '客户编号', '起保日期', '保费']);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(CrmError);
      expect((err as CrmError).message).toBe('p.csv: no column found for period_end');
    }
    try {
      resolveMapping({ kind: 'contracts', headers: ['column1', 'column2', 'column3', 'column4', 'column5'], firstRow: ['P1', 'C1', '2024-01-01', '2024-12-31', '10'], sourceLabel: 'p.csv' });
      expect.unreachable();
    } catch (err) {
      expect((err as CrmError).message).toBe('p.csv: no column found for customer_id, contract_id, period_start, period_end, amount');
      expect((err as CrmError).details.join('\n')).toContain('--map customer_id=column1 --map contract_id=column2 --map period_start=column3 --map period_end=column4 --map amount=column5');
    }
  });

  it('takes --map with contract fields and refuses fields of other kinds', () => {
    expect(parseMapFlags(['contract_id=Vertrag', 'plan=Tarif'], 'contracts')).toEqual({ contract_id: 'Vertrag', plan: 'Tarif' });
    expect(() => parseMapFlags(['order_date=Datum'], 'contracts')).toThrow(/unknown contracts field "order_date"/);
    expect(() => parseMapFlags(['contract_id=X'], 'transactions')).toThrow(/unknown transactions field "contract_id"/);
    const m = resolveMapping({ kind: 'contracts', headers: ['Vertrag', 'Kunde', 'Beginn', 'Ende', 'Beitrag'], explicit: parseMapFlags(['contract_id=Vertrag', 'customer_id=Kunde', 'period_start=Beginn', 'period_end=Ende', 'amount=Beitrag'], 'contracts'), sourceLabel: 'v.csv' });
    expect(m.how).toEqual({ contract_id: 'map', customer_id: 'map', period_start: 'map', period_end: 'map', amount: 'map' });
  });

  it('leaves the transactions mapping as it was (contract synonyms are the contracts kind only)', () => {
    const r = resolveMapping({ kind: 'transactions', headers: ['客户编号', '订单编号', '下单日期', '金额', '产品', '保费'], sourceLabel: 't.csv' });
    expect(r.mapping).toEqual({ customer_id: '客户编号', order_date: '下单日期', amount: '金额', order_id: '订单编号', product: '产品' });
    expect(r.unmapped).toEqual(['保费']);
  });
});

describe('contract fields', () => {
  it('marks exactly the five required fields', () => {
    expect(CONTRACT_FIELDS.filter((f) => f.required).map((f) => f.name)).toEqual(['customer_id', 'contract_id', 'period_start', 'period_end', 'amount']);
    expect(fieldsFor('contracts')).toBe(CONTRACT_FIELDS);
  });

  it('gives no header to two fields (a synonym matches one field only)', () => {
    const owner = new Map<string, string>();
    for (const f of CONTRACT_FIELDS) {
      for (const s of f.synonyms) {
        const key = normaliseHeader(s);
        expect(owner.get(key) ?? f.name, `${s} is a synonym of ${owner.get(key)} and ${f.name}`).toBe(f.name);
        owner.set(key, f.name);
      }
    }
  });

  it('gives no status word two meanings', () => {
    const meaning = new Map<string, string>();
    for (const [status, words] of Object.entries(CONTRACT_STATUS_WORDS)) {
      for (const w of words) {
        const key = foldStatusWord(w);
        expect(meaning.get(key) ?? status, w).toBe(status);
        meaning.set(key, status);
      }
    }
    expect(meaning.get('有效')).toBe('active');
    expect(meaning.get('退保')).toBe('cancelled');
    expect(meaning.get('注销')).toBe('cancelled');
    expect(meaning.get('失效')).toBe('lapsed');
    expect(meaning.get('满期')).toBe('lapsed');
    // Words that mean either early termination or maturity are not guessed.
    for (const w of ['终止', 'terminated', 'closed']) expect(meaning.has(w), w).toBe(false);
  });
});
