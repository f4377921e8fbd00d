/**
 * crm.config.json: optional settings validated against schema/crm.config.schema.json (the
 * same file editors use for completion). Command-line flags win over the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { inputError } from './util/errors.js';
import { PACKAGE_ROOT } from './version.js';
import type { Mapping } from './ingest/mapping.js';

export const CONFIG_FILE = 'crm.config.json';

export interface IngestSourceConfig {
  map?: Mapping;
  dateFormat?: string;
  /** The decimal mark of every decimal column: `.` or `,`. */
  decimalSeparator?: string;
  returnPattern?: string;
  encoding?: string;
  delimiter?: string;
  sheet?: string;
}

/** crm.config.json `sources.NAME`: where transactions already live (crm run --source NAME; run/source.ts). */
export interface SourceConfig {
  /** clickhouse://HOST:PORT/DATABASE.TABLE */
  url: string;
  user?: string;
  /** The environment variable holding the password (never the password itself). */
  password_env?: string;
  timeout_seconds?: number;
  retries?: number;
  /** Each shard's clickhouse://HOST:PORT/DATABASE.LOCAL_TABLE. */
  shards?: string[];
  /** The table's column for a field whose column has another name (crm run --map wins per field). */
  map?: Record<string, string>;
}

export interface CrmConfig {
  sources?: Record<string, SourceConfig>;
  ingest?: { transactions?: IngestSourceConfig; customers?: IngestSourceConfig; contracts?: IngestSourceConfig; owners?: IngestSourceConfig; merges?: IngestSourceConfig };
  models?: Record<string, unknown>;
  /** What is personal data on screen (`crm customer`): e-mail and phone always; names when mask_names. */
  privacy?: { mask_names?: boolean };
  /** Where the config came from (absent when none was found). */
  source?: string;
}

let validator: ((data: unknown) => boolean) & { errors?: { instancePath: string; message?: string; params?: unknown }[] | null } | undefined;

function validate(data: unknown): { instancePath: string; message?: string; params?: unknown }[] {
  if (!validator) {
    const schema = JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'schema', 'crm.config.schema.json'), 'utf8'));
    // Loaded only when a config file is there to validate: most commands never need it.
    const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
    validator = new Ajv({ allErrors: true, strict: false }).compile(schema);
  }
  return validator(data) ? [] : (validator.errors ?? []);
}

/**
 * Load the config: the file named by --config, else ./crm.config.json when present, else an
 * empty config. A named file that is missing, unreadable or invalid is an error.
 */
export function loadConfig(explicitPath?: string): CrmConfig {
  const file = explicitPath ? path.resolve(explicitPath) : path.resolve(CONFIG_FILE);
  if (!fs.existsSync(file)) {
    if (explicitPath) throw inputError(`config file ${explicitPath} does not exist`);
    return {};
  }
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw inputError(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const errors = validate(data);
  if (errors.length) {
    throw inputError(
      `${file} does not match the configuration schema`,
      errors.map((e) => {
        const extra = e.params && typeof e.params === 'object' ? describeParams(e.params as Record<string, unknown>) : '';
        return `${e.instancePath || '/'}: ${e.message ?? 'invalid'}${extra}`;
      }),
    );
  }
  return { ...(data as CrmConfig), source: file };
}

function describeParams(p: Record<string, unknown>): string {
  if (typeof p.additionalProperty === 'string') return ` (${JSON.stringify(p.additionalProperty)})`;
  if (Array.isArray(p.allowedValues)) return ` (one of: ${p.allowedValues.join(', ')})`;
  if (typeof p.propertyName === 'string') return ` (${JSON.stringify(p.propertyName)})`;
  return '';
}
