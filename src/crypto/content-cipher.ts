import { EnclaveError } from '../errors/index.js';
import { gcmOpen, gcmSeal } from './aes-gcm.js';
import { canonicalAad } from './canonical-aad.js';
import type { DataKeys } from './data-keys.js';
import { formatSealed, parseSealed, SEALED_VERSION } from './sealed-format.js';

/** Where a sealed value lives: every field but `scope` is bound into the AAD. */
export interface SealContext {
  tenant: string;
  /** The row's id (response, item, memory record…). */
  objectId: string;
  /** What the value is: `message`, `memory`, `tool_output`, … */
  kind: string;
  /** The row's label id (or canonical label). */
  label: string;
  /** Shred scope whose key seals it: `user:<id>`, `conversation:<id>` or `tenant`. */
  scope: string;
}

/** Encrypts content columns (AES-256-GCM under envelope data keys). */
export interface ContentCipher {
  seal(ctx: SealContext, plaintext: string): Promise<string>;
  open(ctx: SealContext, sealed: string): Promise<string>;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function createContentCipher(keys: DataKeys): ContentCipher {
  return {
    async seal(ctx, plaintext) {
      const { id, generation, key } = await keys.forWriting(ctx.tenant, ctx.scope);
      const aad = canonicalAad({
        version: SEALED_VERSION,
        tenant: ctx.tenant,
        objectId: ctx.objectId,
        kind: ctx.kind,
        label: ctx.label,
        keyId: id,
        keyVersion: generation,
      });
      const box = gcmSeal(key, Buffer.from(plaintext, 'utf8'), aad);
      return formatSealed({ version: SEALED_VERSION, keyId: id, keyVersion: generation, box });
    },
    async open(ctx, sealed) {
      const parts = parseSealed(sealed);
      const key = await keys.forReading(ctx.tenant, ctx.scope, parts.keyId);
      const aad = canonicalAad({
        version: parts.version,
        tenant: ctx.tenant,
        objectId: ctx.objectId,
        kind: ctx.kind,
        label: ctx.label,
        keyId: parts.keyId,
        keyVersion: parts.keyVersion,
      });
      const plaintext = gcmOpen(key, parts.box, aad);
      if (!plaintext) {
        throw new EnclaveError(
          'decrypt_failed',
          `Stored ${ctx.kind} ${ctx.objectId} failed authentication: it was altered, moved from another row, or its ` +
            'label or key reference changed. It cannot be decrypted.',
        );
      }
      return utf8.decode(plaintext);
    },
  };
}
