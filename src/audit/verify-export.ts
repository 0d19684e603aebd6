import type { KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { EnclaveError } from '../errors/index.js';
import { canonicalJson } from './canonical-json.js';
import { signedCheckpointSchema, type SignedCheckpoint } from './checkpoint.js';
import { TreeVerifier, type VerifyReport } from './tree-verifier.js';

const lineSchema = z.object({
  index: z.number().int().nonnegative(),
  leafHash: z.string(),
  entry: z.record(z.string(), z.unknown()),
});

/**
 * Offline verification of an export (JSONL `{index, leafHash, entry}`) against signed checkpoints, with no
 * database: recomputes every leaf and the root at each checkpoint's size. Entries past the last checkpoint are
 * checked against their leaf hashes only, since nothing signed covers them yet.
 */
export async function verifyExport(
  jsonlFile: string,
  checkpointFile: string,
  publicKey: KeyObject,
): Promise<VerifyReport> {
  const checkpoints = await readCheckpoints(checkpointFile);
  const verifier = new TreeVerifier(checkpoints, [publicKey]);
  const lines = createInterface({ input: createReadStream(jsonlFile), crlfDelay: Infinity });
  let position = 0;
  try {
    for await (const raw of lines) {
      if (verifier.failed) break;
      if (raw.trim() === '') continue;
      const line = parseLine(raw);
      if (!line)
        return {
          ...verifier.finish(),
          ok: false,
          firstBadIndex: position,
          problem: `line ${position + 1} is not an export record`,
        };
      verifier.add(line.index, line.leafHash, canonicalJson(line.entry));
      position += 1;
    }
  } finally {
    lines.close();
  }
  return verifier.finish();
}

function parseLine(raw: string): z.output<typeof lineSchema> | undefined {
  try {
    const parsed = lineSchema.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** A checkpoint file holds one checkpoint (as `audit checkpoint` prints it), a JSON array, or JSONL. */
export async function readCheckpoints(path: string): Promise<SignedCheckpoint[]> {
  const text = (await readFile(path, 'utf8')).trim();
  let values: unknown[];
  try {
    const whole: unknown = JSON.parse(text);
    values = Array.isArray(whole) ? whole : [whole];
  } catch {
    try {
      values = text
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as unknown);
    } catch (cause) {
      throw new EnclaveError('invalid_request', `The checkpoint file ${path} is not JSON or JSONL.`, {
        cause,
      });
    }
  }
  return values.map((value, i) => {
    const parsed = signedCheckpointSchema.safeParse(value);
    if (!parsed.success)
      throw new EnclaveError('invalid_request', `Checkpoint ${i + 1} in ${path} is malformed.`);
    return parsed.data;
  });
}
