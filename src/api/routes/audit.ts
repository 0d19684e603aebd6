import { z } from 'zod';
import { entryPage } from '../../audit/index.js';
import { EnclaveError } from '../../errors/index.js';
import type { Principal } from '../../identity/principal.js';
import { canRead, parseCanonicalLabel } from '../../labels/index.js';
import { defineRoute, type Route } from '../route.js';

/**
 * The auditor API (docs/audit.md): signed tree heads, RFC 6962 proofs and a paginated export. Auditor only:
 * an admin changes keys and configuration, which are the very events audited, so the role that reads the
 * evidence is kept apart from the role that makes it (separation of duties).
 */
const auditors = ['auditor'] as const;

// Query values arrive as text: digits only, so '' or '1e3' or '-1' is a 400 rather than a silent 0.
const count = (name: string) =>
  z
    .string()
    .regex(/^\d{1,15}$/, `${name} must be a non-negative integer`)
    .transform(Number);

const checkpointShape = z.object({
  treeSize: z.number(),
  rootHash: z.string(),
  time: z.number(),
  keyId: z.string(),
  signature: z.string(),
});

const checkpointRoute = defineRoute({
  method: 'GET',
  url: '/v1/audit/checkpoint',
  summary: 'The latest signed tree head (Ed25519), signed on demand when the log grew since the last one.',
  tag: 'audit',
  auth: auditors,
  response: checkpointShape,
  handle: async ({ services }) => services.audit.checkpoint(),
});

const inclusionRoute = defineRoute({
  method: 'GET',
  url: '/v1/audit/proofs/inclusion',
  summary: 'RFC 6962 inclusion proof of entry `index` in the tree of size `tree_size`.',
  tag: 'audit',
  auth: auditors,
  query: z.object({ index: count('index'), tree_size: count('tree_size') }).strict(),
  handle: async ({ services, principal, query }) => {
    // Bad sizes are a 400 first; then the proof (only hashes) is given for entries the auditor may see, and
    // another tenant's entry answers 404 like any other object of another tenant.
    const proof = await services.auditProver.inclusionProof(query.index, query.tree_size);
    const [row] = await services.store.audit.entries(query.index, 1);
    if (row?.index !== query.index || !visible(principal, row.entry)) {
      throw new EnclaveError('not_found', `No audit entry ${query.index} visible to this key.`);
    }
    return proof;
  },
});

const consistencyRoute = defineRoute({
  method: 'GET',
  url: '/v1/audit/proofs/consistency',
  summary: 'RFC 6962 consistency proof between the trees of sizes `from` and `to`.',
  tag: 'audit',
  auth: auditors,
  query: z.object({ from: count('from'), to: count('to') }).strict(),
  handle: async ({ services, query }) => services.auditProver.consistencyProof(query.from, query.to),
});

const entriesRoute = defineRoute({
  method: 'GET',
  url: '/v1/audit/entries',
  summary: "Export of the key's tenant's entries it may read, in index order, as export lines.",
  tag: 'audit',
  auth: auditors,
  query: z
    .object({
      after: count('after').optional(),
      limit: count('limit').pipe(z.number().int().min(1).max(1000)).optional(),
    })
    .strict(),
  handle: async ({ services, principal, query }) => {
    const clearance = clearanceOf(principal);
    const page = await entryPage(services.store.audit, {
      tenant: principal.tenantId,
      after: query.after ?? -1,
      limit: query.limit ?? 100,
      canRead: (label) => readable(clearance, label),
    });
    return {
      object: 'list',
      data: page.data,
      next_after: page.nextAfter,
      has_more: page.hasMore,
      tree_size: page.treeSize,
    };
  },
});

export const auditRoutes: Route[] = [checkpointRoute, inclusionRoute, consistencyRoute, entriesRoute];

const clearanceOf = (principal: Principal) => ({
  label: parseCanonicalLabel(principal.clearance),
  authorizations: principal.authorizations,
});

/** Fail closed: a label that no longer parses is not readable. */
function readable(clearance: ReturnType<typeof clearanceOf>, label: string): boolean {
  try {
    return canRead(clearance, parseCanonicalLabel(label));
  } catch {
    return false;
  }
}

function visible(principal: Principal, entryText: string): boolean {
  try {
    const entry = JSON.parse(entryText) as { tenant?: unknown; label?: unknown };
    return (
      entry.tenant === principal.tenantId &&
      typeof entry.label === 'string' &&
      readable(clearanceOf(principal), entry.label)
    );
  } catch {
    return false;
  }
}
