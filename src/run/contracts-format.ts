/** The contract part of `crm run` and `crm model show` for people (runs.contracts, run/contracts.ts). */
import { formatCount, formatPercent, renderTable } from '../util/format.js';
import type { SbgReport } from '../models/contracts.js';
import type { ContractsReport } from './contracts.js';

const money = (n: number) => Math.round(n).toLocaleString('en-US');
const planName = (plan: string | null) => plan ?? '(whole book)';

/** "1,234 contracts: 900 active, 20 in grace, 250 lapsed, 64 cancelled; 12 irregular, not modelled". */
function statusLine(r: ContractsReport): string {
  const s = r.summary;
  const irregular = s.irregular ? `; ${formatCount(s.irregular)} with irregular periods, not modelled` : '';
  return `${formatCount(s.contracts)} contracts: ${formatCount(s.active)} active, ${formatCount(s.in_grace)} in grace, ${formatCount(s.lapsed)} lapsed, ${formatCount(s.cancelled)} cancelled${irregular}`;
}

function fitWords(f: SbgReport): string {
  if (f.outcome === 'fitted') return 'fitted';
  if (f.model_kind === 'geometric') return `${f.outcome}: geometric limit, churn ${formatPercent(f.limit_churn_probability ?? 0)} per renewal`;
  return f.plan === null ? `${f.outcome}: not modelled` : `${f.outcome}: scored with the whole book`;
}

/** Lines of `crm run`'s output. */
export function contractRunLines(r: ContractsReport): string[] {
  const lines = [`  ${statusLine(r)} (grace ${r.grace_days} days)`];
  for (const f of r.sbg.filter((x) => x.plan === null)) {
    lines.push(
      f.alpha !== null && f.beta !== null && f.outcome === 'fitted'
        ? `  sBG ${f.period_unit} (whole book): alpha=${f.alpha.toFixed(3)} beta=${f.beta.toFixed(3)} (${formatCount(f.contracts)} runs of renewals)`
        : `  sBG ${f.period_unit} (whole book): ${fitWords(f)}`,
    );
  }
  const s = r.summary;
  lines.push(`  contracts in force: premium ${money(s.premium_in_force)} per period, residual value ${money(s.residual_value)}, value at risk ${money(s.value_at_risk)}`);
  if (r.backtest) {
    const b = r.backtest;
    lines.push(`  contract backtest ${b.holdout_start} → ${b.holdout_end}: predicted ${b.predicted_renewals.toFixed(1)} renewals of ${formatCount(b.decisions)} due, actual ${formatCount(b.actual_renewals)}`);
  }
  return lines;
}

/** The contracts section of `crm model show`. */
export function formatContracts(r: ContractsReport): string[] {
  const lines = ['', `Contracts: sBG retention (Fader & Hardie 2007), grace ${r.grace_days} days, period ${r.period}, plans need ${r.min_contracts} runs of renewals`];
  lines.push(statusLine(r));
  const number = (v: number | null, digits = 4) => (v === null ? '—' : v.toPrecision(digits));
  lines.push(
    renderTable(
      ['plan', 'unit', 'alpha', 'beta', 'se alpha', 'se beta', 'log-likelihood', 'runs', 'left', 'outcome'],
      r.sbg.map((f) => [
        planName(f.plan),
        f.period_unit,
        number(f.alpha, 5),
        number(f.beta, 5),
        number(f.standard_errors?.alpha ?? null, 3),
        number(f.standard_errors?.beta ?? null, 3),
        f.log_likelihood === null ? '—' : f.log_likelihood.toFixed(2),
        formatCount(f.contracts),
        formatCount(f.churned),
        fitWords(f),
      ]),
      { rightAlign: [false, false, true, true, true, true, true, true, true, false] },
    ),
  );
  const b = r.backtest;
  if (b) {
    lines.push(
      '',
      `Contract backtest ${b.holdout_start} → ${b.holdout_end}: ${formatCount(b.decisions)} renewals due, predicted ${b.predicted_renewals.toFixed(1)}, actual ${formatCount(b.actual_renewals)}; Brier score ${b.brier === null ? 'n/a' : b.brier.toFixed(3)}`,
    );
    if (b.by_plan.length) {
      lines.push(renderTable(['plan', 'due', 'predicted', 'actual'], b.by_plan.map((p) => [p.plan, formatCount(p.decisions), p.predicted.toFixed(1), formatCount(p.actual)])));
    }
    if (b.calibration.length) {
      lines.push(
        renderTable(
          ['p_renew', 'due', 'predicted rate', 'actual rate'],
          b.calibration.map((c) => [`${c.band_low.toFixed(1)}–${c.band_high.toFixed(1)}`, formatCount(c.decisions), formatPercent(c.predicted / c.decisions), formatPercent(c.actual / c.decisions)]),
        ),
      );
    }
  }
  return lines;
}
