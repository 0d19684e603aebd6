import type { Config } from '../config/config.js';
import type { ContentCipher } from '../crypto/index.js';
import { EnclaveError } from '../errors/index.js';
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

/** The detail fields the runtime adds to a `model.call` or `safety.verdict` entry with content opted in. */
export interface SealedContentDetail {
  contentSealed: string;
  /** The `kind` the content was sealed as (`prompt`, `safety.input`…), to open it from the entry alone. */
  contentKind: string;
}

/**
 * Seals one entry's content. The target is the entry's own tenant, `objectId` and `label`, so an auditor
 * opens it from the entry alone (`openAuditContent`) and a sealed value moved to another entry fails.
 */
export type AuditContentSealer = (
  entry: { tenant: string; objectId: string; label: string },
  kind: string,
  text: string,
) => Promise<SealedContentDetail>;

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

/**
 * The runtime's sealer for entries about content, or undefined when `audit.storeContent` is off (the default):
 * then entries carry only the hashes they always carry, and nothing is sealed (no data key, no cost).
 */
export function auditContentSealer(services: AuditContentServices): AuditContentSealer | undefined {
  if (!auditConfig(services.config).storeContent) return undefined;
  const { cipher } = services.encryption;
  return async (entry, kind, text) => ({
    contentSealed: await cipher.seal(
      {
        tenant: entry.tenant,
        objectId: entry.objectId,
        label: entry.label,
        kind: `audit.${kind}`,
        scope: auditContentScope,
      },
      text,
    ),
    contentKind: kind,
  });
}

/**
 * Opens the content an entry carries (`detail.contentSealed`), for an auditor holding the tenant's keys
 * (`enclave audit content`). Undefined when the entry carries none; `decrypt_failed` when the value was moved
 * from another entry, the entry's label or object changed, or the tenant's `audit` scope was shredded.
 */
export async function openAuditContent(
  cipher: Pick<ContentCipher, 'open'>,
  entry: {
    tenant: string;
    objectId?: string | undefined;
    label: string;
    detail?: Record<string, unknown> | undefined;
  },
): Promise<string | undefined> {
  const sealed = entry.detail?.contentSealed;
  const kind = entry.detail?.contentKind;
  if (typeof sealed !== 'string') return undefined;
  if (typeof kind !== 'string' || entry.objectId === undefined)
    throw new EnclaveError(
      'invalid_request',
      'The entry carries sealed content without its kind or object id.',
    );
  return cipher.open(
    {
      tenant: entry.tenant,
      objectId: entry.objectId,
      label: entry.label,
      kind: `audit.${kind}`,
      scope: auditContentScope,
    },
    sealed,
  );
}
