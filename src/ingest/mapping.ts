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
  /** Unique column names (repeated and blank headers made unique). */
  headers: string[];
  /** The headers as the file writes them, same order; defaults to `headers`. */
  fileHeaders?: string[];
  /** Set when the file has no header line: its first data row (the columns are column1…N). */
  firstRow?: string[];
  /** From --map. */
  explicit?: Mapping;
  /** From the config file. */
  configured?: Mapping;
  /** Names the file (and sheet) in error messages. */
  sourceLabel: string;
}

export function resolveMapping(input: ResolveMappingInput): MappingResult {
  const { kind, headers, sourceLabel } = input;
  const written = input.fileHeaders ?? headers;
  const fields = fieldsFor(kind);
  const mapping: Mapping = {};
  const how: MappingResult['how'] = {};
  const headerList = () =>
    input.firstRow
      ? [
          `The file has no header line: its first row is data (${input.firstRow.map((v) => JSON.stringify(v)).join(', ')}), so its columns are named ${headers.join(', ')}.`,
          `Say which is which, e.g. ${mapExample(kind, headers.length)}.`,
        ]
      : [`The file's headers: ${written.map((h) => JSON.stringify(h)).join(', ')}`];

  /** Columns (by position) named `wanted`: a made-up unique name, else the file's names as written, else normalised. */
  const findColumns = (wanted: string): number[] => {
    const exact = headers.indexOf(wanted);
    // A made-up name (Amount_2 for a repeated Amount) chooses that one column.
    if (exact >= 0 && written[exact] !== wanted) return [exact];
    const same = written.flatMap((h, i) => (h === wanted ? [i] : []));
    if (same.length) return same;
    const key = normaliseHeader(wanted);
    return written.flatMap((h, i) => (normaliseHeader(h) === key ? [i] : []));
  };

  for (const [source, origin] of [
    [input.configured ?? {}, 'config'],
    [input.explicit ?? {}, 'map'],
  ] as const) {
    for (const [field, wanted] of Object.entries(source)) {
      const found = findColumns(wanted);
      if (found.length === 0) {
        throw inputError(
          `${sourceLabel}: the column ${JSON.stringify(wanted)} given for ${field} (${origin === 'map' ? '--map' : 'config file'}) is not in the file`,
          headerList(),
        );
      }
      if (found.length > 1) throw ambiguous(field, found);
      mapping[field] = headers[found[0]];
      how[field] = origin;
    }
  }

  /** Two or more columns name one field: stop, listing them and how to choose. */
  function ambiguous(field: string, columns: number[]) {
    const names = columns.map((i) => written[i]);
    const positions = columns.map((i) => i + 1);
    const listed = `${positions.slice(0, -1).join(', ')} and ${positions[positions.length - 1]}`;
    if (names.every((n) => n === names[0])) {
      return inputError(
        `${sourceLabel}: ${field} is ambiguous: columns ${listed} are ${columns.length === 2 ? 'both' : 'all'} named ${JSON.stringify(names[0])}`,
        [
          `Rename one in the file, or choose one with --map ${field}="NAME": they are read as ${columns.map((i) => JSON.stringify(headers[i])).join(', ')}.`,
          ...headerList(),
        ],
      );
    }
    return inputError(
      `${sourceLabel}: ${field} is ambiguous: columns ${names.map((h) => JSON.stringify(h)).join(' and ')} both look like it`,
      [`Choose one with --map ${field}="COLUMN".`, ...headerList()],
    );
  }

  const taken = new Set(Object.values(mapping));
  for (const { name: field } of fields) {
    if (mapping[field]) continue;
    const free = headers.flatMap((h, i) => (taken.has(h) ? [] : [i]));
    const match = recognise(fields.find((f) => f.name === field)!, free, written);
    if (match.length > 1) throw ambiguous(field, match);
    if (match.length === 1) {
      mapping[field] = headers[match[0]];
      how[field] = 'recognised';
      taken.add(headers[match[0]]);
    }
  }

  checkRequired(kind, mapping, sourceLabel, headerList());
  return { mapping, how, unmapped: headers.filter((h) => !taken.has(h)) };
}

/** `--map` flags naming every required field of a kind, for a file whose columns are column1…N. */
function mapExample(kind: DatasetKind, columns: number): string {
  const required = kind === 'transactions' ? ['customer_id', 'order_date', 'amount'] : fieldsFor(kind).filter((f) => f.required).map((f) => f.name);
  return required.map((field, i) => `--map ${field}=column${i === required.length - 1 ? columns : i + 1}`).join(' ');
}

/** The columns (positions among `columns`) whose written name is the field's most specific synonym found. */
function recognise(spec: FieldSpec, columns: number[], written: string[]): number[] {
  let bestRank = Infinity;
  let best: number[] = [];
  for (const i of columns) {
    const rank = spec.synonyms.findIndex((s) => normaliseHeader(s) === normaliseHeader(written[i]));
    if (rank < 0) continue;
    if (rank < bestRank) {
      bestRank = rank;
      best = [i];
    } else if (rank === bestRank) best.push(i);
  }
  return best;
}

function checkRequired(kind: DatasetKind, mapping: Mapping, sourceLabel: string, headerList: string[]): void {
  const missing = fieldsFor(kind)
    .filter((f) => f.required && !mapping[f.name])
    .map((f) => f.name);
  // A transaction's amount may instead be quantity × unit price.
  if (kind === 'transactions' && !mapping.amount && !(mapping.quantity && mapping.unit_price)) missing.push('amount (or quantity and unit_price)');
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
