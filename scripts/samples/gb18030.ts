/**
 * A GB18030 encoder for the sample files, built from Node's own decoder.
 *
 * Why: Node's TextDecoder decodes GB18030 (and GBK, the same WHATWG decoder) but there is no
 * TextEncoder for it, and the project takes no dependency just to write two small samples.
 * Decoding every two-byte sequence (lead 0x81–0xFE × trail 0x40–0xFE, 23,940 characters: all
 * of GBK) and every four-byte BMP sequence (0x81–0x84 × 0x30–0x39 × 0x81–0xFE × 0x30–0x39,
 * e.g. ¥ U+00A5, which GBK lacks) once gives the reverse map; ASCII is single bytes. About
 * 40 ms. Characters outside the BMP are not needed here and are refused.
 */

let reverse: Map<string, number[]> | null = null;

function buildReverseMap(): Map<string, number[]> {
  const decoder = new TextDecoder('gb18030');
  const map = new Map<string, number[]>();
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) continue;
      const ch = decoder.decode(Uint8Array.of(lead, trail));
      if (ch.length === 1 && ch !== '\ufffd' && !map.has(ch)) map.set(ch, [lead, trail]);
    }
  }
  for (let b1 = 0x81; b1 <= 0x84; b1++) {
    for (let b2 = 0x30; b2 <= 0x39; b2++) {
      for (let b3 = 0x81; b3 <= 0xfe; b3++) {
        for (let b4 = 0x30; b4 <= 0x39; b4++) {
          const ch = decoder.decode(Uint8Array.of(b1, b2, b3, b4));
          // Two-byte forms win: they are what GBK tools write and read.
          if (ch.length === 1 && ch !== '\ufffd' && !map.has(ch)) map.set(ch, [b1, b2, b3, b4]);
        }
      }
    }
  }
  return map;
}

/** Encode text as GB18030; throws on a character it cannot encode, naming it. */
export function encodeGb18030(text: string): Buffer {
  reverse ??= buildReverseMap();
  const bytes: number[] = [];
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (code < 0x80) {
      bytes.push(code);
      continue;
    }
    const seq = reverse.get(ch);
    if (!seq) throw new Error(`cannot encode U+${code.toString(16).toUpperCase().padStart(4, '0')} (${ch}) as GB18030`);
    bytes.push(...seq);
  }
  const out = Buffer.from(bytes);
  // Verify by decoding back: the sample must say exactly what we meant.
  const back = new TextDecoder('gb18030').decode(out);
  if (back !== text) throw new Error('GB18030 round trip failed');
  return out;
}
