import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const KEY_BYTES = 32;
export const IV_BYTES = 12;
export const TAG_BYTES = 16;

/**
 * AES-256-GCM with a fresh random 96-bit IV per message; the result is `iv ‖ ciphertext ‖ tag`.
 * Random IVs are safe here because each data key seals far fewer than 2^32 messages before rotation.
 */
export function gcmSeal(key: Buffer, plaintext: Buffer, aad: Buffer): Buffer {
  if (key.length !== KEY_BYTES) throw new RangeError(`AES-256-GCM needs a ${KEY_BYTES}-byte key`);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** Opens `iv ‖ ciphertext ‖ tag`; returns undefined when authentication fails (the caller names what failed). */
export function gcmOpen(key: Buffer, box: Buffer, aad: Buffer): Buffer | undefined {
  if (key.length !== KEY_BYTES || box.length < IV_BYTES + TAG_BYTES) return undefined;
  const iv = box.subarray(0, IV_BYTES);
  const tag = box.subarray(box.length - TAG_BYTES);
  const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  try {
    return Buffer.concat([decipher.update(box.subarray(IV_BYTES, box.length - TAG_BYTES)), decipher.final()]);
  } catch {
    return undefined;
  }
}
