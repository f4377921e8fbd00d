/**
 * One writer at a time: DuckDB locks the store file, and a second process fails to open it.
 * Here a second command may wait for the lock (`crm --wait SECONDS`, default 0: fail at once),
 * polling with backoff, and the error names what holds the store — DuckDB's message carries
 * the holder's PID; /proc/PID/cmdline, when readable, says which command it is.
 */
import fs from 'node:fs';
import path from 'node:path';

export interface LockWait {
  /** How long to keep trying to open a locked store; 0 fails at once. */
  seconds: number;
  /** Told once, when the first attempt finds the store locked and waiting begins. */
  onWait?: (holder: string) => void;
}

let lockWait: LockWait = { seconds: 0 };

/** Set by the CLI from the global `--wait` flag; applies to every store this process opens. */
export function setLockWait(wait: LockWait): void {
  lockWait = wait;
}

export function currentLockWait(): LockWait {
  return lockWait;
}

/** DuckDB's "Could not set lock on file …: Conflicting lock is held in … (PID 123)". */
export function isLockError(message: string): boolean {
  return /Could not set lock|Conflicting lock/i.test(message);
}

export function lockHolderPid(message: string): number | null {
  const m = /\(PID (\d+)\)/.exec(message);
  return m ? Number(m[1]) : null;
}

/** The command line of a process, as the person who started it would recognise it. */
export function describeCommandLine(argv: string[]): string {
  const cli = argv.findIndex((a) => /(^|\/)(cli\.js|crm)$/.test(a));
  const shown = cli >= 0 ? ['crm', ...argv.slice(cli + 1)] : argv.map((a, i) => (i === 0 ? path.basename(a) : a));
  // The holder's arguments are someone else's text: no control characters reach our terminal.
  // eslint-disable-next-line no-control-regex
  const text = shown.join(' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
  return text.length > 120 ? text.slice(0, 119) + '…' : text;
}

/** "process 123 (crm ingest transactions big.csv)", or "process 123" when /proc says nothing. */
export function describeHolder(pid: number | null, procRoot = '/proc'): string {
  if (pid === null) return 'another process';
  try {
    const argv = fs.readFileSync(path.join(procRoot, String(pid), 'cmdline'), 'utf8').split('\0').filter(Boolean);
    if (argv.length) return `process ${pid} (${describeCommandLine(argv)})`;
  } catch {
    /* gone already, another user's, or no /proc: the PID is all we know */
  }
  return `process ${pid}`;
}

const FIRST_DELAY_MS = 50;
const MAX_DELAY_MS = 1000;

/**
 * Run `open` until it stops failing on the store's lock, or until `wait.seconds` have passed
 * (then the last lock error is rethrown). Other errors are rethrown at once.
 */
export async function retryWhileLocked<T>(open: () => Promise<T>, wait: LockWait = lockWait): Promise<T> {
  const deadline = Date.now() + Math.max(0, wait.seconds) * 1000;
  let delay = FIRST_DELAY_MS;
  let told = false;
  for (;;) {
    try {
      return await open();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      const left = deadline - Date.now();
      if (!isLockError(message) || left <= 0) throw err;
      if (!told) {
        wait.onWait?.(describeHolder(lockHolderPid(message)));
        told = true;
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
      delay = Math.min(MAX_DELAY_MS, delay * 2);
    }
  }
}
