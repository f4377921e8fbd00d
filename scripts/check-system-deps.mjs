#!/usr/bin/env node
/**
 * `npm test`'s pretest: the Debian packages the suite needs are installed, or installed now
 * when running as root (CI, fresh containers), or the run stops at once with the one command
 * to run — never a hanging password prompt. The package list and the installing live in
 * scripts/install-system-deps.sh; this only runs it, with no input, and passes on its verdict.
 * Plain JavaScript: it runs before the TypeScript build.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'install-system-deps.sh');
// stdin closed: nothing it starts can wait for a keyboard.
const result = spawnSync('bash', [script], { stdio: ['ignore', 'inherit', 'inherit'] });
if (result.error) {
  process.stderr.write(`cannot run ${script}: ${result.error.message}\n`);
  process.exit(1);
}
process.exit(result.status ?? 1);
