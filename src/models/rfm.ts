/**
 * RFM: recency, frequency, monetary value — scored 1…bins from quantiles, then named segments.
 *
 * Model. Recency = days from the last purchase to the as-of date (lower is better); frequency =
 * purchase orders; monetary = net revenue (purchases minus returns). Hughes (1994), "Strategic
 * Database Marketing"; the segment grid follows the widely used R×F map (Champions, Loyal, At
 * Risk, …) popularised by e.g. Putler and the "RFM segmentation" literature.
 *
 * Scores never split ties. For each dimension the cut points c_1 ≤ … ≤ c_{bins−1} are the
 * values at quantiles k/bins (quantile_disc: real values of the data, no interpolation), and
 *
 *     score(v) = 1 + #{k : v > c_k}
 *
 * so equal values always get equal scores. With heavy ties (most customers buying once) some
 * scores stay empty: that is the data, not an error. Recency is scored on −recency so that
 * recent customers score high. Explicit cut points can replace the quantiles (config): for
 * frequency and monetary, cut k is the largest value that still scores k; for recency, cuts are
 * days ascending and a recency ≤ cut scores higher (cuts [30, 90, 180, 365]: ≤ 30 days → 5).
 *
 * Segments: an ordered rule table; the first rule whose score ranges contain the customer's
 * scores names the segment. The rules must cover every combination of scores, so every
 * customer falls into exactly one segment (checked before a run).
 */
import { literal, sqlNumber, type Store } from '../store/db.js';

export interface SegmentRule {
  name: string;
  /** Inclusive score ranges [min, max]; a missing dimension matches every score. */
  r?: [number, number];
  f?: [number, number];
  m?: [number, number];
}

/** The default R×F map for 5 bins. Every one of the 25 (R, F) cells is covered. */
export const DEFAULT_SEGMENT_RULES: SegmentRule[] = [
  { name: 'Champions', r: [5, 5], f: [4, 5] },
  { name: 'Loyal', r: [3, 4], f: [4, 5] },
  { name: 'Potential Loyalist', r: [4, 5], f: [2, 3] },
  { name: 'New', r: [5, 5], f: [1, 1] },
  { name: 'Promising', r: [4, 4], f: [1, 1] },
  { name: 'Need Attention', r: [3, 3], f: [3, 3] },
  { name: 'About to Sleep', r: [3, 3], f: [1, 2] },
  { name: "Can't Lose Them", r: [1, 2], f: [5, 5] },
  { name: 'At Risk', r: [1, 2], f: [3, 4] },
  { name: 'Lost', r: [1, 1], f: [1, 1] },
  { name: 'Hibernating', r: [1, 2], f: [1, 2] },
];

/** Problems with a rule table for `bins` scores (empty when it is usable). */
export function validateSegmentRules(rules: SegmentRule[], bins: number): string[] {
  const problems: string[] = [];
  if (!Array.isArray(rules) || rules.length === 0) return ['models.rfm.segments: at least one rule'];
  for (const [i, rule] of rules.entries()) {
    if (!rule.name || typeof rule.name !== 'string') problems.push(`models.rfm.segments[${i}]: a name is required`);
    for (const dim of ['r', 'f', 'm'] as const) {
      const range = rule[dim];
      if (range && !(Array.isArray(range) && range.length === 2 && range[0] >= 1 && range[1] <= bins && range[0] <= range[1])) {
        problems.push(`models.rfm.segments[${i}].${dim}: [min, max] within 1…${bins}`);
      }
    }
  }
  if (problems.length) return problems;
  const uncovered: string[] = [];
  for (let r = 1; r <= bins; r++) {
    for (let f = 1; f <= bins; f++) {
      for (let m = 1; m <= bins; m++) {
        if (!rules.some((rule) => inRange(rule.r, r) && inRange(rule.f, f) && inRange(rule.m, m))) uncovered.push(`R${r}F${f}M${m}`);
      }
    }
  }
  if (uncovered.length) {
    problems.push(
      `models.rfm.segments: no segment for ${uncovered.length} score combination(s), e.g. ${uncovered.slice(0, 5).join(', ')}; add a catch-all rule last`,
    );
  }
  return problems;
}

const inRange = (range: [number, number] | undefined, v: number) => !range || (v >= range[0] && v <= range[1]);

/** The segment a score triple falls into (the SQL below does the same for all customers). */
export function segmentOf(rules: SegmentRule[], r: number, f: number, m: number): string | null {
  return rules.find((rule) => inRange(rule.r, r) && inRange(rule.f, f) && inRange(rule.m, m))?.name ?? null;
}

export interface RfmScoring {
  bins: number;
  recency_cuts?: number[];
  frequency_cuts?: number[];
  monetary_cuts?: number[];
  segments: SegmentRule[];
}

/** Quantile levels k/bins, k = 1…bins−1. */
export function quantileLevels(bins: number): number[] {
  return Array.from({ length: bins - 1 }, (_, k) => Number(((k + 1) / bins).toFixed(6)));
}

export interface RfmCuts {
  recency: number[];
  frequency: number[];
  monetary: number[];
}

/**
 * The score boundaries of a run: explicit cuts from the settings, else quantiles of the data
 * (one small query; the scores then compare each customer with constants).
 */
export async function rfmCuts(store: Store, base: string, s: RfmScoring): Promise<RfmCuts> {
  const levels = `[${quantileLevels(s.bins).join(', ')}]`;
  const row = await store.one<{ r: number[]; f: number[]; m: number[] }>(
    `SELECT quantile_disc(-recency_days, ${levels})::DOUBLE[] AS r, quantile_disc(frequency, ${levels})::DOUBLE[] AS f,
            quantile_disc(monetary, ${levels})::DOUBLE[] AS m FROM ${base}`,
  );
  return {
    recency: row!.r.map(Number),
    frequency: (s.frequency_cuts ?? row!.f).map(Number),
    monetary: (s.monetary_cuts ?? row!.m).map(Number),
  };
}

export interface RfmExpressions {
  r_score: string;
  f_score: string;
  m_score: string;
  /** In terms of the three score columns (r_score, f_score, m_score). */
  segment: string;
}

/**
 * SQL expressions for the scores (over columns recency_days, frequency, monetary) and the
 * segment (over r_score, f_score, m_score), given the run's cut points: constants, so the
 * scoring needs no join and no window.
 */
export function rfmExpressions(s: RfmScoring, cuts: RfmCuts): RfmExpressions {
  const score = (value: string, bounds: number[]) => `CAST(1 + ${bounds.map((c) => `(${value} > ${sqlNumber(c)})::INTEGER`).join(' + ')} AS TINYINT)`;
  // Recency is scored on its negative: fewer days since the last purchase scores higher.
  // Explicit recency cuts are days, ascending: recency ≤ cut k (counted from the top) scores up.
  const recency = s.recency_cuts
    ? `CAST(1 + ${s.recency_cuts.map((c) => `(recency_days <= ${sqlNumber(Number(c))})::INTEGER`).join(' + ')} AS TINYINT)`
    : score('-recency_days', cuts.recency);
  // The rule table, evaluated here for every (r, f, m) cell (segmentOf: first matching rule),
  // becomes a constant list the SQL indexes: one lookup per customer instead of testing the
  // rules in turn. The cell of scores (r, f, m) is at 1-based position
  // (r − 1)·bins² + (f − 1)·bins + m.
  const b = s.bins;
  const cells: string[] = [];
  for (let r = 1; r <= b; r++) for (let f = 1; f <= b; f++) for (let m = 1; m <= b; m++) cells.push(segmentOf(s.segments, r, f, m) ?? '');
  const names = [...new Set(cells)];
  // A list of small codes into the distinct names keeps the constant short (bins³ cells).
  const codes = `[${cells.map((c) => names.indexOf(c) + 1).join(', ')}]`;
  const segment = `[${names.map((n) => (n === '' ? 'NULL' : literal(n))).join(', ')}][${codes}[(CAST(r_score AS INTEGER) - 1) * ${b * b} + (CAST(f_score AS INTEGER) - 1) * ${b} + m_score]]`;
  return {
    r_score: recency,
    f_score: score('frequency', cuts.frequency),
    m_score: score('monetary', cuts.monetary),
    segment,
  };
}
