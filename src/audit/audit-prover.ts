import { EnclaveError } from '../errors/index.js';
import type { AuditRepo } from '../store/repos/audit-repo.js';
import type { SignedCheckpoint } from './checkpoint.js';
import { fromHex, nodeHash, toHex } from './merkle-hash.js';
import { consistencyRanges, inclusionRanges, type LeafRange } from './merkle-proofs.js';

export interface InclusionProofResult {
  index: number;
  treeSize: number;
  leafHash: string;
  rootHash: string;
  /** Hex hashes, leaf upwards (RFC 6962 audit path). */
  proof: string[];
}

export interface ConsistencyProofResult {
  from: number;
  to: number;
  fromRoot: string;
  toRoot: string;
  proof: string[];
}

/** The auditor-only proof API; routes must check the auditor role before calling it. */
export interface AuditProver {
  inclusionProof(index: number, treeSize: number): Promise<InclusionProofResult>;
  consistencyProof(from: number, to: number): Promise<ConsistencyProofResult>;
  latestCheckpoint(): Promise<SignedCheckpoint | undefined>;
}

// Perfect subtrees of at least 2^10 leaves are cached: the log is append-only, so they never change, and a
// proof then costs O(log n) cached hashes plus at most a few thousand leaf reads instead of a full scan.
const cachedLevel = 10;
const cacheLimit = 200_000;

export function createAuditProver(repo: AuditRepo): AuditProver {
  const cache = new Map<string, Buffer>();

  async function perfect(start: number, level: number): Promise<Buffer> {
    if (level <= cachedLevel) return fold(await leaves(start, start + 2 ** level));
    const key = `${level}:${start}`;
    const hit = cache.get(key);
    if (hit) return hit;
    const half = 2 ** (level - 1);
    const value = nodeHash(await perfect(start, level - 1), await perfect(start + half, level - 1));
    if (cache.size >= cacheLimit) cache.clear();
    cache.set(key, value);
    return value;
  }

  async function leaves(from: number, to: number): Promise<Buffer[]> {
    const hashes = await repo.leafHashes(from, to);
    const parsed = hashes.map(fromHex);
    if (parsed.length !== to - from || parsed.some((h) => h === undefined)) {
      throw new EnclaveError(
        'audit_unavailable',
        'The stored audit log has gaps or bad hashes; run `enclave audit verify`.',
      );
    }
    return parsed as Buffer[];
  }

  /** MTH of [start, end): its perfect subtrees (one per set bit of the length, largest first), folded from the right. */
  async function rangeHash({ start, end }: LeafRange): Promise<Buffer> {
    const parts: Buffer[] = [];
    let at = start;
    for (let level = Math.floor(Math.log2(end - start)); level >= 0; level -= 1) {
      if (end - at >= 2 ** level) {
        parts.push(await perfect(at, level));
        at += 2 ** level;
      }
    }
    let acc = parts.pop() as Buffer;
    while (parts.length > 0) acc = nodeHash(parts.pop() as Buffer, acc);
    return acc;
  }

  async function treeSizeAtMost(size: number): Promise<void> {
    const head = await repo.head();
    if (size > head.treeSize) {
      throw new EnclaveError(
        'invalid_request',
        `The audit log has ${head.treeSize} entries; tree size ${size} does not exist yet.`,
      );
    }
  }

  return {
    async inclusionProof(index, treeSize) {
      const ranges = inclusionRanges(index, treeSize);
      await treeSizeAtMost(treeSize);
      const proof = await Promise.all(ranges.map(rangeHash));
      const [leaf] = await leaves(index, index + 1);
      const rootHash = await rangeHash({ start: 0, end: treeSize });
      return {
        index,
        treeSize,
        leafHash: toHex(leaf as Buffer),
        rootHash: toHex(rootHash),
        proof: proof.map(toHex),
      };
    },
    async consistencyProof(from, to) {
      const ranges = consistencyRanges(from, to);
      await treeSizeAtMost(to);
      const proof = await Promise.all(ranges.map(rangeHash));
      const [fromRoot, toRoot] = await Promise.all([
        rangeHash({ start: 0, end: from }),
        rangeHash({ start: 0, end: to }),
      ]);
      return { from, to, fromRoot: toHex(fromRoot), toRoot: toHex(toRoot), proof: proof.map(toHex) };
    },
    latestCheckpoint: () => repo.latestCheckpoint(),
  };
}

function fold(leaves: Buffer[]): Buffer {
  // A perfect subtree: pair up level by level.
  let level = leaves;
  while (level.length > 1) {
    const next: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) next.push(nodeHash(level[i] as Buffer, level[i + 1] as Buffer));
    level = next;
  }
  return level[0] as Buffer;
}
