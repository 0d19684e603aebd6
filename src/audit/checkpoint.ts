import { sign, verify, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson } from './canonical-json.js';
import { keyIdOf, type SigningKey } from './signing-key.js';

/** A signed tree head: the log had `treeSize` entries with MTH `rootHash` (hex) at `time` (epoch ms). */
export interface SignedCheckpoint {
  treeSize: number;
  rootHash: string;
  time: number;
  keyId: string;
  /** Base64 Ed25519 signature over `checkpointMessage`. */
  signature: string;
}

export const signedCheckpointSchema = z
  .object({
    treeSize: z.number().int().nonnegative(),
    rootHash: z.string().regex(/^[0-9a-f]{64}$/),
    time: z.number().int().nonnegative(),
    keyId: z.string().min(1),
    signature: z.string().min(1),
  })
  .strict();

/** The signed bytes: canonical JSON with a version tag, so a signature cannot be replayed for another format. */
export const checkpointMessage = (c: Omit<SignedCheckpoint, 'signature'>): Buffer =>
  Buffer.from(
    canonicalJson({
      format: 'enclave-audit-checkpoint/1',
      keyId: c.keyId,
      rootHash: c.rootHash,
      time: c.time,
      treeSize: c.treeSize,
    }),
  );

export function signCheckpoint(
  key: SigningKey,
  head: { treeSize: number; rootHash: string; time: number },
): SignedCheckpoint {
  const unsigned = { ...head, keyId: key.keyId };
  return {
    ...unsigned,
    signature: sign(null, checkpointMessage(unsigned), key.privateKey).toString('base64'),
  };
}

/** Why the checkpoint's signature is not good under any of `publicKeys`, or undefined when it is. */
export function checkpointSignatureFailure(
  checkpoint: SignedCheckpoint,
  publicKeys: readonly KeyObject[],
): string | undefined {
  const key = publicKeys.find((k) => keyIdOf(k) === checkpoint.keyId);
  if (!key)
    return `checkpoint at tree size ${checkpoint.treeSize} is signed by unknown key ${checkpoint.keyId}`;
  const signature = Buffer.from(checkpoint.signature, 'base64');
  const good = signature.length === 64 && verify(null, checkpointMessage(checkpoint), key, signature);
  return good ? undefined : `checkpoint at tree size ${checkpoint.treeSize} has a bad signature`;
}
