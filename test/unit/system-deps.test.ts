/**
 * `npm test`'s pretest (scripts/check-system-deps.mjs → scripts/install-system-deps.sh) on a
 * machine without the packages: as root it installs them with apt-get, non-interactively; as
 * anyone else it stops at once with the one command to run and never calls sudo or apt-get.
 * `id`, `fc-list`, `apt-get` and `sudo` are stand-ins on PATH that record how they were called.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT, tempDir } from '../helpers/cli.js';

const CHECK = path.join(ROOT, 'scripts/check-system-deps.mjs');

interface Machine {
  uid: number;
  fonts: boolean;
  chromium: boolean;
  /** clickhouse-server and clickhouse-client (default: installed). */
  clickhouse?: boolean;
}

let dirs: string[] = [];
afterEach(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  dirs = [];
});

function stub(bin: string, name: string, body: string): void {
  fs.writeFileSync(path.join(bin, name), `#!/bin/sh\n${body}\n`, { mode: 0o755 });
}

/** Run the pretest on a pretend machine; `calls` lists every apt-get/sudo invocation. */
function pretest(machine: Machine): { code: number | null; stderr: string; calls: string[] } {
  const dir = tempDir('crm-sysdeps-');
  dirs.push(dir);
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  const log = path.join(dir, 'calls.log');
  fs.writeFileSync(log, '');
  stub(bin, 'id', `echo ${machine.uid}`);
  stub(bin, 'fc-list', machine.fonts ? 'echo "Noto Sans CJK SC"' : 'true');
  stub(bin, 'apt-get', `echo "apt-get $* DEBIAN_FRONTEND=$DEBIAN_FRONTEND" >> ${log}`);
  stub(bin, 'sudo', `echo "sudo $*" >> ${log}; exit 1`);
  const chromium = path.join(dir, 'chromium');
  if (machine.chromium) stub(dir, 'chromium', 'true');
  const clickhouseServer = path.join(dir, 'clickhouse-server');
  const clickhouseClient = path.join(dir, 'clickhouse-client');
  if (machine.clickhouse ?? true) {
    stub(dir, 'clickhouse-server', 'true');
    stub(dir, 'clickhouse-client', 'true');
  }
  const r = spawnSync(process.execPath, [CHECK], {
    encoding: 'utf8',
    timeout: 30_000,
    input: '', // a prompt would read this and fail, not hang
    env: { PATH: `${bin}:/usr/bin:/bin`, CRM_CHROMIUM: chromium, CRM_CLICKHOUSE_SERVER: clickhouseServer, CRM_CLICKHOUSE_CLIENT: clickhouseClient, HOME: dir },
  });
  const calls = fs.readFileSync(log, 'utf8').split('\n').filter(Boolean);
  return { code: r.status, stderr: r.stderr, calls };
}

describe('npm test pretest: system packages', () => {
  it('as a normal user with packages missing: stops at once with the one command to run, no sudo, no apt-get', () => {
    const r = pretest({ uid: 1000, fonts: false, chromium: false });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('chromium fonts-noto-cjk');
    expect(r.stderr).toMatch(/^ {2}sudo \S*scripts\/install-system-deps\.sh$/m);
    expect(r.calls).toEqual([]);
  });

  it('as root with packages missing: apt-get update, then a non-interactive install of exactly what is missing', () => {
    const r = pretest({ uid: 0, fonts: true, chromium: false });
    expect(r.calls).toEqual([
      'apt-get update -qq DEBIAN_FRONTEND=noninteractive',
      'apt-get install -y -qq --no-install-recommends chromium DEBIAN_FRONTEND=noninteractive',
    ]);
    // The stand-in apt-get installs nothing: the check after it says so instead of passing.
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('still missing after apt-get install: chromium');
  });

  it('as root without ClickHouse: installs clickhouse-server and clickhouse-client (the ClickHouse tests need a real server)', () => {
    const r = pretest({ uid: 0, fonts: true, chromium: true, clickhouse: false });
    expect(r.calls).toEqual([
      'apt-get update -qq DEBIAN_FRONTEND=noninteractive',
      'apt-get install -y -qq --no-install-recommends clickhouse-server clickhouse-client DEBIAN_FRONTEND=noninteractive',
    ]);
    expect(r.stderr).toContain('still missing after apt-get install: clickhouse-server clickhouse-client');
  });

  it('with everything present: passes without installing anything, as any user', () => {
    for (const uid of [0, 1000]) {
      const r = pretest({ uid, fonts: true, chromium: true });
      expect({ code: r.code, calls: r.calls, stderr: r.stderr }).toEqual({ code: 0, calls: [], stderr: '' });
    }
  });
});
