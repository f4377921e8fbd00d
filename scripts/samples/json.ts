/**
 * data/json/: the same 20 order records as newline-delimited JSON and as one JSON array, as
 * web shops' and CRMs' APIs hand them out (camelCase keys, numbers as JSON numbers, dates as
 * ISO strings). One record is a return (order id `C…`, negative amount).
 */

export interface JsonRecord {
  customerId: string;
  orderId: string;
  date: string;
  amount: number;
}

export const JSON_RECORDS: readonly JsonRecord[] = [
  { customerId: 'C0000101', orderId: '1000101', date: '2024-03-01', amount: 59.9 },
  { customerId: 'C0000102', orderId: '1000102', date: '2024-03-01', amount: 249 },
  { customerId: 'C0000101', orderId: '1000103', date: '2024-03-04', amount: 18.5 },
  { customerId: 'C0000103', orderId: '1000104', date: '2024-03-05', amount: 1234.5 },
  { customerId: 'C0000104', orderId: '1000105', date: '2024-03-07', amount: 7.99 },
  { customerId: 'C0000105', orderId: '1000106', date: '2024-03-08', amount: 89 },
  { customerId: 'C0000102', orderId: '1000107', date: '2024-03-11', amount: 45.2 },
  { customerId: 'C0000106', orderId: '1000108', date: '2024-03-12', amount: 310 },
  { customerId: 'C0000107', orderId: '1000109', date: '2024-03-14', amount: 12.49 },
  { customerId: 'C0000102', orderId: 'C1000107', date: '2024-03-15', amount: -45.2 },
  { customerId: 'C0000108', orderId: '1000110', date: '2024-03-18', amount: 2599 },
  { customerId: 'C0000103', orderId: '1000111', date: '2024-03-19', amount: 640.75 },
  { customerId: 'C0000109', orderId: '1000112', date: '2024-03-21', amount: 33.3 },
  { customerId: 'C0000110', orderId: '1000113', date: '2024-03-22', amount: 149.99 },
  { customerId: 'C0000101', orderId: '1000114', date: '2024-03-25', amount: 72 },
  { customerId: 'C0000111', orderId: '1000115', date: '2024-03-26', amount: 5.49 },
  { customerId: 'C0000108', orderId: '1000116', date: '2024-03-27', amount: 980 },
  { customerId: 'C0000112', orderId: '1000117', date: '2024-03-28', amount: 64.8 },
  { customerId: 'C0000104', orderId: '1000118', date: '2024-03-29', amount: 23.97 },
  { customerId: 'C0000106', orderId: '1000119', date: '2024-03-31', amount: 415.6 },
];

export function ndjsonText(): string {
  return JSON_RECORDS.map((r) => JSON.stringify(r)).join('\n') + '\n';
}

export function jsonArrayText(): string {
  return JSON.stringify(JSON_RECORDS, null, 2) + '\n';
}
