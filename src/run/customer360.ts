/**
 * `crm customer QUERY`: one customer's 360° view (the lookup is ./lookup.ts). Apart from
 * views.ts so that a lookup loads only what it shows: views.ts's model and key-account views
 * pull in every model module (~40 ms of a lookup's start-up).
 */
import { latestRunSource } from './latest-source.js';
import { customerMergesIn, formatCustomerMerges, type CustomerMerges } from '../merges/list.js';
import type { Row, Store } from '../store/db.js';
import { maskEmailSql, maskNameSql, maskPhoneSql } from '../reports/pii.js';
import type { PrivacyOptions } from './lookup.js';
import { formatPercent, renderTable, visibleText } from '../util/format.js';

export interface Customer360 {
  customer_id: string;
  profile: Row | null;
  metrics: Row | null;
  history: Row[];
  orders: Row[];
  returns: Row[];
  /** The customer's contracts in the latest run (contract_latest), due first. */
  contracts: Row[];
  /** Merges in effect: the ids merged into this customer, or the id it is merged into (merges/list.ts). */
  merges: CustomerMerges;
  /** When the latest run read its transactions from a source (crm run --source): where the orders and returns live. */
  orders_on?: string;
}

const ORDERS_SHOWN = 10;

/**
 * The 360° view of the customer with exactly this id, read from an open store; null when the
 * store knows no such customer (no profile, scores, orders, returns or contracts). E-mail and
 * phone (and the name, where names are personal) are masked unless `showPii`.
 */
export async function customer360In(store: Store, customerId: string, privacy: PrivacyOptions): Promise<Customer360 | null> {
  const id = { id: customerId };
  const masked = !privacy.showPii;
  const shownProfile = masked
    ? ` REPLACE (${maskEmailSql('email')} AS email, ${maskPhoneSql('phone')} AS phone${privacy.maskNames ? `, ${maskNameSql('name')} AS name` : ''})`
    : '';
  // The owner in effect (customer_owners: the latest customers or owners file naming one), not only the customers file's.
  const profile =
    (await store.one(
      `SELECT c.* EXCLUDE (load_id, source_file, source_sheet, source_row, account_owner, team, owner_email, file_account_owner, file_team, file_owner_email)${shownProfile},
              o.account_owner, o.team, o.owner_email
       FROM customers c LEFT JOIN customer_owners o ON o.customer_id = c.customer_id
       WHERE c.customer_id = $id`,
      id,
    )) ?? null;
  const hasRuns = ((await store.value<number>('SELECT count(*) FROM runs')) ?? 0) > 0;
  const metrics = hasRuns ? ((await store.one('SELECT * FROM customer_latest WHERE customer_id = $id', id)) ?? null) : null;
  const history = hasRuns
    ? await store.all(
        `SELECT m.run_id, CAST(r.as_of AS VARCHAR) AS as_of, m.rfm_segment, m.value_tier, m.churn_tier, m.churn_risk, m.clv, m.monetary, m.abc_class
         FROM customer_metrics m JOIN runs r USING (run_id) WHERE m.customer_id = $id ORDER BY r.as_of, m.run_id`,
        id,
      )
    : [];
  // A survivor's orders include those of the ids merged into it (the history its scores are computed on).
  const merges = await customerMergesIn(store, customerId);
  const historyIds = [customerId, ...merges.merged_from.map((m) => m.customer_id)];
  const ofHistory = `customer_id IN (${historyIds.map((_, i) => (i === 0 ? '$id' : `$merged${i}`)).join(', ')})`;
  const historyParams = { ...id, ...Object.fromEntries(historyIds.slice(1).map((m, i) => [`merged${i + 1}`, m])) };
  const orders = await store.all(
    `SELECT coalesce(order_id, '(no order id)') AS order_id, CAST(order_date AS VARCHAR) AS order_date, count(*) AS lines, sum(amount) AS amount,
            string_agg(DISTINCT product, ', ' ORDER BY product) AS products
     FROM transactions WHERE ${ofHistory} AND NOT is_return
     GROUP BY ALL ORDER BY order_date DESC, order_id LIMIT ${ORDERS_SHOWN}`,
    historyParams,
  );
  const returns = await store.all(
    `SELECT coalesce(order_id, '(no order id)') AS order_id, CAST(order_date AS VARCHAR) AS order_date, product, quantity, amount
     FROM transactions WHERE ${ofHistory} AND is_return ORDER BY order_date DESC, order_id LIMIT ${ORDERS_SHOWN}`,
    historyParams,
  );
  const contracts = hasRuns
    ? await store.all(
        `SELECT contract_id, plan, status, CAST(period_start AS VARCHAR) AS period_start, CAST(period_end AS VARCHAR) AS period_end,
                renewals, premium, CAST(renewal_due AS VARCHAR) AS renewal_due, p_renew, residual_value, value_at_risk
         FROM contract_latest WHERE customer_id = $id
         ORDER BY renewal_due NULLS LAST, period_end DESC, contract_id`,
        id,
      )
    : [];
  if (!profile && !metrics && orders.length === 0 && returns.length === 0 && contracts.length === 0) return null;
  // The lines of a run from a source stay on the cluster (run/source.ts): said, not shown empty.
  const ordersOn = hasRuns ? await latestRunSource(store) : null;
  return { customer_id: customerId, profile, metrics, history, orders, returns, contracts, merges, ...(ordersOn ? { orders_on: ordersOn } : {}) };
}

/** The customer's contracts in the run (customer_metrics' contract columns). */
function contractLine(m: Row): string {
  const inForce = Number(m.contracts_in_force);
  const parts = [`${inForce} contract${inForce === 1 ? '' : 's'} in force`];
  if (inForce > 0) {
    const perPeriod = m.contract_premium === null || m.contract_period_unit === 'year' ? '' : ` (${Number(m.contract_premium).toFixed(2)} per ${String(m.contract_period_unit).replace('_', ' ')})`;
    parts.push(`premium ${Number(m.annual_premium).toFixed(2)} a year${perPeriod}`);
    if (m.renewal_probability !== null) parts.push(`renewal probability ${Math.round(Number(m.renewal_probability) * 100)}%`);
    if (m.next_renewal_due !== null) parts.push(`next renewal ${m.next_renewal_due}`);
  }
  if (m.contract_residual_value !== null) parts.push(`residual value ${Number(m.contract_residual_value).toFixed(2)} over the horizon`);
  return `  ${parts.join(', ')}`;
}

export function formatCustomer360(c: Customer360): string[] {
  const lines: string[] = [];
  const p = c.profile;
  // Stored text is printed through visibleText (as tables do): a name may hold anything its file held.
  lines.push(visibleText(`customer ${c.customer_id}${p?.name ? ` — ${p.name}` : ''}`));
  if (p) {
    const fields = ['email', 'phone', 'region', 'industry', 'account_owner', 'signup_date'].filter((k) => p[k] !== null && p[k] !== undefined);
    for (const k of fields) lines.push(`  ${k.padEnd(14)}${visibleText(String(p[k]))}`);
  } else lines.push('  (not in the customers table)');
  lines.push(...formatCustomerMerges(c.merges));
  const m = c.metrics;
  if (m && m.first_purchase !== null) {
    lines.push('', `latest run ${m.run_id}: ${m.rfm_segment} (R${m.r_score} F${m.f_score} M${m.m_score}), ${m.value_tier}, ABC ${m.abc_class}${m.is_key_account ? ' — key account' : ''}`);
    // Both scores when the model gives both: the tier is cut from one of them (by default p_no_purchase).
    const quiet = m.p_no_purchase === null || m.p_no_purchase === undefined ? '' : `, no purchase in the horizon ${Math.round(Number(m.p_no_purchase) * 100)}%`;
    lines.push(`  churn risk ${Math.round(Number(m.churn_risk) * 100)}%${quiet} (${m.churn_tier}): ${m.churn_reason}`);
    lines.push(`  ${m.frequency} orders, net revenue ${Number(m.monetary).toFixed(2)}, first ${m.first_purchase}, last ${m.last_purchase}`);
    if (m.clv !== null) lines.push(`  expected ${Number(m.expected_purchases).toFixed(2)} purchases in the horizon, lifetime value ${Number(m.clv).toFixed(2)}`);
    if (m.key_account_at_risk) lines.push(`  at risk: ${m.at_risk_reason}`);
  } else if (m) {
    // A customer with contracts only: no purchase, so no segment, churn score or 80/20 class.
    lines.push('', `latest run ${m.run_id}: ${m.value_tier}; no purchase by ${m.as_of} (contracts only)`);
  }
  if (m && m.contracts_in_force !== null && m.contracts_in_force !== undefined) lines.push(contractLine(m));
  if (c.history.length > 1) {
    lines.push('', 'history:');
    lines.push(renderTable(['run', 'as of', 'segment', 'tier', 'churn'], c.history.map((h) => [String(h.run_id), String(h.as_of), String(h.rfm_segment ?? '—'), String(h.value_tier), String(h.churn_tier ?? '—')])));
  }
  if (c.orders_on) lines.push('', `orders and returns: on ${c.orders_on} (the latest run read the transactions there; this store does not hold them)`);
  if (c.orders.length) {
    lines.push('', `last ${c.orders.length} orders:`);
    lines.push(renderTable(['order', 'date', 'lines', 'amount', 'products'], c.orders.map((o) => [String(o.order_id), String(o.order_date), String(o.lines), Number(o.amount).toFixed(2), String(o.products ?? '')])));
  }
  if (c.contracts.length) {
    const money = (v: unknown) => (v === null || v === undefined ? '—' : Number(v).toFixed(2));
    lines.push('', 'contracts (latest run):');
    lines.push(
      renderTable(
        ['contract', 'plan', 'status', 'period', 'renewals', 'premium', 'renewal due', 'p(renew)', 'residual value', 'value at risk'],
        c.contracts.map((k) => [
          String(k.contract_id),
          String(k.plan ?? ''),
          String(k.status).replace('_', ' '),
          `${k.period_start} – ${k.period_end}`,
          String(k.renewals),
          money(k.premium),
          String(k.renewal_due ?? '—'),
          k.p_renew === null ? '—' : formatPercent(Number(k.p_renew), 0),
          money(k.residual_value),
          money(k.value_at_risk),
        ]),
      ),
    );
  }
  if (c.returns.length) {
    lines.push('', 'returns:');
    lines.push(renderTable(['order', 'date', 'product', 'quantity', 'amount'], c.returns.map((o) => [String(o.order_id), String(o.order_date), String(o.product ?? ''), String(o.quantity ?? ''), Number(o.amount).toFixed(2)])));
  }
  return lines;
}
