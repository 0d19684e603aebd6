import type { Config } from '../config/config.js';
import type { ContentCipher } from '../crypto/index.js';
import { auditConfig } from './audit-config.js';
import { promptSha256 } from './audit-entry.js';

/** Shred scope of content sealed into the audit log: its own data key per tenant (see docs/audit.md). */
export const auditContentScope = 'audit';

/** Detail fields describing content in an audit entry. */
export interface AuditContentDetail {
  /** `sha256:<hex>` of the UTF-8 text: always, so the entry attributes the content without holding it. */
  contentSha256: string;
  /** The text sealed under the tenant's `audit` data key: only with `audit.storeContent: true`. */
  contentSealed?: string;
}

/** What the helper needs of the running services (structurally, so audit does not import the composition root). */
export interface AuditContentServices {
  readonly config: Config;
  readonly encryption: { readonly cipher: Pick<ContentCipher, 'seal'> };
}

export interface AuditContentTarget {
  tenant: string;
  /** Canonical label of the content; bound into the ciphertext's AAD, like the entry's own label. */
  label: string;
  /** The object the content belongs to (response, item, memory record…), also bound into the AAD. */
  objectId: string;
  /** What the text is: `prompt`, `output`, `memory`, `tool_output`… */
  kind: string;
}

const storeContentOf = new WeakMap<Config, boolean>();

/**
 * The detail fields an audit entry carries for `text`: its hash always; with `audit.storeContent: true` also the
 * text sealed (AES-256-GCM, envelope data key of scope `audit`). The log stays verifiable and exportable without
 * any key, because the sealed value is just a string inside the canonical entry; reading it back needs the
 * tenant's key (`cipher.open` with the same target and scope `audit`). Spread the result into `detail`.
 */
export async function auditContent(
  services: AuditContentServices,
  target: AuditContentTarget,
  text: string,
): Promise<AuditContentDetail> {
  let storeContent = storeContentOf.get(services.config);
  if (storeContent === undefined) {
    storeContent = auditConfig(services.config).storeContent;
    storeContentOf.set(services.config, storeContent);
  }
  const detail: AuditContentDetail = { contentSha256: promptSha256(text) };
  if (storeContent) {
    detail.contentSealed = await services.encryption.cipher.seal(
      { ...target, kind: `audit.${target.kind}`, scope: auditContentScope },
      text,
    );
  }
  return detail;
}
