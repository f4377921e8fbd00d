/**
 * The values crm uses from @duckdb/node-api, loaded with `require`. Import them from here, not
 * from the package (types may still come from the package with `import type`).
 *
 * Why: the package is CommonJS, 120-odd files re-exported by its index. An ES `import` of it
 * makes Node scan each of those files for its export names first (cjs-module-lexer), and that
 * scan cost ~120 ms of CPU on every command, more than loading DuckDB's library itself;
 * `require` loads the same modules without it. (Measured on this 2-core machine: importing
 * the package 230–350 ms of CPU, requiring it 120–160 ms.)
 */
import { createRequire } from 'node:module';
import type * as DuckDB from '@duckdb/node-api';

const duckdb = createRequire(import.meta.url)('@duckdb/node-api') as typeof DuckDB;

export const DuckDBInstance = duckdb.DuckDBInstance;
export type DuckDBInstance = DuckDB.DuckDBInstance;
export const DuckDBConnection = duckdb.DuckDBConnection;
export type DuckDBConnection = DuckDB.DuckDBConnection;
export const DuckDBDataChunk = duckdb.DuckDBDataChunk;
export type DuckDBDataChunk = DuckDB.DuckDBDataChunk;
export const DuckDBTypeId = duckdb.DuckDBTypeId;
export type DuckDBTypeId = DuckDB.DuckDBTypeId;
export const StatementType = duckdb.StatementType;
export type StatementType = DuckDB.StatementType;
export const DOUBLE = duckdb.DOUBLE;
export const VARCHAR = duckdb.VARCHAR;
export const LIST = duckdb.LIST;
export const listValue = duckdb.listValue;
