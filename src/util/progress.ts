/**
 * Progress for long steps. On a terminal: one self-updating bar per step on stderr. When
 * stderr is not a TTY (cron, CI, pipes): plain lines — the step's start, a percentage at most
 * every `plainIntervalMs`, and its end — so logs stay readable. `--quiet` prints nothing.
 */
import { formatDuration } from './format.js';

export type Tick = (fraction: number | null, detail?: string) => void;

export interface Progress {
  /** Run `fn` as a named step; `fn` may report a fraction in [0, 1] through `tick`. */
  step<T>(label: string, fn: (tick: Tick) => Promise<T>): Promise<T>;
}

export interface ProgressOptions {
  quiet?: boolean;
  stream?: NodeJS.WriteStream | NodeJS.WritableStream;
  /** Force the TTY or plain rendering; default: `stream.isTTY`. */
  tty?: boolean;
  plainIntervalMs?: number;
  barWidth?: number;
}

const DEFAULTS = { plainIntervalMs: 10_000, barWidth: 28 };

export function createProgress(opts: ProgressOptions = {}): Progress {
  const stream = opts.stream ?? process.stderr;
  const tty = opts.tty ?? Boolean((stream as NodeJS.WriteStream).isTTY);
  const plainIntervalMs = opts.plainIntervalMs ?? DEFAULTS.plainIntervalMs;
  const barWidth = opts.barWidth ?? DEFAULTS.barWidth;
  if (opts.quiet) return { step: (_label, fn) => fn(() => undefined) };

  return {
    async step(label, fn) {
      const started = Date.now();
      let lastDraw = 0;
      let lastPlain = started;
      const draw = (fraction: number | null, detail = '') => {
        if (tty) {
          const now = Date.now();
          if (now - lastDraw < 80) return;
          lastDraw = now;
          const f = fraction === null ? null : Math.min(1, Math.max(0, fraction));
          const bar =
            f === null
              ? ''
              : ' [' + '#'.repeat(Math.round(f * barWidth)).padEnd(barWidth, '.') + `] ${Math.floor(f * 100)}%`;
          stream.write(`\r\x1b[2K${label}${bar}${detail ? ' ' + detail : ''}`);
        } else if (fraction !== null && Date.now() - lastPlain >= plainIntervalMs) {
          lastPlain = Date.now();
          stream.write(`${label}: ${Math.floor(fraction * 100)}%${detail ? ' ' + detail : ''}\n`);
        }
      };
      if (tty) stream.write(`${label}…`);
      else stream.write(`${label}…\n`);
      try {
        const result = await fn(draw);
        const took = formatDuration(Date.now() - started);
        stream.write(tty ? `\r\x1b[2K${label} ✓ ${took}\n` : `${label}: done in ${took}\n`);
        return result;
      } catch (err) {
        stream.write(tty ? `\r\x1b[2K${label} ✗\n` : `${label}: failed\n`);
        throw err;
      }
    },
  };
}
