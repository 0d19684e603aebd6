import { hash } from 'node:crypto';
import { z } from 'zod';
import { EnclaveError } from '../errors/index.js';
import { canonicalJson } from './canonical-json.js';
import { writeEntryFast } from './entry-writer.js';

/** Every security-relevant event the log records. */
export const auditEventTypes = [
  'auth.ok',
  'auth.denied',
  'access.allow',
  'access.deny',
  'model.call',
  'safety.verdict',
  'memory.write',
  'memory.read',
  'memory.delete',
  'label.downgrade',
  'key.create',
  'key.revoke',
  'key.rotate',
  'key.rewrap',
  'key.retire',
  'config.change',
  'deletion.receipt',
  // Durable runs (src/runs): a tool call held for a human, the human's answer, an executed tool call.
  'approval.request',
  'approval.decision',
  'tool.call',
] as const;
export type AuditEventType = (typeof auditEventTypes)[number];
const eventTypeSet: ReadonlySet<string> = new Set(auditEventTypes);

const text = (max: number) => z.string().min(1).max(max);
const jsonValue: z.ZodType<unknown> = z.lazy(() =>
  z.union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(jsonValue),
    z.record(z.string(), jsonValue),
  ]),
);

// Detail keys that would put a secret or content in clear into a log that is kept forever and exported.
export const forbiddenDetailKey =
  /^(api_?key|key|secret|password|passphrase|token|authorization|prompt|text|content|input|output)$/i;

/**
 * One audit entry. Labels are canonical label strings (src/labels); `label` classifies the entry itself, so
 * exports and the auditor API can be filtered like any other labelled object. Prompt text is never logged: put
 * `promptSha256(text)` in `detail.promptSha256` instead.
 */
export const auditEntrySchema = z
  .object({
    type: z.enum(auditEventTypes),
    /** Epoch milliseconds. */
    time: z.number().int().nonnegative(),
    tenant: text(200),
    /** Key id, OIDC subject or `system`; never a key or token. */
    principal: text(300),
    onBehalfOf: text(300).optional(),
    decision: z.enum(['allow', 'deny']).optional(),
    rule: text(300).optional(),
    objectId: text(300).optional(),
    objectLabel: text(1000).optional(),
    sessionLabel: text(1000).optional(),
    endpoint: text(300).optional(),
    label: text(1000),
    detail: z.record(z.string(), jsonValue).optional(),
  })
  .strict()
  .superRefine((entry, ctx) => {
    for (const key of Object.keys(entry.detail ?? {})) {
      if (forbiddenDetailKey.test(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['detail', key],
          message: 'secrets and content must not be logged (hash them)',
        });
      }
    }
  });

export type AuditEntry = z.output<typeof auditEntrySchema>;

/** Validates an entry and returns its canonical JSON text (what is stored and exported). */
export function canonicalEntry(entry: AuditEntry): string {
  const fast = writeEntryFast(entry, eventTypeSet, forbiddenDetailKey);
  if (fast !== undefined) return fast;
  const parsed = auditEntrySchema.safeParse(entry);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EnclaveError(
      'invalid_request',
      `Invalid audit entry at ${issue?.path.join('.') || '(root)'}: ${issue?.message}.`,
    );
  }
  return canonicalJson(parsed.data);
}

/**
 * The leaf data of entry `index`: canonical JSON of `{entry, index}`. Binding the position into the leaf makes
 * a deleted, reordered or inserted row show up at the first index out of place, not only as a wrong root.
 * `entryText` must already be canonical, which keeps this a string concatenation on the hot verify path.
 */
export const leafData = (index: number, entryText: string): string =>
  `{"entry":${entryText},"index":${index}}`;

/** `sha256:<hex>` of a prompt or other content that must be attributable but not stored. */
export const promptSha256 = (content: string): string => 'sha256:' + hash('sha256', content, 'hex');
