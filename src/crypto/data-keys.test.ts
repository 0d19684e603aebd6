import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cryptoFixture, type CryptoFixture } from '../../test/support/crypto-fixture.js';
import type { DataKeyRepo } from '../store/repos/data-key-repo.js';
import { DataKeys } from './data-keys.js';

let f: CryptoFixture;
beforeAll(async () => {
  f = await cryptoFixture();
});
afterAll(async () => f.close());

/** The fixture's repo, counting how many data keys are generated and inserted through it. */
const counting = (repo: DataKeyRepo): { repo: DataKeyRepo; inserts: () => number } => {
  let inserts = 0;
  return {
    repo: {
      ...repo,
      insertOrGet: (record) => {
        inserts++;
        return repo.insertOrGet(record);
      },
    },
    inserts: () => inserts,
  };
};

describe('DataKeys.forWriting', () => {
  it('makes one key for concurrent first writes of a scope, and every writer seals with it', async () => {
    const { repo, inserts } = counting(f.store.dataKeys);
    const keys = new DataKeys({ repo, provider: f.provider, audit: f.audit });
    const writers = await Promise.all(
      Array.from({ length: 5 }, () => keys.forWriting('t1', 'response:resp_race')),
    );
    expect(inserts()).toBe(1);
    expect(new Set(writers.map((w) => w.id)).size).toBe(1);
    expect(writers.every((w) => w.key.equals(writers[0]!.key))).toBe(true);
    expect(await f.store.dataKeys.listScope('t1', 'response:resp_race')).toHaveLength(1);
    // Another scope is another key; a later write reuses the first without a query or an insert.
    const other = await keys.forWriting('t1', 'response:resp_other');
    expect(other.id).not.toBe(writers[0]!.id);
    expect((await keys.forWriting('t1', 'response:resp_race')).id).toBe(writers[0]!.id);
    expect(inserts()).toBe(2);
  });

  it('shares a key made in a transaction only after publish, and a failed creation is not remembered', async () => {
    const { repo, inserts } = counting(f.store.dataKeys);
    const keys = new DataKeys({ repo, provider: f.provider, audit: f.audit });
    const view = keys.withinTransaction(counting(f.store.dataKeys).repo);
    const [a, b] = await Promise.all([
      view.keys.forWriting('t1', 'response:resp_tx'),
      view.keys.forWriting('t1', 'response:resp_tx'),
    ]);
    expect(a.id).toBe(b.id);
    view.publish();
    expect((await keys.forWriting('t1', 'response:resp_tx')).id).toBe(a.id);
    expect(inserts()).toBe(0);

    const broken = new DataKeys({
      repo: { ...f.store.dataKeys, insertOrGet: () => Promise.reject(new Error('disk full')) },
      provider: f.provider,
      audit: f.audit,
    });
    const failed = await Promise.allSettled([
      broken.forWriting('t1', 'response:resp_fail'),
      broken.forWriting('t1', 'response:resp_fail'),
    ]);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    await expect(broken.forWriting('t1', 'response:resp_fail')).rejects.toThrow('disk full');
  });
});
