import { DuckDBInstance, listValue, LIST, DOUBLE, VARCHAR } from '@duckdb/node-api';
const db = await DuckDBInstance.create(':memory:');
const c = await db.connect();
await c.run(`CREATE TABLE b AS SELECT i AS id, (random()*1000)::INT AS recency_days, (random()*20)::INT AS frequency, random()*5000 AS monetary FROM range(2500000) t(i)`);
const t = async (label, sql, params, types) => { const t0 = performance.now(); const r = await c.runAndReadAll(sql, params, types); console.log(label, Math.round(performance.now()-t0), JSON.stringify(r.getRowObjectsJson()[0])); };
const cuts = [1.5, 3, 7, 12];
const P = {c: listValue(cuts)}, T = {c: LIST(DOUBLE)};
for (let rep = 0; rep < 2; rep++) {
await t('base', `CREATE OR REPLACE TEMP TABLE x AS SELECT id, frequency AS f FROM b`);
await t('consts', `CREATE OR REPLACE TEMP TABLE x AS SELECT id, CAST(1 + (frequency > 1.5)::INT + (frequency > 3)::INT + (frequency > 7)::INT + (frequency > 12)::INT AS TINYINT) AS f FROM b`);
await t('lambda', `CREATE OR REPLACE TEMP TABLE x AS SELECT id, CAST(1 + len(list_filter($c, c -> frequency > c)) AS TINYINT) AS f FROM b`, P, T);
await t('idx9', `CREATE OR REPLACE TEMP TABLE x AS SELECT id, CAST(1 + ${[1,2,3,4,5,6,7,8,9].map(k=>`coalesce(frequency > $c[${k}], false)::INT`).join(' + ')} AS TINYINT) AS f FROM b`, P, T);
await t('join', `CREATE OR REPLACE TEMP TABLE x AS WITH s AS (SELECT frequency, CAST(1 + len(list_filter($c, c -> frequency > c)) AS TINYINT) AS f FROM (SELECT DISTINCT frequency FROM b)) SELECT id, s.f FROM b JOIN s USING (frequency)`, P, T);
await t('asof', `CREATE OR REPLACE TEMP TABLE x AS WITH cuts AS (SELECT unnest(list_prepend(-1e308, $c)) AS cut, generate_subscripts(list_prepend(-1e308, $c), 1) AS score) SELECT id, CAST(s.score AS TINYINT) AS f FROM b ASOF JOIN cuts s ON b.frequency > s.cut`, P, T);
}
