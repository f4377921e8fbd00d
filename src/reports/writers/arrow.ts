/**
 * Apache Arrow IPC *file* writer (the random-access format `tableToIPC(table, 'file')`
 * produces, readable by `tableFromIPC`, pyarrow.feather / pyarrow.ipc.open_file, polars, R).
 * Rows are written as record batches of up to BATCH_ROWS rows straight to disk, so memory
 * is bounded by one batch rather than the whole table.
 *
 * The writer's output goes through a sink that writes each IPC message synchronously to the
 * file descriptor. arrow-js's own Node-stream adapter would need backpressure handling and,
 * when an export is aborted, rejects an internal read nobody awaits (an unhandled rejection).
 *
 * Types: text → Utf8, boolean → Bool, integers up to 32 bit → Int32, BIGINT → Int64,
 * DOUBLE/FLOAT → Float64, DATE → Date (days), TIMESTAMP → Timestamp(µs), TIMESTAMPTZ →
 * Timestamp(µs, "UTC"). DECIMAL and 128-bit / unsigned 64-bit integers become Float64: Arrow JS
 * has no practical Decimal builder and every consumer reads Float64.
 */
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import {
  AsyncByteQueue,
  Bool,
  DateDay,
  Field,
  Float64,
  Int32,
  Int64,
  RecordBatch,
  RecordBatchFileWriter,
  Schema,
  Struct,
  TimestampMicrosecond,
  Utf8,
  makeBuilder,
  makeData,
  type Data,
  type DataType,
} from 'apache-arrow';
import type { DuckDBValue } from '@duckdb/node-api';
import {
  dateDays,
  decimalToNumber,
  timestampMicros,
  type BatchWriter,
  type ColumnBatch,
  type OutputColumn,
  type ValueKind,
} from './types.js';

/** Rows per record batch: big enough for efficient columnar reads, small enough to bound memory. */
const BATCH_ROWS = 65_536;

function arrowType(kind: ValueKind): DataType {
  switch (kind) {
    case 'text':
      return new Utf8();
    case 'bool':
      return new Bool();
    case 'int':
      return new Int32();
    case 'bigint':
      return new Int64();
    case 'hugeint':
    case 'float':
    case 'decimal':
      return new Float64();
    case 'date':
      return new DateDay();
    case 'timestamp':
      return new TimestampMicrosecond();
    case 'timestamptz':
      return new TimestampMicrosecond('UTC');
  }
}

/** Arrow validity bitmap (bit set = value present, least significant bit first). */
function validityOf(values: readonly DuckDBValue[]): { bitmap: Uint8Array; nulls: number } {
  const bitmap = new Uint8Array(Math.ceil(values.length / 8));
  let nulls = 0;
  for (let i = 0; i < values.length; i++) {
    if (values[i] === null || values[i] === undefined) nulls++;
    else bitmap[i >> 3] |= 1 << (i & 7);
  }
  return { bitmap, nulls };
}

function fixedWidthData<T extends DataType>(
  type: T,
  values: readonly DuckDBValue[],
  array: Int32Array | BigInt64Array | Float64Array,
  set: (i: number, v: DuckDBValue) => void,
): Data<T> {
  const { bitmap, nulls } = validityOf(values);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) set(i, v);
  }
  return makeData({
    type: type as DataType,
    length: values.length,
    nullCount: nulls,
    nullBitmap: nulls > 0 ? bitmap : undefined,
    data: array,
  } as never) as Data<T>;
}

function columnData(kind: ValueKind, type: DataType, values: readonly DuckDBValue[]): Data {
  const n = values.length;
  switch (kind) {
    case 'text':
    case 'bool': {
      const builder = makeBuilder({ type, nullValues: [null, undefined] });
      for (const v of values) builder.append(v as never);
      return builder.finish().flush();
    }
    case 'int': {
      const a = new Int32Array(n);
      return fixedWidthData(type, values, a, (i, v) => (a[i] = v as number));
    }
    case 'bigint': {
      const a = new BigInt64Array(n);
      return fixedWidthData(type, values, a, (i, v) => (a[i] = v as bigint));
    }
    case 'hugeint': {
      const a = new Float64Array(n);
      return fixedWidthData(type, values, a, (i, v) => (a[i] = Number(v as bigint)));
    }
    case 'float': {
      const a = new Float64Array(n);
      return fixedWidthData(type, values, a, (i, v) => (a[i] = v as number));
    }
    case 'decimal': {
      const a = new Float64Array(n);
      return fixedWidthData(type, values, a, (i, v) => (a[i] = decimalToNumber(v)));
    }
    case 'date': {
      const a = new Int32Array(n);
      return fixedWidthData(type, values, a, (i, v) => (a[i] = dateDays(v)));
    }
    case 'timestamp':
    case 'timestamptz': {
      const a = new BigInt64Array(n);
      return fixedWidthData(type, values, a, (i, v) => (a[i] = timestampMicros(v)));
    }
  }
}

/** An arrow-js byte sink that writes straight to a file instead of queueing the bytes. */
class FileSink extends AsyncByteQueue {
  constructor(private readonly fd: number) {
    super();
  }

  override write(value: Uint8Array): void {
    let offset = 0;
    while (offset < value.byteLength) offset += fs.writeSync(this.fd, value, offset, value.byteLength - offset);
  }
}

export async function openArrowWriter(file: string, columns: OutputColumn[]): Promise<BatchWriter> {
  const handle = await fsp.open(file, 'wx');
  const types = columns.map((c) => arrowType(c.kind));
  const schema = new Schema(columns.map((c, i) => new Field(c.name, types[i], true)));
  const writer = new RecordBatchFileWriter();
  // Writes the schema now, so that a result with no rows is still a valid, typed Arrow file.
  writer.reset(new FileSink(handle.fd), schema);

  let pending: DuckDBValue[][] = columns.map(() => []);
  let pendingRows = 0;
  let closed = false;

  const flushBatch = () => {
    if (pendingRows === 0) return;
    const children = columns.map((c, i) => columnData(c.kind, types[i], pending[i]));
    const data = makeData({ type: new Struct(schema.fields), length: pendingRows, nullCount: 0, children });
    writer.write(new RecordBatch(schema, data));
    pending = columns.map(() => []);
    pendingRows = 0;
  };

  return {
    warnings: [],
    async write(batch: ColumnBatch) {
      for (let c = 0; c < columns.length; c++) {
        const target = pending[c];
        for (const v of batch.columns[c]) target.push(v);
      }
      pendingRows += batch.rowCount;
      if (pendingRows >= BATCH_ROWS) flushBatch();
    },
    async finish() {
      flushBatch();
      writer.finish(); // writes the footer through the sink
      closed = true;
      await handle.close();
    },
    async abort() {
      if (closed) return;
      closed = true;
      await handle.close().catch(() => undefined);
    },
  };
}
