/**
 * The package layout users and scripts rely on: `cli.ts` at the top level beside `src/`, built to
 * dist/cli.js, which package.json's `bin` names as the `crm` command and `npm pack` ships; and
 * nothing under src/ imports that entry point (the library never reaches up into the process).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

const ENTRY = path.join(ROOT, 'cli.ts');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string; bin: Record<string, string> };

/** Every relative module specifier of a TypeScript text (static imports, re-exports, dynamic import()). */
function relativeImports(text: string): string[] {
  const specifiers = [...text.matchAll(/\bfrom\s+'(\.[^']*)'|\bimport\s*\(\s*'(\.[^']*)'\s*\)|^\s*import\s+'(\.[^']*)'/gm)];
  return specifiers.map((m) => m[1] ?? m[2] ?? m[3]);
}

/** The files under src/ whose imports resolve to the top-level cli.ts. */
function srcFilesImportingEntry(files: { file: string; text: string }[]): string[] {
  return files
    .filter(({ file, text }) => relativeImports(text).some((spec) => path.resolve(path.dirname(file), spec).replace(/\.js$/, '.ts') === ENTRY))
    .map(({ file }) => path.relative(ROOT, file));
}

function srcFiles(): { file: string; text: string }[] {
  return (fs.readdirSync(path.join(ROOT, 'src'), { recursive: true }) as string[])
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(ROOT, 'src', f))
    .map((file) => ({ file, text: fs.readFileSync(file, 'utf8') }));
}

describe('layout: cli.ts at the top level', () => {
  it('the entry point is cli.ts beside src/, and src/ has none', () => {
    expect(fs.existsSync(ENTRY)).toBe(true);
    expect(fs.existsSync(path.join(ROOT, 'src/cli.ts'))).toBe(false);
  });

  it("package.json's bin names dist/cli.js as the crm command", () => {
    expect(pkg.bin).toEqual({ crm: 'dist/cli.js' });
  });

  it('the build writes dist/cli.js, an executable script that answers --version', () => {
    const built = path.join(ROOT, pkg.bin.crm);
    expect(fs.existsSync(built), `${built} is missing: run \`npm run build\``).toBe(true);
    expect(fs.readFileSync(built, 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
    const r = spawnSync(process.execPath, [built, '--version'], { encoding: 'utf8' });
    expect({ code: r.status, stdout: r.stdout, stderr: r.stderr }).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  it('no file under src/ imports the top-level cli', () => {
    expect(srcFilesImportingEntry(srcFiles())).toEqual([]);
  });

  it('the import check sees every way of importing the entry point (so it can fail)', () => {
    const file = path.join(ROOT, 'src/run/index.ts');
    const texts = [`import { x } from '../../cli.js';`, `export * from '../../cli.js';`, `await import('../../cli.js');`, `import '../../cli.js';`];
    for (const text of texts) expect(srcFilesImportingEntry([{ file, text }])).toEqual(['src/run/index.ts']);
    expect(srcFilesImportingEntry([{ file, text: `import { x } from './cli.js';\nimport y from '../commands.js';` }])).toEqual([]);
  });

  it('npm pack ships dist/cli.js with the schema and the notebooks', () => {
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const shipped = new Set((JSON.parse(r.stdout) as { files: { path: string }[] }[])[0].files.map((f) => f.path));
    for (const file of ['package.json', 'README.md', 'dist/cli.js', 'dist/src/commands.js', 'schema/crm.config.schema.json', 'notebooks/report.md']) expect(shipped, file).toContain(file);
    expect(shipped).not.toContain('dist/src/cli.js');
  });
});
