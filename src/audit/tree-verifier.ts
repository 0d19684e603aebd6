import type { KeyObject } from 'node:crypto';
import { leafData } from './audit-entry.js';
import { checkpointSignatureFailure, type SignedCheckpoint } from './checkpoint.js';
import { MerkleFrontier } from './merkle-frontier.js';
import { leafHashHex, toHex } from './merkle-hash.js';

export interface VerifyReport {
  ok: boolean;
  /** Entries checked (the tree size when intact). */
  entries: number;
  /** Checkpoints whose root and signature were checked. */
  checkpoints: number;
  /** The first index that is missing, out of place or does not match; absent when no entry is at fault. */
  firstBadIndex?: number;
  problem?: string;
}

/**
 * Recomputes the tree from entries fed in index order: each leaf hash from its entry and index, then every
 * checkpoint root at its tree size. It stops at the first fault, because after it every later root differs too.
 * A rewrite that also recomputes the leaf hash is only visible against a signed checkpoint, so it is named as the
 * range between the last good checkpoint and the first bad one; frequent checkpoints keep that range short.
 */
export class TreeVerifier {
  private readonly frontier = MerkleFrontier.empty();
  private readonly pending: SignedCheckpoint[];
  private checked = 0;
  private lastGoodSize = 0;
  private fault: { index?: number; problem: string } | undefined;

  constructor(checkpoints: readonly SignedCheckpoint[], publicKeys: readonly KeyObject[]) {
    this.pending = [...checkpoints].sort((a, b) => a.treeSize - b.treeSize);
    for (const c of this.pending) {
      const failure = checkpointSignatureFailure(c, publicKeys);
      if (failure) {
        this.fault = { problem: failure };
        return;
      }
    }
    this.checkDue();
  }

  get failed(): boolean {
    return this.fault !== undefined;
  }

  /** Feeds the next stored entry; returns false once a fault is found (stop feeding). */
  add(index: number, storedLeafHash: string, entryText: string): boolean {
    if (this.fault) return false;
    const expected = this.frontier.size;
    if (index !== expected) {
      this.fault = {
        index: expected,
        problem: `entry ${expected} is missing (the next stored index is ${index})`,
      };
      return false;
    }
    // Hex in, hex compared: one digest and one string per entry on a path run for every entry of the log.
    const leaf = leafHashHex(leafData(index, entryText));
    if (leaf !== storedLeafHash) {
      this.fault = { index, problem: `entry ${index} does not match its leaf hash` };
      return false;
    }
    this.frontier.append(Buffer.from(leaf, 'hex'));
    this.checkDue();
    return this.fault === undefined;
  }

  /** Ends the run; `headSize` is the tree size the store claims (live verification). */
  finish(headSize?: number): VerifyReport {
    const size = this.frontier.size;
    if (!this.fault && headSize !== undefined && headSize !== size) {
      this.fault =
        headSize > size
          ? { index: size, problem: `the log head says ${headSize} entries but entry ${size} is missing` }
          : {
              index: headSize,
              problem: `entry ${headSize} is beyond the log head (${headSize} entries): it was inserted`,
            };
    }
    const beyond = this.pending[0];
    if (!this.fault && beyond) {
      this.fault = {
        index: size,
        problem: `a checkpoint covers ${beyond.treeSize} entries but entry ${size} is missing`,
      };
    }
    const report: VerifyReport = { ok: !this.fault, entries: size, checkpoints: this.checked };
    if (this.fault?.index !== undefined) report.firstBadIndex = this.fault.index;
    if (this.fault) report.problem = this.fault.problem;
    return report;
  }

  /** The current root (MTH of the entries fed so far). */
  root(): string {
    return toHex(this.frontier.root());
  }

  private checkDue(): void {
    while (this.pending[0] && this.pending[0].treeSize === this.frontier.size) {
      const c = this.pending.shift() as SignedCheckpoint;
      if (c.rootHash !== toHex(this.frontier.root())) {
        this.fault = {
          index: this.lastGoodSize,
          problem:
            `the checkpoint at tree size ${c.treeSize} does not match the entries: an entry in [${this.lastGoodSize}, ` +
            `${c.treeSize}) was rewritten together with its leaf hash`,
        };
        return;
      }
      this.checked += 1;
      this.lastGoodSize = c.treeSize;
    }
  }
}
