import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local stand-in for AWS KMS speaking its JSON protocol (awsJson1_1, `X-Amz-Target: TrentService.*`)
 * on 127.0.0.1: Encrypt, Decrypt and GenerateDataKey with real AES-GCM under per-key secrets, the
 * encryption context bound as AAD and the key id embedded in the blob, as KMS does.
 */
export interface KmsMock {
  endpoint: string;
  /** Operations received, in order (`Encrypt`, `Decrypt`, …), with whether the request was SigV4-signed. */
  calls: { op: string; signed: boolean; keyId: string | undefined }[];
  close(): Promise<void>;
}

const contextAad = (ctx: Record<string, string> | undefined): Buffer =>
  Buffer.from(JSON.stringify(Object.entries(ctx ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))));

export async function startKmsMock(keyIds: string[]): Promise<KmsMock> {
  const secrets = new Map(keyIds.map((id) => [id, randomBytes(32)]));
  const calls: KmsMock['calls'] = [];

  const seal = (keyId: string, plaintext: Buffer, ctx: Record<string, string> | undefined): Buffer => {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', secrets.get(keyId) as Buffer, iv);
    c.setAAD(contextAad(ctx));
    const body = Buffer.concat([c.update(plaintext), c.final()]);
    const id = Buffer.from(keyId);
    return Buffer.concat([Buffer.from([id.length]), id, iv, body, c.getAuthTag()]);
  };

  const open = (
    blob: Buffer,
    ctx: Record<string, string> | undefined,
  ): { keyId: string; plaintext: Buffer } | undefined => {
    const n = blob[0] ?? 0;
    const keyId = blob.subarray(1, 1 + n).toString();
    const secret = secrets.get(keyId);
    if (!secret || blob.length < 1 + n + 28) return undefined;
    const iv = blob.subarray(1 + n, 13 + n);
    const d = createDecipheriv('aes-256-gcm', secret, iv);
    d.setAAD(contextAad(ctx));
    d.setAuthTag(blob.subarray(blob.length - 16));
    try {
      return {
        keyId,
        plaintext: Buffer.concat([d.update(blob.subarray(13 + n, blob.length - 16)), d.final()]),
      };
    } catch {
      return undefined;
    }
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const op = String(req.headers['x-amz-target'] ?? '').replace('TrentService.', '');
      const body = JSON.parse(Buffer.concat(chunks).toString() || '{}') as Record<string, unknown>;
      const keyId = body.KeyId as string | undefined;
      const ctx = body.EncryptionContext as Record<string, string> | undefined;
      calls.push({
        op,
        signed: String(req.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256'),
        keyId,
      });
      const reply = (status: number, payload: unknown) => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(payload));
      };
      const fail = (type: string) => reply(400, { __type: type, message: `${type} from mock` });
      if (keyId !== undefined && !secrets.has(keyId)) return fail('NotFoundException');
      if (op === 'Encrypt' || op === 'GenerateDataKey') {
        const plaintext =
          op === 'Encrypt' ? Buffer.from(body.Plaintext as string, 'base64') : randomBytes(32);
        const blob = seal(keyId as string, plaintext, ctx);
        return reply(200, {
          KeyId: keyId,
          CiphertextBlob: blob.toString('base64'),
          ...(op === 'GenerateDataKey' ? { Plaintext: plaintext.toString('base64') } : {}),
        });
      }
      if (op === 'Decrypt') {
        const opened = open(Buffer.from(body.CiphertextBlob as string, 'base64'), ctx);
        if (!opened) return fail('InvalidCiphertextException');
        if (keyId !== undefined && opened.keyId !== keyId) return fail('IncorrectKeyException');
        return reply(200, { KeyId: opened.keyId, Plaintext: opened.plaintext.toString('base64') });
      }
      return fail('UnsupportedOperationException');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
