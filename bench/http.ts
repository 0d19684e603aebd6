/**
 * Foundation bench: an authenticated no-op route (GET /v1/me: key check against the store, JSON answer)
 * versus a bare node:http server answering the same JSON, in one run on the same machine.
 * Run: npx tsx bench/http.ts [seconds]
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startTestServer } from '../test/support/server.js';
import { formatTable, load } from './support.js';

const seconds = Number(process.argv[2] ?? 5);
const bare = createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ tenant: 't', subject: 's', role: 'user', clearance: 'UNCLASSIFIED' }));
});
await new Promise<void>((resolve) => bare.listen(0, '127.0.0.1', resolve));
const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/v1/me`;

const enclave = await startTestServer();
const key = await enclave.key();

const baseline = await load('bare node:http', { url: bareUrl, seconds });
const measured = await load('Enclave GET /v1/me (authenticated, SQLite)', {
  url: `${enclave.baseUrl}/v1/me`,
  headers: { authorization: `Bearer ${key}` },
  seconds,
});
console.log(formatTable([baseline, measured]));
console.log(
  `\nratio Enclave/bare: req/s ${(measured.requestsPerSecond / baseline.requestsPerSecond).toFixed(2)}, ` +
    `p50 +${(measured.p50 - baseline.p50).toFixed(2)} ms, p99 +${(measured.p99 - baseline.p99).toFixed(2)} ms`,
);
await enclave.close();
bare.close();
