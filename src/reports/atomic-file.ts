/**
 * Atomic replacement of an output file. A writer fills a temporary file in the target's own
 * directory (so the final rename never crosses file systems); we fsync it, then rename it over
 * the target and fsync the directory. Readers therefore see either the old file or the complete
 * new one, never a half-written export, even if the process is killed mid-way.
 *
 * Temporary files are named `.<target name>.<pid>-<random>.crm-tmp`. They are removed on any
 * error and, for a process that exits through `process.exit()` (e.g. the CLI's Ctrl-C handler),
 * by an exit hook. Only SIGKILL or a power cut can leave one behind — never a partial target.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { asOutputError, CrmError, outputError, messageOf } from '../util/errors.js';

export const TEMP_SUFFIX = '.crm-tmp';

export interface AtomicWriteOptions {
  /** Replace an existing target (default false: an existing target is an error). */
  force?: boolean;
}

/** Temporary files currently being written, removed by the exit hook if the process exits. */
const liveTempFiles = new Set<string>();
let exitHookInstalled = false;

function trackTempFile(tmp: string): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const f of liveTempFiles) {
        try {
          fs.rmSync(f, { force: true });
        } catch {
          /* best effort while exiting */
        }
      }
    });
  }
  liveTempFiles.add(tmp);
}

function existsError(target: string): CrmError {
  return outputError(`${target} already exists`, ['Use --force to replace it.']);
}

/** Refuse a target that exists (without force) or that is not a regular file. */
export function checkTarget(target: string, opts: AtomicWriteOptions = {}): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(target);
  } catch {
    return; // does not exist yet
  }
  if (!stat.isFile()) throw outputError(`${target} exists and is not a regular file`);
  if (!opts.force) throw existsError(target);
}

/** The temporary path used for `target`. */
export function tempPathFor(target: string): string {
  const dir = path.dirname(target);
  return path.join(dir, `.${path.basename(target)}.${process.pid}-${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`);
}

/**
 * An extra temporary file next to `target` for multi-step writers; removed by `release()` and,
 * like the main temporary file, by the exit hook.
 */
export function scratchFileFor(target: string): { path: string; release: () => Promise<void> } {
  const file = tempPathFor(target);
  trackTempFile(file);
  return {
    path: file,
    release: async () => {
      await fsp.rm(file, { force: true }).catch(() => undefined);
      liveTempFiles.delete(file);
    },
  };
}

/**
 * Produce `target` atomically: `write` receives a temporary path in the same directory and must
 * create and fully write that file (and close it). Returns what `write` returned and the size of
 * the committed file. On error the temporary file is removed and the target is left untouched.
 */
export async function writeAtomically<T>(
  target: string,
  opts: AtomicWriteOptions,
  write: (tmpPath: string) => Promise<T>,
): Promise<{ result: T; bytes: number }> {
  const { result, bytes, staged } = await stageAtomically(target, opts, write);
  await staged.commit();
  return { result, bytes };
}

/**
 * A file written and synced under its temporary name, not yet at its target: nobody has it until
 * `commit()` moves it into place. `discard()` removes it. Exports stage their files so that the
 * audit row of the hand-out is written before the file appears (store/audit.ts, auditHandOut).
 */
export interface StagedFile {
  /** The absolute target path. */
  target: string;
  bytes: number;
  commit: () => Promise<void>;
  discard: () => Promise<void>;
}

/** `writeAtomically` without the final rename: the caller commits (or discards) the staged file. */
export async function stageAtomically<T>(
  target: string,
  opts: AtomicWriteOptions,
  write: (tmpPath: string) => Promise<T>,
): Promise<{ result: T; bytes: number; staged: StagedFile }> {
  const abs = path.resolve(target);
  checkTarget(abs, opts);
  try {
    fs.mkdirSync(path.dirname(abs), { recursive: true });
  } catch (err) {
    throw outputError(`cannot create the directory for ${abs}: ${messageOf(err)}`);
  }
  const tmp = tempPathFor(abs);
  trackTempFile(tmp);
  const discard = async () => {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    liveTempFiles.delete(tmp);
  };
  let result: T;
  let bytes: number;
  try {
    result = await write(tmp);
    bytes = await fsyncFile(tmp);
  } catch (err) {
    await discard();
    throw asOutputError(err, abs);
  }
  const commitStaged = async () => {
    try {
      await commit(tmp, abs, Boolean(opts.force));
      await fsyncDirectory(path.dirname(abs));
    } catch (err) {
      await discard();
      throw asOutputError(err, abs);
    }
    liveTempFiles.delete(tmp);
  };
  return { result, bytes, staged: { target: abs, bytes, commit: commitStaged, discard } };
}

async function fsyncFile(file: string): Promise<number> {
  const handle = await fsp.open(file, 'r+');
  try {
    await handle.sync();
    return (await handle.stat()).size;
  } finally {
    await handle.close();
  }
}

/**
 * Move the finished temporary file into place. Without force we link rather than rename: link
 * fails with EEXIST if another process created the target meanwhile, where rename would
 * silently replace it. File systems without hard links fall back to check-then-rename.
 */
async function commit(tmp: string, target: string, force: boolean): Promise<void> {
  if (force) {
    await fsp.rename(tmp, target);
    return;
  }
  try {
    await fsp.link(tmp, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw existsError(target);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'ENOSYS' && code !== 'EXDEV') throw err;
    checkTarget(target, { force: false });
    await fsp.rename(tmp, target);
    return;
  }
  await fsp.rm(tmp, { force: true });
}

/** Make the rename durable. Not possible on every platform (Windows): best effort. */
async function fsyncDirectory(dir: string): Promise<void> {
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await fsp.open(dir, 'r');
    await handle.sync();
  } catch {
    /* directories cannot be opened or synced here */
  } finally {
    await handle?.close().catch(() => undefined);
  }
}
