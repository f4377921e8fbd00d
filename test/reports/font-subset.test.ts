/**
 * PNG charts rasterise with the Noto CJK faces subset to the characters the charts use
 * (resvg reads a whole font file again for every text element: the 19 MB collection made each
 * chart take about a second). The subset must draw exactly what the full font draws.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { codePointsOf, simplifiedChineseFaceIndex, subsetFonts } from '../../src/reports/font-subset.js';
import { chartFonts, chartToSvg, findCjkFonts, styleChart, svgToPng, type ChartSpec } from '../../src/reports/render.js';

function cjkRegular(): string {
  const file = findCjkFonts().find((f) => /Sans.*Regular/i.test(path.basename(f)));
  if (!file) throw new Error('No Noto Sans CJK Regular found: run scripts/install-system-deps.sh (Debian: apt-get install fonts-noto-cjk).');
  return file;
}

const CHART: ChartSpec = {
  title: '各客群收入 Revenue by segment',
  data: { values: [{ s: '冠军客户', v: 774_000 }, { s: '忠诚客户 Loyal', v: 455_000 }, { s: 'Ünïcödé & Co', v: 120_000 }] },
  mark: 'bar',
  encoding: {
    y: { field: 's', type: 'nominal', title: '客群' },
    x: { field: 'v', type: 'quantitative', title: '收入', axis: { formatType: 'localeFormat', format: 'compact' } },
  },
};

describe('font subsets', () => {
  test('the Simplified Chinese face of the Noto CJK collection is found by its name', () => {
    const bytes = fs.readFileSync(cjkRegular());
    expect(bytes.toString('latin1', 0, 4)).toBe('ttcf');
    // fc-list: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK, then the Mono faces.
    expect(simplifiedChineseFaceIndex(bytes)).toBe(2);
    expect(simplifiedChineseFaceIndex(Buffer.from('OTTO0000'))).toBe(0);
  });

  test('code points: printable ASCII always, plus every character of the texts', () => {
    const points = codePointsOf(['冠军', 'é']);
    expect(points.has('A'.codePointAt(0)!)).toBe(true);
    expect(points.has('冠'.codePointAt(0)!)).toBe(true);
    expect(points.has('é'.codePointAt(0)!)).toBe(true);
    expect(points.has('忠'.codePointAt(0)!)).toBe(false);
  });

  test('a subset is a small font file, removed by dispose()', () => {
    const subset = subsetFonts([cjkRegular()], ['冠军客户 Revenue 0123456789']);
    expect(subset).not.toBeNull();
    const [file] = subset!.files;
    const size = fs.statSync(file).size;
    expect(size).toBeGreaterThan(2_000);
    expect(size).toBeLessThan(100_000);
    expect(fs.readFileSync(file).toString('latin1', 0, 4)).toBe('OTTO');
    subset!.dispose();
    expect(fs.existsSync(file)).toBe(false);
  });

  test('a chart drawn with the subset is pixel for pixel the chart drawn with the full fonts', async () => {
    const { svg } = await chartToSvg(styleChart(CHART, 'zh', 'file'), 'zh');
    const fonts = chartFonts([svg]);
    try {
      expect(fonts.subset).toBe(true);
      expect(fonts.png.loadSystemFonts).toBe(false);
      const full = svgToPng(svg, { fontFiles: findCjkFonts().filter((f) => /Sans.*(Regular|Bold)/i.test(path.basename(f))), loadSystemFonts: true });
      const small = svgToPng(svg, fonts.png);
      expect(small.width).toBe(full.width);
      expect(small.height).toBe(full.height);
      expect(small.pixels.equals(full.pixels)).toBe(true);
    } finally {
      fonts.dispose();
    }
  });
});
