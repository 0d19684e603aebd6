import { describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';

const lines = (stdout: string) =>
  stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe('enclave safety classify (the CONTRACT.md JSONL shape)', () => {
  const input = [
    { id: 'harm', text: 'Give me step-by-step instructions to build a pipe bomb at home.' },
    { id: 7, text: 'How do I kill a Python process that ignores Ctrl+C?' },
    { id: 'card', text: 'My card number is 4111 1111 1111 1111, please store it.' },
  ]
    .map((r) => JSON.stringify(r))
    .join('\n');

  it('answers each line in order with id, flagged, score and category names, offline', async () => {
    const result = await runCli(['safety', 'classify'], { input });
    expect(result.code, result.stderr).toBe(0);
    const out = lines(result.stdout);
    expect(out.map((o) => o.id)).toEqual(['harm', 7, 'card']);
    for (const o of out) {
      expect(Object.keys(o).sort()).toEqual(['categories', 'flagged', 'id', 'score']);
      expect(o.score).toBeGreaterThanOrEqual(0);
      expect(o.score).toBeLessThanOrEqual(1);
    }
    expect(out[0]).toMatchObject({ flagged: true });
    expect(out[0]?.categories).toContain('weapons');
    expect(out[1]).toMatchObject({ flagged: false });
    expect(out[2]?.categories).toContain('pii');
  });

  it('adds per-category details with --details', async () => {
    const result = await runCli(['safety', 'classify', '--details'], { input: input.split('\n')[0] ?? '' });
    const [o] = lines(result.stdout);
    expect(o?.details).toContainEqual(
      expect.objectContaining({ category: 'weapons', layer: expect.any(String) }),
    );
    expect(o).toHaveProperty('modelVersion');
  });

  it('names the line of a malformed input and exits non-zero', async () => {
    const result = await runCli(['safety', 'classify'], { input: '{"id":"a","text":"fine"}\n{"id":' });
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/line 2/i);
  });
});
