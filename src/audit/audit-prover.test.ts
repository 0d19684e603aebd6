import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/store.js';
import { createAuditProver } from './audit-prover.js';
import { newSigningKey, sampleEntry, tempStore } from './audit-test-support.js';
import { createStoreAuditLog } from './store-audit-log.js';
import { verifyConsistency, verifyInclusion } from './merkle-verify.js';

const hex = (value: string): Buffer => Buffer.from(value, 'hex');

describe('audit prover over the store', () => {
  let store: Store;
  let cleanup = async (): Promise<void> => undefined;
  const roots = new Map<number, string>();
  const leaves: string[] = [];

  beforeAll(async () => {
    const t = await tempStore();
    store = t.store;
    cleanup = t.cleanup;
    const log = createStoreAuditLog({ store, signingKey: newSigningKey() });
    // Past 2 * 1024 leaves, so cached perfect subtrees are exercised.
    for (const size of [1, 5, 1024, 1500, 2100]) {
      const receipts = await Promise.all(
        Array.from({ length: size - leaves.length }, (_, i) => log.append(sampleEntry(leaves.length + i))),
      );
      leaves.push(...receipts.map((r) => r.leafHash));
      roots.set(size, (await log.checkpoint()).rootHash);
    }
    await log.close();
  }, 60_000);
  afterAll(() => cleanup());

  it('proves inclusion against checkpoint roots, and a proof fails for another leaf', async () => {
    const prover = createAuditProver(store.audit);
    for (const [size, root] of roots) {
      for (const index of [0, Math.floor(size / 2), size - 1]) {
        const p = await prover.inclusionProof(index, size);
        expect(p.rootHash).toBe(root);
        expect(p.leafHash).toBe(leaves[index]);
        expect(verifyInclusion(index, size, hex(p.leafHash), p.proof.map(hex), hex(root))).toBeUndefined();
        const other = leaves[(index + 1) % size] ?? '';
        if (size > 1)
          expect(verifyInclusion(index, size, hex(other), p.proof.map(hex), hex(root))).toBeDefined();
      }
    }
  });

  it('proves consistency between checkpoints', async () => {
    const prover = createAuditProver(store.audit);
    const sizes = [...roots.keys()];
    for (const from of sizes) {
      for (const to of sizes.filter((s) => s >= from)) {
        const p = await prover.consistencyProof(from, to);
        expect([p.fromRoot, p.toRoot]).toEqual([roots.get(from), roots.get(to)]);
        expect(verifyConsistency(from, to, p.proof.map(hex), hex(p.fromRoot), hex(p.toRoot))).toBeUndefined();
      }
    }
    expect((await prover.latestCheckpoint())?.treeSize).toBe(2100);
  });

  it('refuses sizes beyond the log and bad ranges', async () => {
    const prover = createAuditProver(store.audit);
    await expect(prover.inclusionProof(0, 5000)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(prover.inclusionProof(10, 10)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(prover.consistencyProof(0, 10)).rejects.toMatchObject({ code: 'invalid_request' });
    await expect(prover.consistencyProof(20, 10)).rejects.toMatchObject({ code: 'invalid_request' });
  });
});
