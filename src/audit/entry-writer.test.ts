import { describe, expect, it } from 'vitest';
import { auditEntrySchema, auditEventTypes, canonicalEntry, forbiddenDetailKey } from './audit-entry.js';
import { canonicalJson } from './canonical-json.js';
import { writeEntryFast } from './entry-writer.js';

// A small deterministic PRNG (mulberry32), so a failure reproduces.
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const strings = ['', 'a', 'é€😀', '\ud800', 'x'.repeat(201), 'x'.repeat(1001), 'SECRET//SI', '"\\\n'];
const odd = [undefined, null, 1, 1.5, -1, Number.NaN, true, {}, [], new Date(0), 2 ** 53];
const details = [
  { b: 1, a: [1, 'x', null, { z: true }] },
  { promptSha256: 'sha256:00' },
  { prompt: 'hi' },
  { nested: { text: 'allowed below the top level' } },
  { n: Number.POSITIVE_INFINITY },
  { u: undefined },
  { arr: [undefined] },
  { when: new Date(0) },
  [],
  'x',
];

function randomEntry(next: () => number): Record<string, unknown> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
  const value = (good: () => unknown) => (next() < 0.85 ? good() : pick([...odd, ...strings]));
  const entry: Record<string, unknown> = {
    type: next() < 0.9 ? pick(auditEventTypes) : 'auth.maybe',
    time: value(() => Math.floor(next() * 2e12)),
    tenant: value(() => pick(strings.slice(1, 4))),
    principal: value(() => `key_${Math.floor(next() * 100)}`),
    label: value(() => 'SECRET//SI'),
  };
  for (const key of ['onBehalfOf', 'rule', 'objectId', 'objectLabel', 'sessionLabel', 'endpoint']) {
    if (next() < 0.5) entry[key] = value(() => pick(strings.slice(1, 4)));
  }
  if (next() < 0.4) entry.decision = value(() => pick(['allow', 'deny']));
  if (next() < 0.5) entry.detail = pick(details);
  if (next() < 0.05) delete entry[pick(['type', 'time', 'tenant', 'principal', 'label'])];
  if (next() < 0.05) entry.extra = 'field';
  return entry;
}

/** What canonicalEntry computed before the fast path: the zod schema, then the generic canonical writer. */
function reference(entry: unknown): string | Error {
  const parsed = auditEntrySchema.safeParse(entry);
  return parsed.success ? canonicalJson(parsed.data) : new Error('invalid');
}

describe('the fast entry writer', () => {
  it('writes the same bytes as schema + canonicalJson, and never accepts what the schema refuses', () => {
    const next = random(6);
    const types = new Set<string>(auditEventTypes);
    let fastHits = 0;
    let invalid = 0;
    for (let i = 0; i < 5000; i += 1) {
      const entry = randomEntry(next);
      const expected = reference(entry);
      const fast = writeEntryFast(entry, types, forbiddenDetailKey);
      if (fast !== undefined) {
        fastHits += 1;
        expect(fast).toBe(expected);
      }
      if (expected instanceof Error) {
        invalid += 1;
        expect(() => canonicalEntry(entry as never)).toThrow(/Invalid audit entry/);
      } else {
        expect(canonicalEntry(entry as never)).toBe(expected);
      }
    }
    // The generator must exercise both sides, or the comparison proves nothing.
    expect(fastHits).toBeGreaterThan(500);
    expect(invalid).toBeGreaterThan(500);
  });

  it('falls back (undefined) on inherited or unknown keys instead of guessing', () => {
    const types = new Set<string>(auditEventTypes);
    const base = { type: 'auth.ok', time: 1, tenant: 't', principal: 'p', label: 'U' };
    expect(writeEntryFast(base, types, /^text$/)).toBe(canonicalJson(base));
    expect(writeEntryFast({ ...base, toString: 'x' }, types, /^text$/)).toBeUndefined();
    expect(
      writeEntryFast(Object.assign(Object.create({ inherited: 1 }) as object, base), types, /^text$/),
    ).toBe(undefined);
  });
});
