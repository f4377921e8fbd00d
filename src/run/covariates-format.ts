/** `crm run --covariates` and `crm model show`: the covariate model for people (run/covariates.ts). */
import { PURCHASE_MODEL_NAMES } from '../models/purchase-models.js';
import { formatCount, renderTable } from '../util/format.js';
import type { CovariatesReport } from './covariates.js';

/** A p-value as people read it: 3 decimals, or scientific below 0.001. */
export function formatPValue(p: number): string {
  if (!Number.isFinite(p)) return '—';
  return p >= 0.001 ? p.toFixed(3) : p.toExponential(1);
}

const coefficient = (v: number | null | undefined, se: number | null | undefined) =>
  v === null || v === undefined ? '—' : `${v >= 0 ? '+' : ''}${v.toFixed(3)} ± ${se === null || se === undefined ? '—' : se.toFixed(3)}`;

/** The likelihood-ratio sentence (one line). */
export function lrTestLine(c: CovariatesReport): string {
  const t = c.lr_test;
  if (!t) return 'likelihood-ratio test: not available (a fit failed)';
  const verdict = t.p_value < 0.05 ? 'the covariates improve the fit (5 % level)' : 'no evidence that the covariates improve the fit (5 % level)';
  return `likelihood-ratio test against the model without them: χ² = ${t.statistic.toFixed(2)} on ${t.df} df, p = ${formatPValue(t.p_value)} (log-likelihood ${t.log_likelihood_with.toFixed(1)} vs ${t.log_likelihood_without.toFixed(1)}): ${verdict}`;
}

/** Heading, test, baseline and a table of levels with their coefficients ± standard errors. */
export function covariateLines(c: CovariatesReport): string[] {
  const name = PURCHASE_MODEL_NAMES[c.model];
  const baselineLevels = c.names.map((n) => `${n} ${c.variables[n]!.baseline}`).join(', ');
  const params = Object.entries(c.baseline)
    .filter(([k, v]) => k !== 'standard_errors' && typeof v === 'number')
    .map(([k, v]) => `${k}=${(v as number).toPrecision(4)}`)
    .join(' ');
  const lines = [
    `Covariates ${c.names.join(', ')} on the ${name} (Fader & Hardie 2007): ${formatCount(c.cells)} cells, ${formatCount(c.histories)} distinct histories; ${c.used ? 'its predictions are in customer_metrics' : `not used: ${c.message}`}`,
    lrTestLine(c),
    `baseline customer (${baselineLevels}): ${params}`,
  ];
  const effects = c.effects;
  const rows: string[][] = [];
  for (const n of c.names) {
    const v = c.variables[n]!;
    for (const [level, x] of Object.entries(v.levels)) {
      rows.push([n, x.baseline ? `${level} (baseline)` : level, formatCount(x.customers), ...effects.map((e) => (x.baseline ? '0' : coefficient(x[e], x[`${e}_se`])))]);
    }
  }
  lines.push(renderTable(['covariate', 'level', 'customers', ...effects.map((e) => `${e} ± se`)], rows));
  for (const n of c.names) {
    const pooled = c.variables[n]!.pooled;
    if (pooled.length > 0) lines.push(`${n}: ${pooled.length} level${pooled.length === 1 ? '' : 's'} with fewer than ${c.min_level_customers} customers pooled into "(other)": ${pooled.slice(0, 10).join(', ')}${pooled.length > 10 ? ', …' : ''}`);
  }
  const dropout = c.model === 'pareto_nbd' ? 'β = β0·e^(−dropout)' : 'b = b0·e^(−dropout)';
  lines.push(`coefficients (log scale, against the baseline level): α = α0·e^(−purchase), ${dropout}; positive purchase = buys more often, positive dropout = drops out sooner`);
  return lines;
}
