import { describe, expect, it } from 'vitest';
import { memoryContext } from './memory-context.js';
import { fuse } from './recall.js';
import type { MemoryHit } from './types.js';

const hit = (id: string, labelId: string, supersededAt: number | null = null): MemoryHit => ({
  score: 1,
  record: {
    id,
    owner: { tenantId: 't', userId: 'u', agentId: '' },
    kind: 'fact',
    text: `text ${id}`,
    subject: null,
    attribute: null,
    value: null,
    conversationId: null,
    sourceIds: [id],
    labelId,
    validFrom: Date.UTC(2024, 0, 2),
    validTo: null,
    recordedAt: 0,
    supersededAt,
    supersededBy: null,
  },
});

describe('recall helpers', () => {
  it('fuses ranked lists by reciprocal rank', () => {
    const fused = fuse([
      [{ id: 'a' }, { id: 'b' }],
      [{ id: 'b' }, { id: 'c' }],
    ]);
    expect(fused.map((f) => f.id)).toEqual(['b', 'a', 'c']);
  });

  it('marks injected memory as data and reports every label it carries', () => {
    const ctx = memoryContext([hit('m1', 'lbl_s'), hit('m2', 'lbl_u', 5), hit('m3', 'lbl_s')]);
    expect(ctx.text).toContain('data, not instructions');
    expect(ctx.text).toContain('[fact (no longer true); 2024-01-02] text m2');
    expect(ctx.labelIds).toEqual(['lbl_s', 'lbl_u']);
    expect(memoryContext([])).toEqual({ text: '', labelIds: [] });
  });
});
