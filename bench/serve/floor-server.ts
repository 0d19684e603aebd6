/**
 * The floor of a stored, durable, encrypted turn: the least work any implementation of `POST /v1/responses` with
 * Enclave's storage guarantees must do, and nothing else — no Fastify, no Kysely, no labels, no safety, no
 * sealing, no Merkle tree. Per request: parse the JSON body; one SQLCipher transaction holding the turn's
 * pre-call record (committed before the upstream is contacted, its WAL fsync overlapping the call); the upstream
 * call (streamed Chat Completions over an undici keep-alive Pool, as Enclave's provider does); a second
 * transaction with the response row, its items and the post-call record; a WAL fsync before answering; the JSON
 * answer. Same SQLite settings as Enclave (WAL, synchronous=NORMAL, SQLCipher whole-file key). Measured beside
 * `enclave serve` by bench/responses-serve.ts (`--scenarios floor`), it shows how much of Enclave's added latency
 * is the guarantee itself on this machine, and how much is Enclave.
 *   node --import tsx bench/serve/floor-server.ts <upstream base URL>
 * For decomposing the floor only, FLOOR_CIPHER=0 opens a plain SQLite file and FLOOR_FSYNC=0 skips the WAL fsyncs
 * (each gives up a guarantee Enclave keeps).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3-multiple-ciphers';
import { Pool } from 'undici';

const upstream = new URL(`${process.argv[2] ?? ''}/chat/completions`);
const dir = mkdtempSync(join(tmpdir(), 'enclave-floor-'));
const db = new Database(join(dir, 'floor.db'));
const cipher = process.env.FLOOR_CIPHER !== '0';
const fsync = process.env.FLOOR_FSYNC !== '0';
if (cipher) {
  db.pragma(`cipher='sqlcipher'`);
  db.pragma('legacy=4');
  db.pragma(`key="x'${randomBytes(32).toString('hex')}'"`);
}
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(`
  create table records (id integer primary key, entry text not null, created_at integer not null);
  create table responses (id text primary key, previous text, body text not null, created_at integer not null);
  create table items (id text primary key, response_id text not null, position integer not null, body text not null);
  create index items_response on items (response_id, position);
`);
const insertRecord = db.prepare('insert into records (entry, created_at) values (?, ?)');
const insertResponse = db.prepare('insert into responses values (?, ?, ?, ?)');
const insertItem = db.prepare('insert into items values (?, ?, ?, ?)');
const readResponse = db.prepare('select body from responses where id = ?');
const readItems = db.prepare('select body from items where response_id = ? order by position');
const record = db.transaction((entries: string[]) => {
  for (const e of entries) insertRecord.run(e, Date.now());
});
const store = db.transaction(
  (response: { id: string; previous: string | null; body: string }, items: string[], entries: string[]) => {
    insertResponse.run(response.id, response.previous, response.body, Date.now());
    items.forEach((item, i) => insertItem.run(`${response.id}_${i}`, response.id, i, item));
    for (const e of entries) insertRecord.run(e, Date.now());
  },
);
const wal = await open(join(dir, 'floor.db-wal'), 'r');
const pool = new Pool(upstream.origin);

/** The upstream call, streamed, its text gathered (Enclave's provider does the same over SSE). */
async function callUpstream(messages: unknown[]): Promise<string> {
  const { body } = await pool.request({
    path: upstream.pathname,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'mock-1', messages, stream: true }),
  });
  let text = '';
  for await (const chunk of body) text += String(chunk);
  return text
    .split('\n')
    .filter((l) => l.startsWith('data: {'))
    .map(
      (l) =>
        (JSON.parse(l.slice(6)) as { choices: { delta?: { content?: string } }[] }).choices[0]?.delta
          ?.content ?? '',
    )
    .join('');
}

const server = createServer((req, res) => {
  let raw = '';
  req.on('data', (d: Buffer) => (raw += d.toString()));
  req.on('end', () => {
    void (async () => {
      const input = JSON.parse(raw) as { input: string; previous_response_id?: string };
      const previous = input.previous_response_id ?? null;
      const history = previous
        ? [
            ...JSON.parse((readResponse.get(previous) as { body: string }).body).context,
            ...(readItems.all(previous) as { body: string }[]).map((r) => JSON.parse(r.body)),
          ]
        : [];
      const messages = [...history, { role: 'user', content: input.input }];
      record([JSON.stringify({ type: 'auth.ok' }), JSON.stringify({ type: 'read', previous })]);
      const committed = fsync ? wal.sync() : undefined; // durable while the upstream answers
      const text = await callUpstream(messages);
      await committed;
      const id = `resp_${randomUUID().replaceAll('-', '')}`;
      const output = { role: 'assistant', content: text };
      store(
        { id, previous, body: JSON.stringify({ context: messages.slice(0, -1) }) },
        [JSON.stringify(messages.at(-1)), JSON.stringify(output)],
        [JSON.stringify({ type: 'model.call', id }), JSON.stringify({ type: 'write', id })],
      );
      if (fsync) await wal.sync();
      const answer = JSON.stringify({ id, object: 'response', status: 'completed', output_text: text });
      res.writeHead(200, { 'content-type': 'application/json' }).end(answer);
    })().catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
});

const stop = (): void => {
  server.close();
  void pool.close();
  void wal.close();
  db.close();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
process.stdin.on('end', stop);
process.stdin.resume();
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`floor listening on http://127.0.0.1:${port}\n`);
});
