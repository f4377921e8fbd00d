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
import type { Store } from '../store/db.js';

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
  // No customer with a purchase (a run of contracts only): no quantiles, nobody to score.
  return {
    recency: (row?.r ?? []).map(Number),
    frequency: (s.frequency_cuts ?? row?.f ?? []).map(Number),
    monetary: (s.monetary_cuts ?? row?.m ?? []).map(Number),
  };
}

/**
 * The score boundaries as the customer-metrics relation binds them ($r_cuts, $f_cuts, $m_cuts):
 * score = 1 + #{k : value > cut_k}, recency scored on −recency_days. Explicit recency cuts are
 * days where recency ≤ cut scores up; recency_days is a whole number, so recency ≤ c exactly when
 * −recency > −(⌊c⌋ + 1): the same "value > cut" rule on the negated days.
 */
export function rfmScoreCuts(s: Pick<RfmScoring, 'recency_cuts'>, cuts: RfmCuts): { r_cuts: number[]; f_cuts: number[]; m_cuts: number[] } {
  return {
    r_cuts: s.recency_cuts ? s.recency_cuts.map((c) => -(Math.floor(Number(c)) + 1)) : cuts.recency,
    f_cuts: cuts.frequency,
    m_cuts: cuts.monetary,
  };
}

/**
 * The rule table evaluated for every (r, f, m) cell (segmentOf: first matching rule), as the
 * list the customer-metrics relation indexes ($segment_cells): the cell of scores (r, f, m) is
 * at 1-based position (r − 1)·bins² + (f − 1)·bins + m. One lookup per customer instead of
 * testing the rules in turn.
 */
export function segmentCells(s: Pick<RfmScoring, 'bins' | 'segments'>): string[] {
  const b = s.bins;
  const cells: string[] = [];
  for (let r = 1; r <= b; r++) for (let f = 1; f <= b; f++) for (let m = 1; m <= b; m++) cells.push(segmentOf(s.segments, r, f, m) ?? '');
  return cells;
}
