import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dedupeHeaders, detectEncoding, detectFormat, firstInvalidUtf8, sniffCsv } from '../../src/ingest/detect.js';
import { scanCsvRecords } from '../../src/ingest/file-scan.js';
import { tempDir } from '../helpers/cli.js';

describe('CSV dialect', () => {
  it('detects ; with decimal commas, skipping a title line', () => {
    const d = sniffCsv('Sales report 2024\nInvoice;Customer ID;Amount\n1;A;1,50\n2;B;"3;5"\n', 'f.csv');
    expect(d).toMatchObject({ delimiter: ';', headerRecord: 2, headers: ['Invoice', 'Customer ID', 'Amount'] });
  });

  it('detects tabs and pipes, and honours quotes with embedded delimiters and newlines', () => {
    expect(sniffCsv('a\tb\tc\n1\t2\t3\n', 'f').delimiter).toBe('\t');
    expect(sniffCsv('a|b\n1|2\n3|4\n', 'f').delimiter).toBe('|');
    const d = sniffCsv('id,note,amount\n1,"x, y",2\n2,"multi\nline",3\n', 'f');
    expect(d).toMatchObject({ delimiter: ',', headerRecord: 1, headers: ['id', 'note', 'amount'] });
  });

  it('names empty and repeated headers', () => {
    expect(dedupeHeaders(['a', '', 'a', 'b', 'a'])).toEqual(['a', 'column_2', 'a_2', 'b', 'a_3']);
  });

  it('honours --delimiter', () => {
    expect(sniffCsv('a,b;c\n1,2;3\n', 'f', ';').headers).toEqual(['a,b', 'c']);
    expect(sniffCsv('a\tb\n1\t2\n', 'f', 'tab').delimiter).toBe('\t');
  });
});

describe('format and encoding', () => {
  it('detects by magic bytes, then extension', () => {
    expect(detectFormat('x.dat', Buffer.from('PK\x03\x04rest'))).toBe('xlsx');
    expect(detectFormat('x.dat', Buffer.from('PAR1....'))).toBe('parquet');
    expect(detectFormat('x.dat', Buffer.from(' [{"a":1}]'))).toBe('json');
    expect(detectFormat('x.dat', Buffer.from('{"a":1}\n{"a":2}'))).toBe('ndjson');
    expect(detectFormat('x.tsv', Buffer.from('a\tb'))).toBe('tsv');
    expect(detectFormat('x.txt', Buffer.from('a,b'))).toBe('csv');
    expect(() => detectFormat('old.xls', Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1]))).toThrow(/legacy Excel 97-2003/);
  });

  it('finds invalid UTF-8 and suggests GB18030 for Chinese bytes', () => {
    expect(firstInvalidUtf8(Buffer.from('héllo 客户', 'utf8'))).toBe(-1);
    // 客户 in GB18030 is C7 CD BB A7
    const gb = Buffer.from([0x61, 0x2c, 0xc7, 0xcd, 0xbb, 0xa7, 0x0a]);
    expect(firstInvalidUtf8(gb)).toBe(2);
    expect(() => detectEncoding('zh.csv', gb)).toThrow(/line 1 is not valid UTF-8/);
    try {
      detectEncoding('zh.csv', gb);
    } catch (err) {
      expect((err as { details: string[] }).details[0]).toMatch(/--encoding gb18030/);
    }
    expect(detectEncoding('x', Buffer.from([0xff, 0xfe, 0x61, 0]))).toEqual({ encoding: 'utf-16le', bomBytes: 2 });
    expect(detectEncoding('x', gb, 'gbk')).toEqual({ encoding: 'gb18030', bomBytes: 0 });
  });
});

describe('record scan', () => {
  it('counts records like DuckDB: blank lines are records, quoted newlines are not', async () => {
    const dir = tempDir();
    const f = path.join(dir, 'x.csv');
    fs.writeFileSync(f, 'id,name\r\n1,a\r\n\r\n2,"b\r\nmulti"\r\n\n3,c');
    expect(await scanCsvRecords(f, '"', false)).toEqual({ records: 6, blank: [3, 5] });
    fs.writeFileSync(f, 'id,name\n1,a\n\n');
    expect(await scanCsvRecords(f, '"', false)).toEqual({ records: 3, blank: [3] });
  });
});
