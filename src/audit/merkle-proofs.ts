import { EnclaveError } from '../errors/index.js';
import { rootOf } from './merkle-frontier.js';
import { splitPoint } from './merkle-hash.js';

/** A half-open leaf range [start, end) whose MTH is one element of a proof. */
export interface LeafRange {
  start: number;
  end: number;
}

/**
 * The ranges whose hashes form the RFC 6962 audit path PATH(index, D[0:size]), leaf upwards (section 2.1.1).
 * Proofs are described as ranges first so a store-backed prover can fetch and cache subtree hashes itself.
 */
export function inclusionRanges(index: number, size: number): LeafRange[] {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    throw new EnclaveError('invalid_request', `Leaf index ${index} is not inside a tree of size ${size}.`);
  }
  const out: LeafRange[] = [];
  const walk = (m: number, lo: number, hi: number): void => {
    if (hi - lo <= 1) return;
    const k = splitPoint(hi - lo);
    if (m < k) {
      walk(m, lo, lo + k);
      out.push({ start: lo + k, end: hi });
    } else {
      walk(m - k, lo + k, hi);
      out.push({ start: lo, end: lo + k });
    }
  };
  walk(index, 0, size);
  return out;
}

/** The ranges of the RFC 6962 consistency proof PROOF(from, D[0:to]) (section 2.1.2); 0 < from <= to. */
export function consistencyRanges(from: number, to: number): LeafRange[] {
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 1 || from > to) {
    throw new EnclaveError(
      'invalid_request',
      `No consistency proof from tree size ${from} to ${to} (need 0 < from <= to).`,
    );
  }
  const out: LeafRange[] = [];
  const sub = (m: number, lo: number, hi: number, complete: boolean): void => {
    if (m === hi - lo) {
      if (!complete) out.push({ start: lo, end: hi });
      return;
    }
    const k = splitPoint(hi - lo);
    if (m <= k) {
      sub(m, lo, lo + k, complete);
      out.push({ start: lo + k, end: hi });
    } else {
      sub(m - k, lo + k, hi, false);
      out.push({ start: lo, end: lo + k });
    }
  };
  sub(from, 0, to, true);
  return out;
}

/** Inclusion proof over leaf hashes held in memory (tests, offline tools). */
export const inclusionProof = (index: number, leaves: readonly Buffer[]): Buffer[] =>
  inclusionRanges(index, leaves.length).map((r) => rootOf(leaves.slice(r.start, r.end)));

/** Consistency proof over leaf hashes held in memory. */
export const consistencyProof = (from: number, leaves: readonly Buffer[]): Buffer[] =>
  consistencyRanges(from, leaves.length).map((r) => rootOf(leaves.slice(r.start, r.end)));
