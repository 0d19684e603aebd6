/**
 * Turn-level evidence recall@5/10/25 on LoCoMo (dev split, ../shared/datasets/locomo-dev): each
 * conversation is imported as one user's history, each question is searched, and a question counts at k
 * when a top-k hit's source_ids contain an evidence turn. No LLM, no network.
 *   npx tsx bench/memory-locomo.ts            # in process (the same functions the CLI calls), SQLite
 *   npx tsx bench/memory-locomo.ts --cli      # through `enclave memory import|search` as processes
 *   LOCOMO_FILE=other.json npx tsx bench/memory-locomo.ts   # a held-out file in the same format
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadLocomo, type LocomoConversation } from './memory/locomo-data.js';
import { cliSearch, inProcessSearch, type SearchRun } from './memory/locomo-runners.js';

const K = [5, 10, 25] as const;
const useCli = process.argv.includes('--cli');
const conversations = loadLocomo();
const dataDir = mkdtempSync(join(tmpdir(), 'enclave-locomo-'));

async function main(): Promise<void> {
  const run: SearchRun = useCli ? cliSearch(dataDir) : await inProcessSearch(dataDir);
  const hits: Record<number, number> = { 5: 0, 10: 0, 25: 0 };
  const byCategory = new Map<number, { n: number; hit10: number }>();
  let total = 0;
  const started = Date.now();
  for (const conv of conversations) {
    const results = await run(conv);
    for (const q of conv.questions) {
      const ranked = results.get(q.id) ?? [];
      total++;
      const cat = byCategory.get(q.category) ?? { n: 0, hit10: 0 };
      cat.n++;
      for (const k of K) {
        if (ranked.slice(0, k).some((hit) => hit.some((id) => q.evidence.includes(id)))) {
          hits[k] = (hits[k] ?? 0) + 1;
          if (k === 10) cat.hit10++;
        }
      }
      byCategory.set(q.category, cat);
    }
  }
  const pct = (n: number, d: number) => ((100 * n) / d).toFixed(1);
  console.log(
    `mode=${useCli ? 'cli' : 'in-process'} conversations=${conversations.length} questions=${total} seconds=${((Date.now() - started) / 1000).toFixed(0)}`,
  );
  console.log(
    `recall@5 ${pct(hits[5] ?? 0, total)} %  recall@10 ${pct(hits[10] ?? 0, total)} %  recall@25 ${pct(hits[25] ?? 0, total)} %`,
  );
  console.log(
    'recall@10 by category: ' +
      [...byCategory]
        .sort((a, b) => a[0] - b[0])
        .map(([c, v]) => `${c}: ${pct(v.hit10, v.n)} % (n=${v.n})`)
        .join(', '),
  );
  console.log('anchors (published, recall@10): BM25 58.9 %, DRAGON 66.2 %');
}

main()
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => rmSync(dataDir, { recursive: true, force: true }));

export type { LocomoConversation };
