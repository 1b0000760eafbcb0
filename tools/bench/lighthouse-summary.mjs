// One line of bench-lighthouse's table: of a page's Lighthouse reports (JSON), the run with
// the median performance score, its other scores, timings and what the page transferred.
import { readFileSync } from 'node:fs';

const [page, ...files] = process.argv.slice(2);
const reports = files.map((f) => JSON.parse(readFileSync(f, 'utf8')));
reports.sort((a, b) => a.categories.performance.score - b.categories.performance.score);
const r = reports[Math.floor((reports.length - 1) / 2)];

const score = (id) => Math.round((r.categories[id]?.score ?? 0) * 100);
const ms = (id) => Math.round(r.audits[id]?.numericValue ?? NaN);
const requests = r.audits['network-requests']?.details?.items ?? [];
const kb = (items) => Math.round(items.reduce((sum, i) => sum + (i.transferSize ?? 0), 0) / 1024);
const wasm = requests.filter((i) => new URL(i.url).pathname.endsWith('.wasm'));
const all = reports.map((x) => Math.round(x.categories.performance.score * 100)).join('/');

console.log(
  [
    page.padEnd(14),
    String(score('performance')).padStart(5),
    String(score('accessibility')).padStart(5),
    String(score('best-practices')).padStart(5),
    String(ms('first-contentful-paint')).padStart(8),
    String(ms('largest-contentful-paint')).padStart(8),
    String(ms('total-blocking-time')).padStart(7),
    (r.audits['cumulative-layout-shift']?.numericValue ?? NaN).toFixed(3).padStart(6),
    String(kb(requests)).padStart(9),
    String(kb(wasm)).padStart(8),
    `  (performance per run: ${all})`,
  ].join(' '),
);
// Anything that cost a point of accessibility or best practices, by its audit's title.
for (const id of ['accessibility', 'best-practices']) {
  for (const ref of r.categories[id]?.auditRefs ?? []) {
    const audit = r.audits[ref.id];
    if (ref.weight > 0 && audit && audit.score !== null && audit.score < 1) {
      console.log(`    ${id}: ${audit.title}`);
    }
  }
}
