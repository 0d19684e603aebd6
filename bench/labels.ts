/**
 * Label check cost, in memory: per item (canRead on a parsed label; visibleLabelIds + a Set lookup, which is what
 * a store query's `label_id IN (…)` does) and per listed page of 20, each against the same loop without labels.
 * Run: npx tsx bench/labels.ts (a few seconds). Figures are ratios to the baseline run side by side.
 */
import {
  canonicalLabel,
  canRead,
  parseCanonicalLabel,
  visibleLabelIds,
  type Clearance,
  type Label,
} from '../src/labels/index.js';
import { percentile } from './support.js';

const LEVELS = ['UNCLASSIFIED', 'CUI', 'CONFIDENTIAL', 'SECRET', 'TOP SECRET'];
const SCI = [[], ['SI'], ['TK'], ['SI', 'TK'], ['HCS'], ['SI-G-ABCD']];
const REL = [[], ['NOFORN'], 'REL TO USA, GBR', 'REL TO USA, FVEY', 'REL TO USA, AUS, NATO'];
const ACCESS = [undefined, 'A', 'A&(B|C)', 'X|Y'];

// A catalogue of distinct labels, as the label table would hold.
const catalog: { id: string; canonical: string }[] = [];
for (const level of LEVELS)
  for (const [si, sci] of SCI.entries())
    for (const rel of REL)
      for (const access of ACCESS) {
        if (level === 'UNCLASSIFIED' || level === 'CUI' ? si > 0 : false) continue;
        const label: Label = {
          level,
          compartments: sci,
          controls: Array.isArray(rel) ? rel : [],
          releasableTo: typeof rel === 'string' ? rel.slice(7).split(', ') : [],
          ...(access === undefined ? {} : { access }),
        };
        const canonical = canonicalLabel(label);
        catalog.push({ id: `lbl_${catalog.length}`, canonical });
      }

const ITEMS = 200_000;
let seed = 42;
const rand = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
const items = Array.from({ length: ITEMS }, (_, i) => ({
  id: i,
  tenant: rand(10) === 0 ? 'other' : 't',
  labelId: catalog[rand(catalog.length)]?.id ?? '',
}));
const labelById = new Map(catalog.map((e) => [e.id, parseCanonicalLabel(e.canonical)]));
const clearance: Clearance = {
  label: parseCanonicalLabel('TOP SECRET//SI/TK//NOFORN'),
  authorizations: ['A', 'B'],
};

function time(fn: () => number, runs = 9): number {
  const samples: number[] = [];
  let sink = 0;
  for (let r = 0; r < runs; r++) {
    const start = process.hrtime.bigint();
    sink += fn();
    samples.push(Number(process.hrtime.bigint() - start));
  }
  if (sink < 0) console.log(sink);
  return percentile(samples, 50);
}

const baseline = time(() => items.filter((i) => i.tenant === 't').length);
const perItemCanRead = time(
  () =>
    items.filter((i) => i.tenant === 't' && canRead(clearance, labelById.get(i.labelId) ?? clearance.label))
      .length,
);
const perItemVisible = time(() => {
  const visible = new Set(visibleLabelIds(catalog, clearance));
  return items.filter((i) => i.tenant === 't' && visible.has(i.labelId)).length;
});
const visibleOnce = time(() => visibleLabelIds(catalog, clearance).length, 51);

// A listed page: 20 items, with the visible set computed per request (no cache across requests).
const PAGE = 20;
const pageBaseline: number[] = [];
const pageLabels: number[] = [];
for (let p = 0; p < 2000; p++) {
  const slice = items.slice((p * PAGE) % (ITEMS - PAGE), ((p * PAGE) % (ITEMS - PAGE)) + PAGE);
  let t = process.hrtime.bigint();
  slice.filter((i) => i.tenant === 't');
  pageBaseline.push(Number(process.hrtime.bigint() - t));
  t = process.hrtime.bigint();
  const visible = new Set(visibleLabelIds(catalog, clearance));
  slice.filter((i) => i.tenant === 't' && visible.has(i.labelId));
  pageLabels.push(Number(process.hrtime.bigint() - t));
}

const ns = (total: number): string => (total / ITEMS).toFixed(1);
console.log(
  `catalogue ${catalog.length} labels, ${ITEMS} items, clearance ${canonicalLabel(clearance.label)}`,
);
console.log('| check | ns/item | ratio to baseline |');
console.log('|---|---:|---:|');
console.log(`| baseline (tenant filter only) | ${ns(baseline)} | 1.00 |`);
console.log(`| canRead per item | ${ns(perItemCanRead)} | ${(perItemCanRead / baseline).toFixed(2)} |`);
console.log(
  `| visibleLabelIds + Set lookup | ${ns(perItemVisible)} | ${(perItemVisible / baseline).toFixed(2)} |`,
);
console.log(
  `visibleLabelIds over the catalogue: p50 ${(visibleOnce / 1000).toFixed(1)} µs (${(visibleOnce / catalog.length).toFixed(0)} ns/label)`,
);
const b50 = percentile(pageBaseline, 50);
const l50 = percentile(pageLabels, 50);
console.log(
  `page of ${PAGE}: p50 baseline ${(b50 / 1000).toFixed(2)} µs, with labels ${(l50 / 1000).toFixed(2)} µs (ratio ${(l50 / b50).toFixed(1)})`,
);
