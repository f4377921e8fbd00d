/**
 * Decimal separators, through the ingest library on small files: the examples of issue #8.
 * A column's separator is decided from every value; values proving both conventions stop the
 * command; an ambiguous value is never read one way without evidence.
 */
import { describe, expect, it } from 'vitest';
import { ingestError, ingestFiles } from '../helpers/ingest.js';

/** A transactions CSV with one amount per row (row 1 is the header, so amounts start at row 2). */
function amountsCsv(amounts: string[], extra?: { header: string; values: string[] }): string {
  const head = `customer_id;order_date;amount${extra ? `;${extra.header}` : ''}`;
  const lines = amounts.map((a, i) => `C${i + 1};2024-01-05;${a}${extra ? `;${extra.values[i]}` : ''}`);
  return [head, ...lines].join('\n') + '\n';
}

async function loadedAmounts(csv: string, opts: Parameters<typeof ingestFiles>[1] = {}) {
  const run = await ingestFiles({ 'tx.csv': csv }, opts);
  const rows = await run.query<{ source_row: number; amount: string }>(
    'SELECT source_row, CAST(amount AS VARCHAR) AS amount FROM transactions ORDER BY source_row',
  );
  const rejects = await run.query<{ source_row: number; reason: string; detail: string }>(
    'SELECT source_row, reason, detail FROM rejects ORDER BY source_row',
  );
  const options = await run.query<{ options: string }>('SELECT CAST(options AS VARCHAR) AS options FROM loads');
  return { rows, rejects, separators: JSON.parse(options[0].options).decimal_separators.file as Record<string, string | null>, report: run.report };
}

describe('decimal separators', () => {
  it('one "7,5" among point decimals is a conflict naming both rows, not a decimal-comma column', async () => {
    // Before: the column became decimal-comma: 10.00 → 1000, 0.5 → 5, 1,234.50 → 1.2345, 0 rejected.
    const err = await ingestError({ 'tx.csv': amountsCsv(['10.00', '0.5', '1,234.50', '7,5', '0']) });
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain('tx.csv: column "amount" mixes decimal separators');
    expect(err.message).toContain('row 2 has "10.00" (decimal point)');
    expect(err.message).toContain('row 5 has "7,5" (decimal comma)');
    expect(err.details!.join('\n')).toContain('--decimal-separator');
    expect(err.details!.join('\n')).toContain('ingest.transactions.decimalSeparator');
  });

  it('"1,234.50" and "7,5" in one column conflict (7,5 is never read as 75)', async () => {
    const err = await ingestError({ 'tx.csv': amountsCsv(['1,234.50', '7,5']) });
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain('row 2 has "1,234.50" (decimal point) and row 3 has "7,5" (decimal comma)');
  });

  it('counts source rows as a spreadsheet shows them (blank lines and title lines included)', async () => {
    const csv = 'Sales export\n' + amountsCsv(['10.00', '', '7,5']).replace('\nC3', '\n\nC3');
    const err = await ingestError({ 'tx.csv': csv });
    expect(err.message).toContain('row 3 has "10.00"');
    expect(err.message).toContain('row 6 has "7,5"');
  });

  it('--decimal-separator . reads points and rejects "7,5" and "12,34.5" with a reason', async () => {
    const { rows, rejects, separators } = await loadedAmounts(amountsCsv(['10.00', '0.5', '1,234.50', '7,5', '0', '12,34.5', '1,234,567.89']), {
      decimalSeparator: '.',
    });
    expect(rows.map((r) => [r.source_row, r.amount])).toEqual([
      [2, '10.0000'],
      [3, '0.5000'],
      [4, '1234.5000'],
      [6, '0.0000'],
      [8, '1234567.8900'],
    ]);
    expect(rejects.map((r) => [r.source_row, r.reason])).toEqual([
      [5, 'invalid_amount'],
      [7, 'invalid_amount'],
    ]);
    expect(rejects[0].detail).toContain('cannot read "7,5" as an amount (this column writes decimals with a point');
    expect(separators).toEqual({ amount: '.' });
  });

  it('--decimal-separator , reads commas and rejects point decimals', async () => {
    const { rows, rejects } = await loadedAmounts(amountsCsv(['7,5', '1.234,50', '10.00']), { decimalSeparator: 'comma' });
    expect(rows.map((r) => r.amount)).toEqual(['7.5000', '1234.5000']);
    expect(rejects.map((r) => [r.source_row, r.reason])).toEqual([[4, 'invalid_amount']]);
  });

  it('decimalSeparator in crm.config.json decides like the flag', async () => {
    const { rows } = await loadedAmounts(amountsCsv(['1,234', '7']), {
      config: { ingest: { transactions: { decimalSeparator: ',' } } },
    });
    expect(rows.map((r) => r.amount)).toEqual(['1.2340', '7.0000']);
  });

  it('an unknown --decimal-separator is a usage error', async () => {
    const err = await ingestError({ 'tx.csv': amountsCsv(['1']) }, { decimalSeparator: ';' });
    expect(err.exitCode).toBe(2);
  });

  it('decides a comma column from its values', async () => {
    const { rows, rejects, separators } = await loadedAmounts(amountsCsv(['€1.234,50', '(12,00)', '7', '1.234.567', '1 234,5']));
    expect(rows.map((r) => r.amount)).toEqual(['1234.5000', '-12.0000', '7.0000', '1234567.0000', '1234.5000']);
    expect(rejects).toEqual([]);
    expect(separators).toEqual({ amount: ',' });
  });

  it('decides a point column from its values; grouping only in threes', async () => {
    const { rows, rejects, separators } = await loadedAmounts(amountsCsv(['10.00', '1,234', '1,234,567.89', '12,34.5', "1'234.50"]));
    expect(rows.map((r) => r.amount)).toEqual(['10.0000', '1234.0000', '1234567.8900', '1234.5000']);
    expect(rejects.map((r) => [r.source_row, r.reason])).toEqual([[5, 'invalid_amount']]);
    expect(separators).toEqual({ amount: '.' });
  });

  it('without evidence, "1,234" is rejected with a reason, not read as 1234', async () => {
    const { rows, rejects, separators } = await loadedAmounts(amountsCsv(['1,234', '5', '1 000']));
    expect(rows.map((r) => [r.source_row, r.amount])).toEqual([
      [3, '5.0000'],
      [4, '1000.0000'],
    ]);
    expect(rejects.map((r) => [r.source_row, r.reason])).toEqual([[2, 'invalid_amount']]);
    expect(rejects[0].detail).toContain('no value of the column tells whether . or , is its decimal mark');
    expect(rejects[0].detail).toContain('--decimal-separator');
    expect(separators).toEqual({ amount: null });
  });

  it('a column without evidence follows the file\'s other decimal columns when they agree', async () => {
    const csv = amountsCsv(['1,234', '2'], { header: 'unit_price', values: ['12,50', '3,5'] });
    const { rows, separators } = await loadedAmounts(csv);
    expect(rows.map((r) => r.amount)).toEqual(['1.2340', '2.0000']);
    expect(separators).toEqual({ amount: ',', unit_price: ',' });
  });

  it('applies to quantity and unit price too', async () => {
    const csv = 'customer_id,order_date,quantity,unit_price\nC1,2024-01-05,2,"1,5"\nC2,2024-01-05,1,2.5\n';
    const err = await ingestError({ 'tx.csv': csv });
    expect(err.message).toContain('column "unit_price" mixes decimal separators: row 3 has "2.5" (decimal point) and row 2 has "1,5" (decimal comma)');
  });
});
