/**
 * A buffered CSV file writer with a small pool of large byte buffers.
 *
 * Why bytes, not a growing string: ~10M lines must reach disk in well under a minute. Text is
 * encoded straight into a 4 MB Buffer as each order is produced, so the strings die young
 * (a long-lived multi-megabyte rope of small strings would be copied by every young-generation
 * GC — measured at over half the run time). A full buffer is queued; the caller awaits
 * `flush()` at its next convenient point, which hands queued buffers to the OS one at a time
 * while generation continues into a fresh buffer. Buffers come back to a free list when
 * written, so memory stays at a few buffers whatever the file size.
 *
 * Why a `.partial` file: output appears under its final name only once complete (rename on
 * close), so an interrupted run never leaves a truncated file that looks finished.
 */
import { open, rename, rm, type FileHandle } from 'node:fs/promises';

/** Bytes per buffer. */
const BUFFER_BYTES = 4 * 1024 * 1024;
/** UTF-8 takes at most 3 bytes per UTF-16 code unit. */
const MAX_BYTES_PER_UNIT = 3;

interface Filled {
  buffer: Buffer;
  length: number;
}

export class CsvSink {
  /** Bytes handed to the file so far (final once closed). */
  bytes = 0;
  private buffer: Buffer = Buffer.allocUnsafe(BUFFER_BYTES);
  private used = 0;
  private readonly queued: Filled[] = [];
  private readonly free: Buffer[] = [];
  private pending: Promise<void> | null = null;

  private constructor(
    private readonly fh: FileHandle,
    private readonly partialPath: string,
    readonly path: string,
  ) {}

  /** Create (or truncate) `path`'s partial file and write the header line. */
  static async open(path: string, header: string): Promise<CsvSink> {
    const partialPath = `${path}.partial`;
    const fh = await open(partialPath, 'w');
    const sink = new CsvSink(fh, partialPath, path);
    sink.write(header + '\n');
    return sink;
  }

  /** Append text (whole lines, each ending in `\n`). */
  write(text: string): void {
    const worstCase = text.length * MAX_BYTES_PER_UNIT;
    if (this.used + worstCase > this.buffer.length) {
      this.rotate();
      if (worstCase > this.buffer.length) {
        // Larger than a whole buffer (never for one order, but stay correct): queue it as is.
        const big = Buffer.from(text, 'utf8');
        this.queued.push({ buffer: big, length: big.length });
        return;
      }
    }
    this.used += this.buffer.write(text, this.used, 'utf8');
  }

  /** True when a buffer is full: the caller should `await flush()` soon. */
  get wantsFlush(): boolean {
    return this.queued.length > 0;
  }

  /** Hand full buffers to the OS, waiting only for the previous write to finish. */
  async flush(): Promise<void> {
    while (this.queued.length > 0) {
      const filled = this.queued.shift()!;
      if (this.pending) await this.pending;
      this.bytes += filled.length;
      this.pending = writeAll(this.fh, filled.buffer, filled.length).then(() => {
        if (filled.buffer.length === BUFFER_BYTES) this.free.push(filled.buffer);
      });
    }
  }

  /** Flush everything, close, and move the file to its final name. */
  async close(): Promise<void> {
    this.rotate();
    await this.flush();
    if (this.pending) await this.pending;
    this.pending = null;
    await this.fh.close();
    await rename(this.partialPath, this.path);
  }

  /** Give up: close and delete the partial file (used when generation fails). */
  async abort(): Promise<void> {
    try {
      if (this.pending) await this.pending.catch(() => undefined);
      await this.fh.close();
    } finally {
      await rm(this.partialPath, { force: true });
    }
  }

  /** Queue the current buffer (if it holds anything) and continue in a free one. */
  private rotate(): void {
    if (this.used === 0) return;
    this.queued.push({ buffer: this.buffer, length: this.used });
    this.buffer = this.free.pop() ?? Buffer.allocUnsafe(BUFFER_BYTES);
    this.used = 0;
  }
}

/** fs writes may be partial in principle; loop until the whole range is written. */
async function writeAll(fh: FileHandle, data: Buffer, length: number): Promise<void> {
  let offset = 0;
  while (offset < length) {
    const { bytesWritten } = await fh.write(data, offset, length - offset);
    offset += bytesWritten;
  }
}
