import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../store/store.js';
import { createFileSink, createHttpSink, createQueuedSink } from './audit-sink.js';
import { newSigningKey, sampleEntry, tempStore } from './audit-test-support.js';
import { createStoreAuditLog } from './store-audit-log.js';

describe('audit sinks', () => {
  let store: Store;
  let dir = '';
  let cleanup = async (): Promise<void> => undefined;
  beforeAll(async () => ({ store, dir, cleanup } = await tempStore()));
  afterAll(() => cleanup());

  it('streams committed entries to a file as export lines', async () => {
    const path = join(dir, 'siem.jsonl');
    const log = createStoreAuditLog({ store, signingKey: newSigningKey(), sink: createFileSink(path) });
    const receipts = await Promise.all([0, 1, 2].map((n) => log.append(sampleEntry(n))));
    await log.close();
    const lines = readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { index: number; leafHash: string });
    expect(lines.map((l) => [l.index, l.leafHash])).toEqual(receipts.map((r) => [r.index, r.leafHash]));
  });

  it('POSTs JSONL to an HTTP collector, retrying a failed delivery', async () => {
    const bodies: string[] = [];
    let calls = 0;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        calls += 1;
        if (calls === 1) return void res.writeHead(503).end();
        bodies.push(body);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit`;
    const sink = createHttpSink({ url });
    sink.enqueue(['{"index":0}', '{"index":1}']);
    await sink.close();
    server.close();
    expect(calls).toBe(2);
    expect(bodies).toEqual(['{"index":0}\n{"index":1}\n']);
  });

  it('never blocks an append on a stuck sink, and bounds its queue', async () => {
    let release = (): void => undefined;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const delivered: string[][] = [];
    const warnings: object[] = [];
    const sink = createQueuedSink(
      async (lines) => {
        await stuck;
        delivered.push(lines);
      },
      { maxQueue: 2, batchSize: 10, logger: { warn: (detail) => void warnings.push(detail) } },
    );
    const log = createStoreAuditLog({ store, signingKey: newSigningKey(), sink });
    for (let n = 0; n < 5; n += 1) await log.append(sampleEntry(n));
    expect(delivered).toEqual([]);
    expect(warnings.length).toBeGreaterThan(0);
    release();
    await log.close();
    expect(delivered.flat().length).toBeLessThan(5);
  });
});
