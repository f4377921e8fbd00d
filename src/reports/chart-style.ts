/**
 * The charts' house style (fonts, colours, sizes) as Vega-Lite config: what both the chart files
 * (render.ts) and the HTML report (html.ts) apply. No Vega here: the HTML report and the notebook
 * import this without loading Vega, Vega-Lite and resvg, which render.ts loads (~0.4 s), so a
 * notebook's SQL can run while they load (notebook.ts).
 */
import { chartLocale, type Lang } from './i18n.js';

/** A Vega-Lite spec as JSON (validated by compiling it). */
export type ChartSpec = Record<string, unknown>;

/**
 * The chart font list. Noto Sans CJK SC comes first so that mixed Chinese/Latin labels use one
 * font wherever it is installed (and in every PNG); the others are what Macs and Windows
 * machines that open the HTML report have instead.
 */
export const CHART_FONT_FAMILY =
  '"Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "Helvetica Neue", Arial, sans-serif';

/** The chart expression function behind `"formatType": "localeFormat"` (see i18n.ts, VALUE_FORMAT_SOURCE). */
export const LOCALE_FORMAT_FUNCTION = 'localeFormat';

const DEFAULTS = {
  /** Width of single-view charts that do not set one (the HTML report uses the container width instead). */
  width: 640,
};

const PALETTE = ['#2563eb', '#f59e0b', '#10b981', '#ef4444', '#8b5cf6', '#06b6d4', '#ec4899', '#84cc16', '#64748b', '#f97316'];

/** The house style shared by the SVG/PNG files and the HTML report. */
export function chartConfig(lang: Lang): Record<string, unknown> {
  const ink = '#0f172a';
  const muted = '#475569';
  const config: Record<string, unknown> = {
    font: CHART_FONT_FAMILY,
    customFormatTypes: true,
    background: '#ffffff',
    padding: 8,
    view: { stroke: null },
    title: { anchor: 'start', fontSize: 15, fontWeight: 600, color: ink, subtitleColor: muted, offset: 12 },
    axis: {
      labelColor: muted,
      titleColor: muted,
      labelFontSize: 11,
      titleFontSize: 12,
      titleFontWeight: 600,
      gridColor: '#e2e8f0',
      domainColor: '#cbd5e1',
      tickColor: '#cbd5e1',
    },
    legend: { labelColor: muted, titleColor: muted, labelFontSize: 11, titleFontSize: 12, titleFontWeight: 600 },
    header: { labelColor: muted, titleColor: muted },
    range: { category: PALETTE },
    mark: { color: PALETTE[0] },
    bar: { cornerRadiusEnd: 2 },
    line: { strokeWidth: 2 },
  };
  const locale = chartLocale(lang);
  if (locale) config.locale = locale;
  return config;
}

/** `base` with `override` laid over it, merging nested plain objects (the spec's own config wins). */
function mergeConfig(base: Record<string, unknown>, override: unknown): Record<string, unknown> {
  if (!isPlainObject(override)) return base;
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    merged[key] = isPlainObject(value) && isPlainObject(base[key]) ? mergeConfig(base[key], value) : value;
  }
  return merged;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A single view (one mark or a layer) can take a width; concatenations and facets size their parts. */
export function isSingleView(spec: ChartSpec): boolean {
  return 'mark' in spec || 'layer' in spec;
}

export type ChartTarget = 'file' | 'html';

/**
 * Apply the house style and sizing for a target: files get a fixed width, the HTML report the
 * container's width (charts then follow the page and the print layout).
 */
export function styleChart(spec: ChartSpec, lang: Lang, target: ChartTarget): ChartSpec {
  const styled: ChartSpec = { ...spec, config: mergeConfig(chartConfig(lang), spec.config) };
  if (isSingleView(spec)) {
    const width = spec.width;
    if (target === 'file' && (width === undefined || width === 'container')) styled.width = DEFAULTS.width;
    if (target === 'html' && width === undefined) {
      styled.width = 'container';
      styled.autosize = spec.autosize ?? { type: 'fit-x', contains: 'padding' };
    }
  }
  return styled;
}
