import { expect, it } from 'vitest';
import { recordVerdict } from '../../src/safety/review/review-queue.js';
import type { Verdict } from '../../src/safety/verdict.js';
import { describeStore, uniqueId } from '../support/stores.js';

const flagged: Verdict = {
  flagged: true,
  score: 0.8,
  categories: [{ category: 'violence', score: 0.8, layer: 'model' }],
  action: 'flag',
  policyVersion: 'default/1',
  modelVersion: 'linear-test',
};

describeStore('store contract: review queue paging and requester', (store) => {
  it('pages the queue by (created_at, id) after a cursor and keeps who sent each text', async () => {
    const t = uniqueId('t');
    const ids: string[] = [];
    for (const [i, now] of [10, 20, 20, 30].entries()) {
      const { reviewId } = await recordVerdict(store().safety, {
        tenantId: t,
        surface: 'input',
        text: `text ${i}`,
        verdict: flagged,
        requester: `key_${i}`,
        now,
      });
      ids.push(reviewId!);
    }
    const all = await store().safety.listReviews(t);
    expect(all.map((r) => r.requester)).toEqual(expect.arrayContaining(['key_0', 'key_1', 'key_2', 'key_3']));
    const order = all.map((r) => r.id);
    for (let i = 0; i < order.length; i++) {
      const at = all[i]!;
      const rest = await store().safety.listReviews(t, { after: { createdAt: at.createdAt, id: at.id } });
      expect(rest.map((r) => r.id)).toEqual(order.slice(i + 1));
    }
    expect(await store().safety.listReviews(t, { limit: 2 })).toHaveLength(2);
  });
});
