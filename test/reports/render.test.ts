import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import {
  chartToSvg,
  containsCjk,
  estimateTextWidth,
  findCjkFonts,
  styleChart,
  svgToPng,
  svgToPngAsync,
  PngWorkers,
  writeChart,
  type ChartSpec,
  type RasterImage,
} from '../../src/reports/render.js';

const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-render-'));
afterAll(() => fs.rmSync(outDir, { recursive: true, force: true }));

const SEGMENTS: ChartSpec = {
  title: '各客群收入 Revenue by segment',
  data: { name: 'segments' },
  datasets: {
    segments: [
      { segment: '冠军客户', revenue: 774_000 },
      { segment: '不能失去的客户', revenue: 488_000 },
      { segment: '忠诚客户', revenue: 455_000 },
    ],
  },
  mark: 'bar',
  encoding: {
    y: { field: 'segment', type: 'nominal', title: '客群' },
    x: { field: 'revenue', type: 'quantitative', title: '收入', axis: { formatType: 'localeFormat', format: 'compact' } },
  },
};

/** Opaque pixels in a band of rows: how much was drawn there. */
function ink(image: RasterImage, fromRow = 0, toRow = image.height): number {
  let count = 0;
  for (let y = fromRow; y < toRow; y++) {
    for (let x = 0; x < image.width; x++) {
      const i = (y * image.width + x) * 4;
      // Dark enough to be text or a mark on the white background.
      if (image.pixels[i] < 160 && image.pixels[i + 3] > 128) count++;
    }
  }
  return count;
}

function needCjkFonts(): string[] {
  const fonts = findCjkFonts();
  if (fonts.length === 0) {
    throw new Error('No Noto CJK font found: run scripts/install-system-deps.sh (Debian: apt-get install fonts-noto-cjk).');
  }
  return fonts;
}

describe('fonts', () => {
  test('the Noto Sans CJK files are found, sans first', () => {
    const fonts = needCjkFonts();
    expect(path.basename(fonts[0])).toMatch(/NotoSansCJK/i);
    for (const f of fonts) expect(fs.existsSync(f)).toBe(true);
  });

  test('CJK text is estimated full-width; Vega would give it 0.8em', () => {
    expect(estimateTextWidth('客户', 10)).toBe(20);
    expect(estimateTextWidth('ab', 10)).toBeLessThan(12);
    expect(containsCjk('Revenue 收入')).toBe(true);
    expect(containsCjk('Revenue')).toBe(false);
  });

  test('CJK glyphs are drawn with the CJK fonts, not as blanks or tofu', () => {
    const svg =
      '<svg xmlns="http://www.w3.org/2000/svg" width="240" height="60"><rect width="240" height="60" fill="white"/>' +
      '<text x="10" y="45" font-family="Noto Sans CJK SC" font-size="36">客户价值</text></svg>';
    const withCjk = svgToPng(svg, { fontFiles: needCjkFonts(), loadSystemFonts: false, scale: 1 });
    const noFonts = svgToPng(svg, { fontFiles: [], loadSystemFonts: false, scale: 1 });
    const latinOnly = svgToPng(svg, { fontFiles: ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'], loadSystemFonts: false, scale: 1 });
    expect(ink(noFonts)).toBe(0);
    expect(ink(withCjk)).toBeGreaterThan(500);
    // A Latin-only font draws .notdef boxes: some ink, but not these pixels.
    expect(withCjk.pixels.equals(latinOnly.pixels)).toBe(false);
  });

  test('a missing CJK font is reported once per warn function', () => {
    const warnings: string[] = [];
    const warn = (m: string) => warnings.push(m);
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="50" height="20"><text y="15">收入</text></svg>';
    svgToPng(svg, { fontFiles: [], loadSystemFonts: false, warn });
    svgToPng(svg, { fontFiles: [], loadSystemFonts: false, warn });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/no CJK font found.*fonts-noto-cjk/);
  });
});

describe('charts in Node', () => {
  test('a Chinese chart renders to SVG with marks, Chinese labels and 万 on the axis', async () => {
    const { svg } = await chartToSvg(styleChart(SEGMENTS, 'zh', 'file'), 'zh');
    expect(svg).toMatch(/^<svg/);
    expect(svg).toContain('role-mark');
    expect(svg).toContain('冠军客户');
    expect(svg).toContain('各客群收入');
    expect(svg).toMatch(/>\d+万</);
    expect(svg).toContain('Noto Sans CJK SC');
  });

  test('English and Chinese renders at the same time keep their own number formats', async () => {
    const [en, zh] = await Promise.all([
      chartToSvg(styleChart(SEGMENTS, 'en', 'file'), 'en'),
      chartToSvg(styleChart(SEGMENTS, 'zh', 'file'), 'zh'),
    ]);
    expect(en.svg).toMatch(/>\d+K</);
    expect(en.svg).not.toMatch(/万/);
    expect(zh.svg).toMatch(/>\d+万</);
  });

  test('the PNG of a chart has its Chinese title drawn', async () => {
    const { svg } = await chartToSvg(styleChart(SEGMENTS, 'zh', 'file'), 'zh');
    const png = svgToPng(svg);
    const tofu = svgToPng(svg, { fontFiles: ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'], loadSystemFonts: false });
    expect(png.png.subarray(1, 4).toString('latin1')).toBe('PNG');
    // Scale 2: the title band is the top ~25 px of the SVG.
    const titleInk = ink(png, 0, 50);
    expect(titleInk).toBeGreaterThan(300);
    expect(png.pixels.subarray(0, png.width * 50 * 4).equals(tofu.pixels.subarray(0, tofu.width * 50 * 4))).toBe(false);
  });

  test('the off-thread PNG (rendered side by side with others) has the same bytes as the synchronous one', async () => {
    const { svg } = await chartToSvg(styleChart(SEGMENTS, 'zh', 'file'), 'zh');
    const latin = { fontFiles: ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'], loadSystemFonts: false };
    const [inParallel, latinOnly] = await Promise.all([svgToPngAsync(svg), svgToPngAsync(svg, latin)]);
    expect(inParallel.equals(svgToPng(svg).png)).toBe(true);
    expect(latinOnly.equals(svgToPng(svg, latin).png)).toBe(true);
    expect(inParallel.equals(latinOnly)).toBe(false);
  });

  test('PNGs drawn on the worker threads have the bytes of the ones drawn here; without a worker they are drawn here', async () => {
    // The worker's module is the built one (npm run build; npm test builds first).
    const built = new URL('../../dist/src/reports/png-worker.js', import.meta.url);
    expect(fs.existsSync(built), 'dist/src/reports/png-worker.js: run npm run build').toBe(true);
    const svgs = [(await chartToSvg(styleChart(SEGMENTS, 'zh', 'file'), 'zh')).svg, (await chartToSvg(styleChart(SEGMENTS, 'en', 'file'), 'en')).svg];
    const latin = { fontFiles: ['/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf'], loadSystemFonts: false };
    const here = await Promise.all([...svgs.map((svg) => svgToPngAsync(svg)), svgToPngAsync(svgs[0], latin)]);
    for (const module of [built, new URL('./no-such-worker.js', built)]) {
      const workers = new PngWorkers(2, module);
      try {
        const there = await Promise.all([...svgs.map((svg) => workers.render(svg)), workers.render(svgs[0], latin)]);
        there.forEach((png, i) => expect(png.equals(here[i]), `${module.pathname} #${i}`).toBe(true));
        expect(workers.drawnOnWorkers).toBe(module === built ? there.length : 0);
      } finally {
        workers.stop();
      }
    }
    expect(here[0].equals(here[2])).toBe(false);
  });

  test('external data is refused: nothing is fetched', async () => {
    const spec = { data: { url: 'http://127.0.0.1:9/data.json' }, mark: 'point', encoding: { x: { field: 'a', type: 'quantitative' } } };
    await expect(chartToSvg(spec, 'en')).rejects.toThrow(/data must come from the notebook's queries/);
  });

  test('writeChart writes the spec, SVG and PNG', async () => {
    const files = await writeChart(outDir, 'segments', SEGMENTS, { lang: 'zh', stem: 'segments.zh' });
    expect(path.basename(files.svgFile)).toBe('segments.zh.svg');
    const saved = JSON.parse(fs.readFileSync(files.specFile, 'utf8'));
    expect(saved.config.font).toContain('Noto Sans CJK SC');
    expect(saved.config.locale.time.months[0]).toBe('一月');
    expect(saved.width).toBe(640);
    expect(fs.readFileSync(files.svgFile, 'utf8')).toContain('冠军客户');
    expect(fs.readFileSync(files.pngFile).subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});
