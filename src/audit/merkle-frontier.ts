import { EnclaveError } from '../errors/index.js';
import { emptyRoot, fromHex, nodeHash, toHex } from './merkle-hash.js';

/** Serialized frontier: the tree size and the roots of its perfect subtrees, largest (leftmost) first. */
export interface FrontierState {
  size: number;
  nodes: string[];
}

/**
 * The compact range [0, size) of an append-only Merkle tree: one perfect-subtree root per set bit of `size`
 * (at most log2(n) hashes). Appending a leaf merges equal-sized subtrees like a binary counter, so appends cost
 * O(1) amortized and the root costs O(log n), with no need to revisit earlier leaves.
 */
export class MerkleFrontier {
  private constructor(
    private count: number,
    private readonly nodes: Buffer[],
  ) {}

  static empty(): MerkleFrontier {
    return new MerkleFrontier(0, []);
  }

  static fromState(state: FrontierState): MerkleFrontier {
    const nodes = state.nodes.map((hex) => fromHex(hex));
    if (!Number.isSafeInteger(state.size) || state.size < 0 || nodes.length !== popCount(state.size)) {
      throw new EnclaveError(
        'audit_unavailable',
        'The stored audit tree head is malformed; run `enclave audit verify`.',
      );
    }
    if (nodes.some((n) => n === undefined)) {
      throw new EnclaveError('audit_unavailable', 'The stored audit tree head holds a malformed hash.');
    }
    return new MerkleFrontier(state.size, nodes as Buffer[]);
  }

  get size(): number {
    return this.count;
  }

  append(leaf: Buffer): void {
    let node = leaf;
    // Each trailing 1-bit of the old size is a perfect subtree the new leaf completes.
    for (let s = this.count; s % 2 === 1; s = Math.floor(s / 2)) {
      const left = this.nodes.pop();
      if (left === undefined) throw new Error('frontier out of step with its size');
      node = nodeHash(left, node);
    }
    this.nodes.push(node);
    this.count += 1;
  }

  /** MTH of the leaves appended so far: the subtree roots folded from the right. */
  root(): Buffer {
    let acc = this.nodes[this.nodes.length - 1];
    if (acc === undefined) return emptyRoot();
    for (let i = this.nodes.length - 2; i >= 0; i -= 1) acc = nodeHash(this.nodes[i] as Buffer, acc);
    return acc;
  }

  toState(): FrontierState {
    return { size: this.count, nodes: this.nodes.map(toHex) };
  }

  clone(): MerkleFrontier {
    return new MerkleFrontier(this.count, [...this.nodes]);
  }
}

function popCount(n: number): number {
  let bits = 0;
  for (let s = n; s > 0; s = Math.floor(s / 2)) bits += s % 2;
  return bits;
}

/** MTH of a list of leaf hashes. */
export function rootOf(leaves: readonly Buffer[]): Buffer {
  const frontier = MerkleFrontier.empty();
  for (const leaf of leaves) frontier.append(leaf);
  return frontier.root();
}
