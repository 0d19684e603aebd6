import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newSigningKey, sampleEntry, tempStore } from './audit-test-support.js';
import { signCheckpoint } from './checkpoint.js';
import { exportLog } from './export-log.js';
import { createStoreAuditLog } from './store-audit-log.js';
import { verifyExport } from './verify-export.js';

describe('verifyExport (offline, no database)', () => {
  const key = newSigningKey();
  let dir = '';
  let cleanup = async (): Promise<void> => undefined;
  const lines: string[] = [];
  let checkpointText = '';

  beforeAll(async () => {
    const t = await tempStore();
    dir = t.dir;
    cleanup = t.cleanup;
    const log = createStoreAuditLog({ store: t.store, signingKey: key });
    await Promise.all(Array.from({ length: 8 }, (_, i) => log.append(sampleEntry(i))));
    const early = await log.checkpoint();
    await Promise.all(Array.from({ length: 4 }, (_, i) => log.append(sampleEntry(8 + i))));
    const late = await log.checkpoint();
    await log.close();
    for await (const line of exportLog(t.store.audit)) lines.push(line);
    checkpointText = [early, late].map((c) => JSON.stringify(c)).join('\n');
  });
  afterAll(() => cleanup());

  async function check(exported: string[], checkpoints = checkpointText, publicKey = key.publicKey) {
    writeFileSync(join(dir, 'export.jsonl'), exported.join('\n') + '\n');
    writeFileSync(join(dir, 'checkpoint.json'), checkpoints);
    return verifyExport(join(dir, 'export.jsonl'), join(dir, 'checkpoint.json'), publicKey);
  }

  it('accepts an intact export against its checkpoints (JSONL, single object or array)', async () => {
    expect(lines).toHaveLength(12);
    expect(JSON.parse(lines[0] ?? '')).toMatchObject({ index: 0, entry: { type: 'memory.write' } });
    expect(await check(lines)).toEqual({ ok: true, entries: 12, checkpoints: 2 });
    const single = checkpointText.split('\n')[1] ?? '';
    expect(await check(lines, single)).toEqual({ ok: true, entries: 12, checkpoints: 1 });
    expect(await check(lines, `[${checkpointText.split('\n').join(',')}]`)).toMatchObject({
      ok: true,
      checkpoints: 2,
    });
  });

  it('names the first bad index of a modified, deleted or reordered line', async () => {
    const modified = [...lines];
    modified[4] = (modified[4] ?? '').replace('"key_4"', '"key_5"');
    expect(await check(modified)).toMatchObject({ ok: false, firstBadIndex: 4 });
    expect(await check(lines.filter((_, i) => i !== 6))).toMatchObject({ ok: false, firstBadIndex: 6 });
    const swapped = [...lines];
    [swapped[2], swapped[3]] = [lines[3] ?? '', lines[2] ?? ''];
    expect(await check(swapped)).toMatchObject({ ok: false, firstBadIndex: 2 });
    const reindexed = lines.map((l, i) => (i === 9 ? l.replace('"index":9', '"index":10') : l));
    expect(await check(reindexed)).toMatchObject({ ok: false, firstBadIndex: 9 });
    expect(await check(lines.slice(0, 10))).toMatchObject({ ok: false, firstBadIndex: 10 });
  });

  it('treats a re-serialized (non-canonical) but equal entry as intact', async () => {
    const pretty = lines.map((l) =>
      JSON.stringify(JSON.parse(l) as unknown, null, 0).replace('{"entry":', '{ "entry" : '),
    );
    expect(await check(pretty)).toMatchObject({ ok: true });
  });

  it('rejects forged checkpoints and a wrong public key', async () => {
    const [early] = checkpointText.split('\n');
    const real = JSON.parse(early ?? '') as { treeSize: number; rootHash: string; time: number };
    const forged = { ...real, rootHash: 'cd'.repeat(32) };
    expect(await check(lines, JSON.stringify(forged))).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/bad signature/) as unknown,
    });
    // A checkpoint properly signed by another key that claims our key id.
    const other = newSigningKey();
    const foreign = { ...signCheckpoint(other, real), keyId: key.keyId };
    expect(await check(lines, JSON.stringify(foreign))).toMatchObject({ ok: false });
    expect(await check(lines, checkpointText, newSigningKey().publicKey)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/unknown key/) as unknown,
    });
    expect(readFileSync(join(dir, 'export.jsonl'), 'utf8')).toContain('"index":0');
  });
});
