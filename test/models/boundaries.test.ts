/**
 * Layering: the models (src/models/) are the bottom of the chain. They may use the store and the
 * utilities, never the orchestration above them (src/run/), the reports (src/reports/) or the
 * command line (src/commands.ts, any cli.ts). Imports are scanned as text, static and dynamic.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');
const MODELS = path.join(ROOT, 'src/models');

/** Every .ts file under `dir`. */
function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : e.name.endsWith('.ts') ? [p] : [];
  });
}

/** The module specifiers a TypeScript text imports or re-exports (static, dynamic, type-only). */
function importsOf(text: string): string[] {
  const specs: string[] = [];
  for (const m of text.matchAll(/\b(?:import|export)\s[^'";]*?\bfrom\s*['"]([^'"]+)['"]/g)) specs.push(m[1]);
  for (const m of text.matchAll(/\bimport\s*['"]([^'"]+)['"]/g)) specs.push(m[1]);
  for (const m of text.matchAll(/\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g)) specs.push(m[1]);
  return specs;
}

/** Why importing `spec` from `file` crosses the models' boundary, or null when it does not. */
function forbidden(file: string, spec: string): string | null {
  if (!spec.startsWith('.')) return null;
  const target = path.relative(ROOT, path.resolve(path.dirname(file), spec)).split(path.sep).join('/').replace(/\.(js|ts)$/, '');
  if (target === 'src/run' || target.startsWith('src/run/')) return 'the run (orchestration)';
  if (target === 'src/reports' || target.startsWith('src/reports/')) return 'the reports';
  if (target === 'src/commands') return 'the commands';
  if (target === 'cli' || target.endsWith('/cli')) return 'the command line';
  return null;
}

describe('models stay below the run, the reports and the CLI', () => {
  it('no file in src/models/ imports src/run/, src/reports/, src/commands.ts or a cli.ts', () => {
    const files = sources(MODELS);
    expect(files.length).toBeGreaterThan(10);
    const crossings = files.flatMap((file) =>
      importsOf(fs.readFileSync(file, 'utf8'))
        .map((spec) => [spec, forbidden(file, spec)] as const)
        .filter(([, why]) => why !== null)
        .map(([spec, why]) => `${path.relative(ROOT, file)} imports ${spec} (${why})`),
    );
    expect(crossings).toEqual([]);
  });

  it('the scan catches each kind of crossing import (so the test above can fail)', () => {
    const tiers = path.join(MODELS, 'tiers.ts');
    const nested = path.join(MODELS, 'relations/orders.ts');
    const text = `import type { ValueTierRule } from '../run/settings.js';
import { render } from "../reports/render.js";
export { x } from '../commands.js';
const cli = await import('../cli.js');
import '../../cli.js';
import { literal } from '../store/db.js';`;
    const specs = importsOf(text);
    expect(specs).toEqual(['../run/settings.js', '../reports/render.js', '../commands.js', '../store/db.js', '../../cli.js', '../cli.js']);
    expect(specs.map((s) => forbidden(tiers, s))).toEqual(['the run (orchestration)', 'the reports', 'the commands', null, 'the command line', 'the command line']);
    expect(forbidden(nested, '../../run/index.js')).toBe('the run (orchestration)');
    expect(forbidden(nested, '../relation.js')).toBeNull();
    expect(forbidden(tiers, '../store/db.js')).toBeNull();
    expect(forbidden(tiers, '@duckdb/node-api')).toBeNull();
  });
});
