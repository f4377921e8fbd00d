import { describe, expect, it } from 'vitest';
import { parseMapFlags, resolveMapping } from '../../src/ingest/mapping.js';
import { CrmError } from '../../src/util/errors.js';

const resolve = (headers: string[], extra: Partial<Parameters<typeof resolveMapping>[0]> = {}) =>
  resolveMapping({ kind: 'transactions', headers, sourceLabel: 'f.csv', ...extra });

describe('column mapping', () => {
  it('recognises the Online Retail II headers', () => {
    const r = resolve(['Invoice', 'StockCode', 'Description', 'Quantity', 'InvoiceDate', 'Price', 'Customer ID', 'Country']);
    expect(r.mapping).toEqual({
      customer_id: 'Customer ID',
      order_date: 'InvoiceDate',
      quantity: 'Quantity',
      unit_price: 'Price',
      order_id: 'Invoice',
      product: 'StockCode',
      region: 'Country',
    });
    expect(r.unmapped).toEqual(['Description']);
  });

  it('recognises Chinese headers', () => {
    const r = resolve(['客户编号', '订单编号', '下单日期', '金额', '产品']);
    expect(r.mapping).toEqual({ customer_id: '客户编号', order_date: '下单日期', amount: '金额', order_id: '订单编号', product: '产品' });
    const c = resolveMapping({ kind: 'customers', headers: ['客户编号', '客户名称', '邮箱', '手机', '地区', '行业', '客户经理', '注册日期'], sourceLabel: 'c.csv' });
    expect(Object.keys(c.mapping).sort()).toEqual(['account_owner', 'customer_id', 'email', 'industry', 'name', 'phone', 'region', 'signup_date']);
  });

  it('prefers the more specific synonym (order date over date)', () => {
    expect(resolve(['customer_id', 'date', 'Order Date', 'amount']).mapping.order_date).toBe('Order Date');
  });

  it('reports a tie as ambiguous, listing the headers', () => {
    try {
      resolve(['customer_id', 'order date', 'Order_Date', 'amount']);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(CrmError);
      expect((err as CrmError).message).toMatch(/order_date is ambiguous: columns "order date" and "Order_Date"/);
      expect((err as CrmError).details.join('\n')).toMatch(/--map order_date=/);
    }
  });

  it('names missing required fields and lists the headers', () => {
    try {
      resolve(['who', 'when', 'amount']);
      expect.unreachable();
    } catch (err) {
      expect((err as CrmError).message).toBe('f.csv: no column found for customer_id, order_date');
      expect((err as CrmError).details).toContain('The file\'s headers: "who", "when", "amount"');
    }
  });

  it('needs amount or quantity and unit_price', () => {
    expect(() => resolve(['customer_id', 'date', 'quantity'])).toThrow(/amount \(or quantity and unit_price\)/);
    expect(resolve(['customer_id', 'date', 'quantity', 'price']).mapping.unit_price).toBe('price');
  });

  it('applies --map and config choices, --map winning', () => {
    const r = resolve(['who', 'when', 'value', 'Amount'], {
      explicit: parseMapFlags(['customer_id=who', 'amount=value'], 'transactions'),
      configured: { order_date: 'when', amount: 'Amount' },
    });
    expect(r.mapping).toMatchObject({ customer_id: 'who', order_date: 'when', amount: 'value' });
    expect(r.how).toMatchObject({ customer_id: 'map', order_date: 'config', amount: 'map' });
  });

  it('rejects bad --map flags and unknown columns', () => {
    expect(() => parseMapFlags(['customer_id'], 'transactions')).toThrow(/expected target=source/);
    expect(() => parseMapFlags(['colour=x'], 'transactions')).toThrow(/unknown transactions field "colour"/);
    expect(() => resolve(['a', 'b'], { explicit: { customer_id: 'zzz' } })).toThrow(/the column "zzz" given for customer_id \(--map\) is not in the file/);
  });
});
