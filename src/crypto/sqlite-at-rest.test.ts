import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openStore } from '../store/open-store.js';
import { openSqlite } from '../store/sqlite/open-sqlite.js';
import { sqliteKeyFor, sqliteKeyPath } from './sqlite-key.js';

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'enclave-at-rest-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

/** Every file under `dir` (recursively) whose bytes contain `marker` in UTF-8 or UTF-16. */
function filesContaining(dir: string, marker: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const bytes = readFileSync(path);
    if (bytes.includes(Buffer.from(marker, 'utf8')) || bytes.includes(Buffer.from(marker, 'utf16le')))
      found.push(path);
  }
  return found;
}

/** Writes `marker` into a plain row (through the store) and into an FTS5 index; returns what to close. */
async function writeMarker(key: Buffer | undefined, marker: string) {
  const store = await openStore({ dataDir, sqliteKey: key });
  await store.tenants.ensure(marker);
  const { raw } = openSqlite({ path: join(dataDir, 'enclave.db'), key });
  raw.exec('CREATE VIRTUAL TABLE IF NOT EXISTS probe_fts USING fts5(body)');
  raw.prepare('INSERT INTO probe_fts (body) VALUES (?)').run(`searchable ${marker} text`);
  return { store, raw };
}

describe('SQLite whole-file encryption', () => {
  it('the scan finds a marker in an unencrypted database (control)', async () => {
    const marker = `MARKER${randomBytes(8).toString('hex')}`;
    const { store, raw } = await writeMarker(undefined, marker);
    expect(filesContaining(dataDir, marker).length).toBeGreaterThan(0);
    raw.close();
    await store.close();
  });

  it('leaves no plaintext in any file of the data dir: database, WAL, SHM, FTS5 index, key files', async () => {
    const marker = `MARKER${randomBytes(8).toString('hex')}`;
    const key = await sqliteKeyFor(dataDir, { env: {} });
    const { store, raw } = await writeMarker(key, marker);
    // While open, the content sits in the WAL: check it there too.
    const names = readdirSync(dataDir);
    expect(names).toEqual(expect.arrayContaining(['enclave.db', 'enclave.db-wal', 'enclave.db-shm', 'keys']));
    expect(filesContaining(dataDir, marker)).toEqual([]);
    expect(raw.prepare('SELECT body FROM probe_fts WHERE probe_fts MATCH ?').get(marker)).toEqual({
      body: `searchable ${marker} text`,
    });
    raw.close();
    await store.close();
    expect(filesContaining(dataDir, marker)).toEqual([]);
    const header = readFileSync(join(dataDir, 'enclave.db')).subarray(0, 16).toString('latin1');
    expect(header).not.toBe('SQLite format 3\u0000');

    // The same key opens it again; the data is really there.
    const again = await openStore({ dataDir, sqliteKey: await sqliteKeyFor(dataDir, { env: {} }) });
    expect(await again.tenants.exists(marker)).toBe(true);
    await again.close();
  });

  it('refuses a wrong key or no key with a clear error', async () => {
    const key = await sqliteKeyFor(dataDir, { env: {} });
    const { store, raw } = await writeMarker(key, 'x');
    raw.close();
    await store.close();
    for (const wrong of [randomBytes(32), undefined]) {
      await expect(openStore({ dataDir, sqliteKey: wrong })).rejects.toMatchObject({
        code: 'unavailable',
        message: expect.stringMatching(/wrong key or not a database/),
      });
    }
  });

  it('keeps the key wrapped in a 0600 file, movable with ENCLAVE_SQLITE_KEY_FILE', async () => {
    const key = await sqliteKeyFor(dataDir, { env: {} });
    const path = sqliteKeyPath(dataDir, {});
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path).includes(key)).toBe(false);
    expect(readFileSync(path, 'utf8')).not.toContain(key.toString('hex'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'enclave-keyfile-'));
    try {
      const env = { ENCLAVE_SQLITE_KEY_FILE: join(elsewhere, 'db.key') };
      const moved = await sqliteKeyFor(join(dataDir, 'second'), { env });
      expect(statSync(join(elsewhere, 'db.key')).mode & 0o777).toBe(0o600);
      expect(await sqliteKeyFor(join(dataDir, 'second'), { env })).toEqual(moved);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('refuses to invent a new key for an existing database whose key file is gone', async () => {
    const key = await sqliteKeyFor(dataDir, { env: {} });
    const { store, raw } = await writeMarker(key, 'y');
    raw.close();
    await store.close();
    rmSync(sqliteKeyPath(dataDir, {}));
    await expect(sqliteKeyFor(dataDir, { env: {} })).rejects.toMatchObject({
      message: expect.stringMatching(/restore the key file/),
    });
  });
});
