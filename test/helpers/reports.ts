/** Notebooks and render helpers shared by the report tests. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store } from '../../src/store/db.js';
import { renderNotebook, type RenderNotebookResult } from '../../src/reports/notebook.js';
import type { Lang } from '../../src/reports/i18n.js';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const EXAMPLE_NOTEBOOK = path.join(REPO_ROOT, 'notebooks/example.md');

/** A pinned "generated" date so that renders are comparable. */
export const GENERATED_AT = new Date(Date.UTC(2025, 0, 5, 12));

/**
 * Hostile customer names everywhere a value can go: the title, prose, a chart's labels, title,
 * takeaway and tooltip data, a KPI card and a table.
 */
export const HOSTILE_NOTEBOOK = `# Biggest customer: {{top.name}}

The biggest customer is **{{top.name}}**.

\`\`\`sql top
SELECT c.name, sum(t.amount) AS revenue
FROM transactions t JOIN customers c USING (customer_id)
WHERE NOT t.is_return
GROUP BY c.name
ORDER BY revenue DESC
LIMIT 6
\`\`\`

\`\`\`vega-lite top-names
{
  "title": "Top: {{top.name}}",
  "takeaway": "{{top.name}} leads.",
  "data": {"name": "top"},
  "mark": {"type": "bar", "tooltip": true},
  "encoding": {
    "y": {"field": "name", "type": "nominal", "sort": "-x"},
    "x": {"field": "revenue", "type": "quantitative"}
  }
}
\`\`\`

\`\`\`kpi top
[{"value": "name", "label": "{{top.name}}"}]
\`\`\`

\`\`\`table top
\`\`\`
`;

export function writeNotebook(dir: string, name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

/** Render a notebook against a store file opened read-only for the occasion. */
export async function renderWithStore(
  storePath: string,
  notebook: string,
  outDir: string,
  lang: Lang = 'en',
): Promise<RenderNotebookResult> {
  const store = await Store.open(storePath, { readOnly: true });
  try {
    return await renderNotebook(notebook, { store, outDir, lang, now: GENERATED_AT });
  } finally {
    store.close();
  }
}
