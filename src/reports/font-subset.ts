/**
 * Small fonts for the PNG charts: the Noto Sans CJK SC faces cut down to the characters the
 * charts actually use (HarfBuzz's hb-subset, compiled to WebAssembly by the harfbuzzjs package).
 *
 * Why: resvg reads a font's file again for every piece of text it lays out. With the 19 MB
 * Noto CJK collection that costs ~25 ms per text element, so an ordinary chart (60 labels) took
 * over a second to rasterise; with a subset of a few hundred glyphs (~20 KB) the same chart
 * takes a few tens of milliseconds. Subsetting both faces costs ~100 ms, done once per batch of
 * charts. The subsets are written to a private temporary folder (resvg's in-memory font buffers
 * are far slower than files) and removed by `dispose()`.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

/** The raw exports of harfbuzz-subset.wasm that we call. */
interface HarfBuzzSubset {
  memory: { buffer: ArrayBuffer };
  malloc(size: number): number;
  free(ptr: number): void;
  hb_blob_create(data: number, length: number, mode: number, userData: number, destroy: number): number;
  hb_blob_destroy(blob: number): void;
  hb_blob_get_data(blob: number, length: number): number;
  hb_blob_get_length(blob: number): number;
  hb_face_create(blob: number, index: number): number;
  hb_face_destroy(face: number): void;
  hb_face_reference_blob(face: number): number;
  hb_set_add(set: number, codepoint: number): void;
  hb_subset_input_create_or_fail(): number;
  hb_subset_input_destroy(input: number): void;
  hb_subset_input_unicode_set(input: number): number;
  hb_subset_or_fail(face: number, input: number): number;
  _initialize?: () => void;
}

/** hb_memory_mode_t: HarfBuzz may use the bytes in place (we keep them for the process's life). */
const HB_MEMORY_MODE_WRITABLE = 2;

/** The WebAssembly global (Node has it; this project's TypeScript libs do not declare it). */
const wasm = (globalThis as unknown as {
  WebAssembly: { Module: new (bytes: Uint8Array) => object; Instance: new (module: object, imports: object) => { exports: unknown } };
}).WebAssembly;

let harfbuzz: HarfBuzzSubset | null | undefined;

/** Instantiate hb-subset once per process; null when the package is missing (then no subsetting). */
function loadHarfBuzz(): HarfBuzzSubset | null {
  if (harfbuzz !== undefined) return harfbuzz;
  try {
    const require = createRequire(import.meta.url);
    const bytes = fs.readFileSync(require.resolve('harfbuzzjs/dist/harfbuzz-subset.wasm'));
    const instance = new wasm.Instance(new wasm.Module(bytes), {});
    harfbuzz = instance.exports as unknown as HarfBuzzSubset;
    harfbuzz._initialize?.();
  } catch {
    harfbuzz = null;
  }
  return harfbuzz;
}

/** A face loaded into HarfBuzz's memory, kept for the life of the process (fonts do not change). */
interface LoadedFace {
  file: string;
  index: number;
  face: number;
}

const faces = new Map<string, LoadedFace | null>();

/**
 * The index of the Simplified Chinese face in a font collection (.ttc): the face whose family
 * name says "SC" (and is not the monospaced one); 0 for single fonts or when none says so.
 */
export function simplifiedChineseFaceIndex(bytes: Buffer): number {
  if (bytes.toString('latin1', 0, 4) !== 'ttcf') return 0;
  const count = bytes.readUInt32BE(8);
  for (let i = 0; i < count; i++) {
    const family = familyName(bytes, bytes.readUInt32BE(12 + 4 * i));
    if (family && /\bSC\b/.test(family) && !/Mono/i.test(family)) return i;
  }
  return 0;
}

/** Name ID 16 (typographic family) or 1 (family) of the font whose table directory is at `offset`. */
function familyName(bytes: Buffer, offset: number): string | null {
  const tables = bytes.readUInt16BE(offset + 4);
  for (let t = 0; t < tables; t++) {
    const record = offset + 12 + 16 * t;
    if (bytes.toString('latin1', record, record + 4) !== 'name') continue;
    const name = bytes.readUInt32BE(record + 8);
    const count = bytes.readUInt16BE(name + 2);
    const strings = name + bytes.readUInt16BE(name + 4);
    const found: Record<number, string> = {};
    for (let n = 0; n < count; n++) {
      const r = name + 6 + 12 * n;
      const [platform, , language, id, length, at] = [0, 2, 4, 6, 8, 10].map((k) => bytes.readUInt16BE(r + k));
      // Windows platform, US English, UTF-16BE.
      if (platform !== 3 || language !== 0x409 || (id !== 1 && id !== 16)) continue;
      found[id] = Buffer.from(bytes.subarray(strings + at, strings + at + length)).swap16().toString('utf16le');
    }
    return found[16] ?? found[1] ?? null;
  }
  return null;
}

function loadFace(hb: HarfBuzzSubset, file: string): LoadedFace | null {
  if (faces.has(file)) return faces.get(file) ?? null;
  let loaded: LoadedFace | null = null;
  try {
    const bytes = fs.readFileSync(file);
    const index = simplifiedChineseFaceIndex(bytes);
    const ptr = hb.malloc(bytes.length);
    new Uint8Array(hb.memory.buffer).set(bytes, ptr);
    const blob = hb.hb_blob_create(ptr, bytes.length, HB_MEMORY_MODE_WRITABLE, 0, 0);
    const face = hb.hb_face_create(blob, index);
    hb.hb_blob_destroy(blob);
    loaded = { file, index, face };
  } catch {
    loaded = null;
  }
  faces.set(file, loaded);
  return loaded;
}

/**
 * Load HarfBuzz and these font files now, so that a later `subsetFonts` of them only subsets
 * (reading the two Noto CJK faces, 40 MB, is most of its time). Errors are left for
 * `subsetFonts`, which falls back to the full fonts.
 */
export function preloadFaces(fontFiles: string[]): void {
  const hb = loadHarfBuzz();
  if (hb) for (const file of fontFiles) loadFace(hb, file);
}

/** Subset one face to the code points given; null when HarfBuzz refuses. */
function subsetFace(hb: HarfBuzzSubset, face: LoadedFace, codePoints: Iterable<number>): Buffer | null {
  const input = hb.hb_subset_input_create_or_fail();
  if (!input) return null;
  try {
    const set = hb.hb_subset_input_unicode_set(input);
    for (const cp of codePoints) hb.hb_set_add(set, cp);
    const subset = hb.hb_subset_or_fail(face.face, input);
    if (!subset) return null;
    const blob = hb.hb_face_reference_blob(subset);
    try {
      const ptr = hb.hb_blob_get_data(blob, 0);
      const length = hb.hb_blob_get_length(blob);
      return length > 0 ? Buffer.from(new Uint8Array(hb.memory.buffer, ptr, length)) : null;
    } finally {
      hb.hb_blob_destroy(blob);
      hb.hb_face_destroy(subset);
    }
  } finally {
    hb.hb_subset_input_destroy(input);
  }
}

/** Every character of the texts, plus printable ASCII (digits and Latin for any label). */
export function codePointsOf(texts: Iterable<string>): Set<number> {
  const points = new Set<number>();
  for (let c = 0x20; c < 0x7f; c++) points.add(c);
  for (const text of texts) for (const ch of text) points.add(ch.codePointAt(0)!);
  return points;
}

export interface SubsetFonts {
  /** The subset font files, one per source face. */
  files: string[];
  /** Remove the files (and their folder). */
  dispose(): void;
}

/**
 * Subset each font file (its Simplified Chinese face) to the characters of `texts`. Returns
 * null when nothing could be subset (no HarfBuzz, unreadable fonts): callers then use the
 * full fonts.
 */
export function subsetFonts(fontFiles: string[], texts: Iterable<string>): SubsetFonts | null {
  const hb = loadHarfBuzz();
  if (!hb || fontFiles.length === 0) return null;
  const points = codePointsOf(texts);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crm-fonts-'));
  const dispose = () => fs.rmSync(dir, { recursive: true, force: true });
  const files: string[] = [];
  try {
    for (const [i, file] of fontFiles.entries()) {
      const face = loadFace(hb, file);
      const bytes = face ? subsetFace(hb, face, points) : null;
      if (!bytes) continue;
      const out = path.join(dir, `${i}-${path.basename(file).replace(/\.(ttc|otc)$/i, '.otf')}`);
      fs.writeFileSync(out, bytes);
      files.push(out);
    }
  } catch {
    dispose();
    return null;
  }
  if (files.length === 0) {
    dispose();
    return null;
  }
  return { files, dispose };
}
