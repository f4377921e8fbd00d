import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root: the nearest folder above this module holding our package.json (works from src/ and dist/src/). */
export const PACKAGE_ROOT: string = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate) && JSON.parse(fs.readFileSync(candidate, 'utf8')).name === 'crm-analytics') return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('crm-analytics: cannot find the package root');
    dir = parent;
  }
})();

/** The package version, read from package.json so the two never disagree. */
export const TOOL_VERSION: string = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')).version;
