/**
 * A worker thread that rasterises charts (render.ts, PngWorkers): SVG markup and resvg's options
 * in, PNG bytes out, by the same calls `svgToPngAsync` makes (so the same bytes). It exists
 * because resvg encodes the PNG (`asPng`) on the calling thread: for a report's eight 2× charts
 * that was a few hundred ms on the main thread after the SQL, one chart after the other.
 */
import { parentPort } from 'node:worker_threads';
import { renderAsync, type ResvgRenderOptions } from '@resvg/resvg-js';

export interface PngJob {
  id: number;
  svg: string;
  options: ResvgRenderOptions;
}

export type PngReply = { id: number; png: Uint8Array } | { id: number; error: string };

parentPort?.on('message', (job: PngJob) => {
  renderAsync(job.svg, job.options)
    .then((image) => {
      const png = image.asPng();
      parentPort!.postMessage({ id: job.id, png } satisfies PngReply);
    })
    .catch((err: unknown) => parentPort!.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) } satisfies PngReply));
});
