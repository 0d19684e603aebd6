import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { createEncryption } from '../crypto/index.js';
import { auditContent, auditContentScope } from './audit-content.js';
import { promptSha256 } from './audit-entry.js';
import { newSigningKey, tempStore } from './audit-test-support.js';
import { exportLog } from './export-log.js';
import { createStoreAuditLog } from './store-audit-log.js';
import { verifyLog } from './verify-log.js';

const secretText = 'marker-7f3a: the launch code is in the blue binder';
const target = { tenant: 'acme', label: 'SECRET', objectId: 'resp_1', kind: 'prompt' };

describe('auditContent (opt-in sealed content in the audit log)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function setUp(storeContent: boolean | undefined) {
    const t = await tempStore();
    if (storeContent !== undefined)
      writeFileSync(join(t.dir, 'config.json'), JSON.stringify({ audit: { storeContent } }));
    const config = loadConfig({}, { ENCLAVE_DATA_DIR: t.dir });
    const signingKey = newSigningKey();
    const log = createStoreAuditLog({ store: t.store, signingKey });
    const encryption = createEncryption({ repo: t.store.dataKeys, dataDir: t.dir, audit: log, env: {} });
    cleanups.push(async () => {
      await log.close();
      await t.cleanup();
    });
    const services = { config, encryption };
    const record = async () => {
      const detail = await auditContent(services, target, secretText);
      await log.append({
        type: 'model.call',
        time: 1,
        tenant: 'acme',
        principal: 'key_1',
        label: 'SECRET',
        detail: { ...detail },
      });
      await log.checkpoint();
      const lines: string[] = [];
      for await (const line of exportLog(t.store.audit)) lines.push(line);
      return { detail, lines };
    };
    return { ...t, services, encryption, log, signingKey, record };
  }

  it('logs only the hash by default', async () => {
    const s = await setUp(undefined);
    const { detail, lines } = await s.record();
    expect(detail).toEqual({ contentSha256: promptSha256(secretText) });
    expect(lines.join('\n')).not.toContain('marker-7f3a');
  });

  it('with audit.storeContent seals the text: readable with the key, bound to its label, never in clear', async () => {
    const s = await setUp(true);
    const { detail, lines } = await s.record();
    expect(detail.contentSha256).toBe(promptSha256(secretText));
    expect(detail.contentSealed).toMatch(/^ev1\./);
    const exported = lines.join('\n');
    expect(exported).toContain(detail.contentSealed);
    expect(exported).not.toContain('marker-7f3a');
    const context = { ...target, kind: 'audit.prompt', scope: auditContentScope };
    expect(await s.encryption.cipher.open(context, detail.contentSealed as string)).toBe(secretText);
    await expect(
      s.encryption.cipher.open({ ...context, label: 'UNCLASSIFIED' }, detail.contentSealed as string),
    ).rejects.toMatchObject({ code: 'decrypt_failed' });
    // Nothing on disk holds the text in clear (database, WAL, keys).
    for (const file of readdirSync(s.dir, { recursive: true, withFileTypes: true })) {
      if (file.isFile())
        expect(readFileSync(join(file.parentPath, file.name)).includes('marker-7f3a')).toBe(false);
    }
  });

  it('keeps export and verification working without the key, even after the audit scope is shredded', async () => {
    const s = await setUp(true);
    const { detail } = await s.record();
    await s.encryption.shred('acme', auditContentScope);
    const report = await verifyLog(s.store.audit, [s.signingKey.publicKey]);
    expect(report).toMatchObject({ ok: true });
    await expect(
      s.encryption.cipher.open(
        { ...target, kind: 'audit.prompt', scope: auditContentScope },
        detail.contentSealed as string,
      ),
    ).rejects.toThrow();
  });
});
