// node harness.mjs DISTDIR STORE [n]
import path from 'node:path';
const [dist, db, nArg] = process.argv.slice(2);
const imp = (p) => import(path.resolve(dist, p));
const { Store } = await imp('src/store/db.js');
const { prepareContracts, writeContracts, lastDataDate } = await imp('src/run/contracts.js');
const { DEFAULT_SETTINGS } = await imp('src/models/settings.js');
const { createProgress } = await imp('src/util/progress.js');
const store = await Store.open(db, { memoryLimit: process.env.ML ?? "1.5GB" });
const asOf = (await lastDataDate(store)).date;
for (let i = 0; i < Number(nArg ?? 1); i++) {
  const timings = {};
  const timed = async (name, fn) => { const t0 = performance.now(); try { return await fn(); } finally { timings[name] = Math.round(performance.now() - t0); } };
  const t0 = performance.now();
  let rows;
  try {
    await store.transaction(async () => {
      const prepared = await prepareContracts({ store, asOf, holdoutEnd: null, settings: DEFAULT_SETTINGS, progress: createProgress({ quiet: true }), timed });
      const rep = await writeContracts(prepared, 9999);
      rows = JSON.stringify(rep.summary);
      throw new Error('rollback');
    });
  } catch (e) { if (e.message !== 'rollback') throw e; }
  const total = Object.values(timings).reduce((a, b) => a + b, 0);
  console.log(JSON.stringify({ dist, total, ...timings }));
  if (process.env.SHOW) console.log(rows);
}
store.close();
