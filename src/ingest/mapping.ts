/**
 * Column mapping: which source column feeds each canonical field. Explicit choices (--map,
 * then the config file) win; the remaining fields are recognised from the headers. Missing
 * required fields and ties are errors that list the file's headers.
 */
import { inputError, usageError } from '../util/errors.js';
import { fieldsFor, normaliseHeader, type DatasetKind, type FieldSpec } from './fields.js';

/** canonical field -> source header */
export type Mapping = Record<string, string>;

export interface MappingResult {
  mapping: Mapping;
  /** How each field was chosen, for the printed summary. */
  how: Record<string, 'map' | 'config' | 'recognised'>;
  /** Source columns not mapped to a field (kept in `attributes`). */
  unmapped: string[];
}

/** Parse repeated `--map target=source` flags. */
export function parseMapFlags(flags: string[] | undefined, kind: DatasetKind): Mapping {
  const fields = fieldsFor(kind).map((f) => f.name);
  const out: Mapping = {};
  for (const flag of flags ?? []) {
    const eq = flag.indexOf('=');
    if (eq <= 0 || eq === flag.length - 1) {
      throw usageError(`--map ${JSON.stringify(flag)}: expected target=source, e.g. --map customer_id="Customer ID"`);
    }
    const target = flag.slice(0, eq).trim();
    const source = flag.slice(eq + 1).trim();
    if (!fields.includes(target)) {
      throw usageError(`--map ${JSON.stringify(flag)}: unknown ${kind} field ${JSON.stringify(target)}`, [
        `Fields: ${fields.join(', ')}`,
      ]);
    }
    if (target in out && out[target] !== source) {
      throw usageError(`--map gives ${target} twice: ${JSON.stringify(out[target])} and ${JSON.stringify(source)}`, ['Keep the one you mean.']);
    }
    out[target] = source;
  }
  return out;
}

export interface ResolveMappingInput {
  kind: DatasetKind;
  headers: string[];
  /** From --map. */
  explicit?: Mapping;
  /** From the config file. */
  configured?: Mapping;
  /** Names the file (and sheet) in error messages. */
  sourceLabel: string;
}

export function resolveMapping(input: ResolveMappingInput): MappingResult {
  const { kind, headers, sourceLabel } = input;
  const fields = fieldsFor(kind);
  const mapping: Mapping = {};
  const how: MappingResult['how'] = {};
  const headerList = () => [`The file's headers: ${headers.map((h) => JSON.stringify(h)).join(', ')}`];

  const findHeader = (wanted: string): string | undefined =>
    headers.find((h) => h === wanted) ?? headers.find((h) => normaliseHeader(h) === normaliseHeader(wanted));

  for (const [source, origin] of [
    [input.configured ?? {}, 'config'],
    [input.explicit ?? {}, 'map'],
  ] as const) {
    for (const [field, wanted] of Object.entries(source)) {
      const header = findHeader(wanted);
      if (!header) {
        throw inputError(
          `${sourceLabel}: the column ${JSON.stringify(wanted)} given for ${field} (${origin === 'map' ? '--map' : 'config file'}) is not in the file`,
          headerList(),
        );
      }
      mapping[field] = header;
      how[field] = origin;
    }
  }

  const taken = new Set(Object.values(mapping));
  for (const { name: field } of fields) {
    if (mapping[field]) continue;
    const match = recognise(field, headers.filter((h) => !taken.has(h)));
    if (match.kind === 'tie') {
      throw inputError(
        `${sourceLabel}: ${field} is ambiguous: columns ${match.headers.map((h) => JSON.stringify(h)).join(' and ')} both look like it`,
        [`Choose one with --map ${field}="COLUMN".`, ...headerList()],
      );
    }
    if (match.kind === 'one') {
      mapping[field] = match.header;
      how[field] = 'recognised';
      taken.add(match.header);
    }
  }

  checkRequired(kind, mapping, sourceLabel, headerList());
  return { mapping, how, unmapped: headers.filter((h) => !taken.has(h)) };
}

type Recognised = { kind: 'none' } | { kind: 'one'; header: string } | { kind: 'tie'; headers: string[] };

function recognise(field: string, headers: string[]): Recognised {
  const spec = fieldSpec(field);
  let bestRank = Infinity;
  let best: string[] = [];
  for (const h of headers) {
    const rank = spec.synonyms.findIndex((s) => normaliseHeader(s) === normaliseHeader(h));
    if (rank < 0) continue;
    if (rank < bestRank) {
      bestRank = rank;
      best = [h];
    } else if (rank === bestRank) best.push(h);
  }
  if (best.length === 0) return { kind: 'none' };
  if (best.length === 1) return { kind: 'one', header: best[0] };
  return { kind: 'tie', headers: best };
}

function fieldSpec(field: string): FieldSpec {
  for (const kind of ['transactions', 'customers'] as const) {
    const f = fieldsFor(kind).find((x) => x.name === field);
    if (f) return f;
  }
  throw new Error(`unknown field ${field}`);
}

function checkRequired(kind: DatasetKind, mapping: Mapping, sourceLabel: string, headerList: string[]): void {
  const missing: string[] = [];
  if (!mapping.customer_id) missing.push('customer_id');
  if (kind === 'transactions') {
    if (!mapping.order_date) missing.push('order_date');
    if (!mapping.amount && !(mapping.quantity && mapping.unit_price)) missing.push('amount (or quantity and unit_price)');
  }
  if (missing.length) {
    throw inputError(`${sourceLabel}: no column found for ${missing.join(', ')}`, [
      `Name the column with --map, e.g. --map ${missing[0].split(' ')[0]}="COLUMN", or in crm.config.json.`,
      ...headerList,
    ]);
  }
}

/** One line per mapped field, e.g. `customer_id ← "Customer ID" (recognised)`. */
export function describeMapping(result: MappingResult): string[] {
  return Object.entries(result.mapping).map(([field, header]) => `${field} ← ${JSON.stringify(header)} (${result.how[field]})`);
}
