/**
 * Repeated and blank headers, through the ingest library: two columns that both name one field
 * stop the command with the headers listed (README "Column mapping"); nothing is picked silently.
 */
import { describe, expect, it } from 'vitest';
import { dedupeHeaders } from '../../src/ingest/detect.js';
import { ingestError, ingestFiles } from '../helpers/ingest.js';

describe('repeated headers', () => {
  it('two columns named exactly "Amount" stop the command, listing the headers', async () => {
    // Before: the second became "Amount_2" and the first was loaded silently.
    const err = await ingestError({ 'tx.csv': 'customer_id,order_date,Amount,Amount\nC1,2024-01-05,10,20\n' });
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain('tx.csv: amount is ambiguous: columns 3 and 4 are both named "Amount"');
    expect(err.details!.join('\n')).toContain(`The file's headers: "customer_id", "order_date", "Amount", "Amount"`);
  });

  it('headers equal once normalised ("Customer ID", "customer_id") stop the command too', async () => {
    const err = await ingestError({ 'tx.csv': 'Customer ID,customer_id,order_date,amount\nC1,C2,2024-01-05,10\n' });
    expect(err.exitCode).toBe(3);
    expect(err.message).toMatch(/customer_id is ambiguous: columns "Customer ID" and "customer_id"/);
  });

  it('--map naming a repeated header is ambiguous as well; the renamed copy can be chosen', async () => {
    const csv = 'customer_id,order_date,Betrag,Betrag\nC1,2024-01-05,10,20\n';
    const err = await ingestError({ 'tx.csv': csv }, { map: ['amount=Betrag'] });
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain('columns 3 and 4 are both named "Betrag"');
    const run = await ingestFiles({ 'tx.csv': csv }, { map: ['amount=Betrag_2'] });
    expect(await run.query('SELECT CAST(amount AS VARCHAR) AS amount FROM transactions')).toEqual([{ amount: '20.0000' }]);
  });

  it('repeated headers that name no field load, kept apart in attributes', async () => {
    const run = await ingestFiles({ 'tx.csv': 'customer_id,order_date,amount,Note,Note,,\nC1,2024-01-05,10,a,b,c,d\n' });
    const [row] = await run.query<{ a: string }>('SELECT CAST(attributes AS VARCHAR) AS a FROM transactions');
    expect(JSON.parse(row.a)).toEqual({ Note: 'a', Note_2: 'b', column_6: 'c', column_7: 'd' });
  });

  it('made-up names never collide with a real header', () => {
    expect(dedupeHeaders(['a', 'a', 'a_2', '', 'column_4'])).toEqual(['a', 'a_3', 'a_2', 'column_4_2', 'column_4']);
  });
});
