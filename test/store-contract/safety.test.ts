import { expect, it } from 'vitest';
import { decideReview, recordVerdict, reviewedTrainingRows } from '../../src/safety/review/review-queue.js';
import type { Verdict } from '../../src/safety/verdict.js';
import { describeStore, uniqueId } from '../support/stores.js';

const verdict = (over: Partial<Verdict> = {}): Verdict => ({
  flagged: true,
  score: 0.91,
  categories: [{ category: 'automated_decisions', score: 0.91, layer: 'model' }],
  action: 'escalate',
  policyVersion: 'default/1',
  modelVersion: 'linear-test',
  ...over,
});

describeStore('store contract: safety verdicts and review queue', (store) => {
  it('records every verdict and queues only those needing a human', async () => {
    const t = uniqueId('t');
    const held = await recordVerdict(store().safety, {
      tenantId: t,
      surface: 'input',
      text: 'decide parole alone',
      verdict: verdict(),
      now: 10,
    });
    const allowed = await recordVerdict(store().safety, {
      tenantId: t,
      surface: 'input',
      text: 'hello',
      verdict: verdict({ flagged: false, score: 0.01, categories: [], action: 'allow' }),
      now: 11,
    });
    expect(held.reviewId).not.toBeNull();
    expect(allowed.reviewId).toBeNull();
    const v = await store().safety.verdictById(t, held.verdictId);
    expect(v).toMatchObject({
      action: 'escalate',
      flagged: true,
      score: 0.91,
      policyVersion: 'default/1',
      createdAt: 10,
    });
    expect(v?.categories).toEqual(verdict().categories);
    expect(v?.textSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await store().safety.verdictById('other', held.verdictId)).toBeUndefined();
    const queue = await store().safety.listReviews(t, { status: 'pending' });
    expect(queue.map((q) => q.id)).toEqual([held.reviewId]);
    expect(queue[0]).toMatchObject({
      text: 'decide parole alone',
      categories: ['automated_decisions'],
      status: 'pending',
    });
    expect(await store().safety.listReviews('other-tenant')).toEqual([]);
  });

  it('lets the first reviewer decide and refuses a second decision', async () => {
    const t = uniqueId('t');
    const { reviewId } = await recordVerdict(store().safety, {
      tenantId: t,
      surface: 'input',
      text: 'how do I kill a python process',
      verdict: verdict({
        categories: [{ category: 'violence', score: 0.6, layer: 'model' }],
        action: 'block',
      }),
    });
    const decided = await decideReview(store().safety, t, reviewId ?? '', {
      decision: 'correct',
      categories: [],
      reviewer: 'rev1',
      now: 50,
    });
    expect(decided).toMatchObject({
      status: 'corrected',
      decisionCategories: [],
      reviewer: 'rev1',
      decidedAt: 50,
    });
    await expect(
      decideReview(store().safety, t, reviewId ?? '', { decision: 'confirm', reviewer: 'rev2' }),
    ).rejects.toMatchObject({ code: 'conflict' });
    await expect(
      decideReview(store().safety, 'other', reviewId ?? '', { decision: 'confirm', reviewer: 'x' }),
    ).rejects.toMatchObject({ code: 'not_found' });
    await expect(
      decideReview(store().safety, t, reviewId ?? '', {
        decision: 'correct',
        categories: ['nonsense'],
        reviewer: 'x',
      }),
    ).rejects.toMatchObject({ code: 'invalid_request' });
  });

  it('filters the queue by visible labels and turns decisions into training rows', async () => {
    const t = uniqueId('t');
    const secret = await recordVerdict(store().safety, {
      tenantId: t,
      surface: 'output',
      text: 'labelled text',
      verdict: verdict(),
      labelId: 'lbl_secret',
      now: 1,
    });
    const open = await recordVerdict(store().safety, {
      tenantId: t,
      surface: 'input',
      text: 'open text',
      verdict: verdict(),
      now: 2,
    });
    // Fail-closed: an unlabelled item is listed only without a label filter (the store's own callers).
    expect(await store().safety.listReviews(t, { labelIds: [] })).toEqual([]);
    expect((await store().safety.listReviews(t, { labelIds: ['lbl_secret'] })).map((r) => r.id)).toEqual([
      secret.reviewId,
    ]);
    expect((await store().safety.listReviews(t)).map((r) => r.id)).toEqual([secret.reviewId, open.reviewId]);
    await decideReview(store().safety, t, secret.reviewId ?? '', {
      decision: 'confirm',
      reviewer: 'r',
      now: 5_000_000_000_000,
    });
    await decideReview(store().safety, t, open.reviewId ?? '', {
      decision: 'correct',
      categories: ['mass_surveillance'],
      reviewer: 'r',
      now: 5_000_000_000_001,
    });
    const rows = await reviewedTrainingRows(store().safety, 5_000_000_000_000);
    expect(rows.map((r) => [r.text, r.label, r.categories, r.surface])).toEqual([
      ['labelled text', 1, ['automated_decisions'], 'output'],
      ['open text', 1, ['mass_surveillance'], 'input'],
    ]);
  });
});
