/**
 * The width of the chain's sums of money. Amounts are DECIMAL(18, 4) in the store; DuckDB widens
 * every sum to DECIMAL(38, 4), 128-bit, and sums of those are several times slower than sums of
 * 64-bit decimals (measured: each further sum over the purchase days costs ~2 s of CPU wide,
 * ~0.4 s narrow, on the 9.8M-line bench). So order, day and customer sums are cast back to
 * DECIMAL(18, 4) — but only when no sum can overflow 18 digits: the absolute amounts and costs of
 * all the lines up to as-of add up to less than 10^14 (`moneyScale`). Otherwise (low-value
 * currencies, huge stores) the sums stay 38 digits wide. The type changes the relations' shape,
 * so each money-summing relation has two constant texts, one per width, built from one template.
 */
import type { Relation } from '../relation.js';

export const MONEY_TYPES = { narrow: 'DECIMAL(18, 4)', wide: 'DECIMAL(38, 4)' } as const;
export type MoneyWidth = keyof typeof MONEY_TYPES;

/** A relation per money width, from one template over the money type's SQL name. */
export function byMoneyWidth<P extends string>(build: (money: string, width: MoneyWidth) => Relation<P>): Record<MoneyWidth, Relation<P>> {
  return { narrow: build(MONEY_TYPES.narrow, 'narrow'), wide: build(MONEY_TYPES.wide, 'wide') };
}

/**
 * One row: the money width, and whether any line up to as-of has a cost (`costed`; read in the
 * same pass over the lines). Without one every margin is NULL, and the run reads the orders and
 * purchase days that do not sum costs (orders.ts `ordersUncosted`).
 */
export const moneyScale: Relation<'as_of'> = {
  name: 'run_money_scale',
  grain: 'one row: the width the run sums money in, and whether any line has a cost',
  params: ['as_of'],
  sql: `
WITH magnitudes AS (
  SELECT coalesce(sum(abs(amount)), 0) + coalesce(sum(abs(cost)), 0) AS absolute_total,
         count(cost) AS costed_lines
  FROM transactions
  WHERE order_date <= CAST($as_of AS DATE)
)
SELECT CASE WHEN absolute_total < 1e14 THEN 'narrow' ELSE 'wide' END AS money_width,
       costed_lines > 0 AS costed
FROM magnitudes`,
};
