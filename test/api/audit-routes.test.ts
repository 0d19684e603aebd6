import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/audit/canonical-json.js';
import { checkpointSignatureFailure, type SignedCheckpoint } from '../../src/audit/checkpoint.js';
import { leafData } from '../../src/audit/audit-entry.js';
import { leafHash, toHex } from '../../src/audit/merkle-hash.js';
import { verifyConsistency, verifyInclusion } from '../../src/audit/merkle-verify.js';
import { loadPublicKey } from '../../src/audit/signing-key.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { engines } from '../support/stores.js';

interface Line {
  index: number;
  leafHash: string;
  entry: Record<string, unknown>;
}
interface Page {
  data: Line[];
  next_after: number;
  has_more: boolean;
  tree_size: number;
}

const hex = (h: string) => Buffer.from(h, 'hex');

for (const engine of engines) {
  describe(`the auditor API [${engine}]`, () => {
    let server: TestServer;
    let auditor: string;
    let secretAuditor: string;
    let user: string;

    beforeAll(async () => {
      server = await startTestServer({ engine });
      auditor = await server.key({ role: 'auditor' });
      secretAuditor = await server.key({ role: 'auditor', clearance: 'SECRET' });
      user = await server.key({ role: 'user' });
      const base = { type: 'model.call' as const, time: 1, principal: 'system' };
      await server.services.audit.append({
        ...base,
        tenant: 'tenant-b',
        label: 'UNCLASSIFIED',
        objectId: 'b-1',
      });
      await server.services.audit.append({
        ...base,
        tenant: 'tenant-a',
        label: 'SECRET',
        objectId: 'a-secret',
      });
      await server.services.audit.append({
        ...base,
        tenant: 'tenant-a',
        label: 'UNCLASSIFIED',
        objectId: 'a-1',
      });
    });
    afterAll(async () => server.close());

    const get = (path: string, key = auditor) =>
      fetch(server.baseUrl + path, { headers: { authorization: `Bearer ${key}` } });
    const json = async <T>(path: string, key = auditor): Promise<T> => {
      const response = await get(path, key);
      expect(response.status).toBe(200);
      return (await response.json()) as T;
    };
    const everything = async (key = auditor): Promise<Line[]> => {
      const lines: Line[] = [];
      let after = -1;
      for (;;) {
        const page = await json<Page>(`/v1/audit/entries?${after < 0 ? '' : `after=${after}&`}limit=2`, key);
        lines.push(...page.data);
        expect(page.next_after).toBeGreaterThan(after);
        after = page.next_after;
        if (!page.has_more) return lines;
      }
    };

    it('signs a checkpoint the server key verifies, and proofs that verify against it', async () => {
      const checkpoint = await json<SignedCheckpoint>('/v1/audit/checkpoint');
      const publicKey = loadPublicKey(join(server.database.dataDir, 'keys', 'audit-signing.pem'));
      expect(checkpointSignatureFailure(checkpoint, [publicKey])).toBeUndefined();
      expect(
        checkpointSignatureFailure({ ...checkpoint, treeSize: checkpoint.treeSize + 1 }, [publicKey]),
      ).toMatch(/bad signature/);

      const [line] = (await everything()).filter((l) => l.entry.objectId === 'a-1');
      expect(line).toBeDefined();
      const { index, leafHash: stored, entry } = line as Line;
      // The export carries the entry itself: its leaf hash is recomputed from the canonical JSON and the index.
      expect(toHex(leafHash(leafData(index, canonicalJson(entry))))).toBe(stored);
      const proof = await json<{ proof: string[]; rootHash: string }>(
        `/v1/audit/proofs/inclusion?index=${index}&tree_size=${checkpoint.treeSize}`,
      );
      expect(proof.rootHash).toBe(checkpoint.rootHash);
      const path = proof.proof.map(hex);
      expect(
        verifyInclusion(index, checkpoint.treeSize, hex(stored), path, hex(checkpoint.rootHash)),
      ).toBeUndefined();
      expect(
        verifyInclusion(
          index,
          checkpoint.treeSize,
          hex(stored.replace(/^./, (c) => (c === '0' ? '1' : '0'))),
          path,
          hex(checkpoint.rootHash),
        ),
      ).toBeDefined();

      await server.services.audit.append({
        type: 'config.change',
        time: 2,
        tenant: 'tenant-a',
        principal: 'system',
        label: 'UNCLASSIFIED',
      });
      const later = await json<SignedCheckpoint>('/v1/audit/checkpoint');
      expect(later.treeSize).toBeGreaterThan(checkpoint.treeSize);
      const consistency = await json<{ proof: string[]; fromRoot: string; toRoot: string }>(
        `/v1/audit/proofs/consistency?from=${checkpoint.treeSize}&to=${later.treeSize}`,
      );
      expect(
        verifyConsistency(
          checkpoint.treeSize,
          later.treeSize,
          consistency.proof.map(hex),
          hex(checkpoint.rootHash),
          hex(later.rootHash),
        ),
      ).toBeUndefined();
    });

    it("exports only the key's tenant's entries it is cleared for, each once, in index order", async () => {
      const lines = await everything();
      const objects = lines.map((l) => l.entry.objectId).filter(Boolean);
      expect(objects).toEqual(['a-1']);
      expect(lines.every((l) => l.entry.tenant === 'tenant-a')).toBe(true);
      const indexes = lines.map((l) => l.index);
      expect([...new Set(indexes)].sort((a, b) => a - b)).toEqual(indexes);
      const cleared = (await everything(secretAuditor)).map((l) => l.entry.objectId).filter(Boolean);
      expect(cleared).toEqual(['a-secret', 'a-1']);
    });

    it("answers 404 for a proof of another tenant's entry", async () => {
      const { treeSize } = await server.services.store.audit.head();
      const rows = await server.services.store.audit.entries(0, treeSize);
      const other = rows.find((r) => r.entry.includes('"objectId":"b-1"'));
      expect(other).toBeDefined();
      const response = await get(`/v1/audit/proofs/inclusion?index=${other?.index}&tree_size=${treeSize}`);
      expect(response.status).toBe(404);
    });

    it('refuses a user key with 403', async () => {
      for (const path of [
        '/v1/audit/checkpoint',
        '/v1/audit/proofs/inclusion?index=0&tree_size=1',
        '/v1/audit/proofs/consistency?from=1&to=1',
        '/v1/audit/entries',
      ]) {
        expect((await get(path, user)).status).toBe(403);
      }
    });

    it.each([
      '/v1/audit/proofs/inclusion?index=abc&tree_size=1',
      '/v1/audit/proofs/inclusion?index=0',
      '/v1/audit/proofs/inclusion?index=-1&tree_size=1',
      '/v1/audit/proofs/inclusion?index=0&tree_size=999999999',
      '/v1/audit/proofs/consistency?from=5&to=2',
      '/v1/audit/proofs/consistency?from=&to=2',
      '/v1/audit/entries?limit=0',
      '/v1/audit/entries?limit=5000',
      '/v1/audit/entries?after=x',
      '/v1/audit/entries?surprise=1',
    ])('answers 400 with an OpenAI-shaped error for %s', async (path) => {
      const response = await get(path);
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { type: string; message: string } };
      expect(body.error.type).toBe('invalid_request_error');
      expect(body.error.message).not.toMatch(/select|sqlite|stack/i);
    });
  });
}
