import { HASH_BYTES, nodeHash } from './merkle-hash.js';

/** Why a proof failed, for a verifier to show; `undefined` means the proof holds. */
export type ProofFailure = string | undefined;

const odd = (n: number): boolean => n % 2 === 1;
const half = (n: number): number => Math.floor(n / 2);
const sameBytes = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

/** Checks an inclusion proof of `leaf` at `index` in the tree of `size` with `root` (RFC 9162 2.1.3.2). */
export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): ProofFailure {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) {
    return `index ${index} is outside a tree of size ${size}`;
  }
  if (
    leaf.length !== HASH_BYTES ||
    root.length !== HASH_BYTES ||
    proof.some((p) => p.length !== HASH_BYTES)
  ) {
    return 'a hash has the wrong length';
  }
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0) return 'the proof is longer than the path';
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      if (!odd(fn)) {
        do {
          fn = half(fn);
          sn = half(sn);
        } while (!odd(fn) && fn !== 0);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return 'the proof is shorter than the path';
  return sameBytes(r, root) ? undefined : 'the computed root does not match';
}

/** Checks that the tree of `size2` with `root2` extends the tree of `size1` with `root1` (RFC 9162 2.1.4.2). */
export function verifyConsistency(
  size1: number,
  size2: number,
  proof: readonly Uint8Array[],
  root1: Uint8Array,
  root2: Uint8Array,
): ProofFailure {
  if (!Number.isSafeInteger(size1) || !Number.isSafeInteger(size2)) return 'a tree size is not an integer';
  // Every tree extends the empty one, so such a proof proves nothing; refuse it (transparency-dev semantics).
  if (size1 === 0) return 'a consistency proof from the empty tree proves nothing';
  if (size2 < size1) return `size2 (${size2}) is smaller than size1 (${size1})`;
  if (size1 === size2) {
    if (proof.length > 0) return 'equal sizes need an empty proof';
    return sameBytes(root1, root2) ? undefined : 'equal sizes but different roots';
  }
  if (proof.length === 0) return 'the proof is empty';
  if ([root1, root2, ...proof].some((h) => h.length !== HASH_BYTES)) return 'a hash has the wrong length';
  // When size1 is a power of two its root is itself the first node of the path and is not sent.
  const path = isPowerOfTwo(size1) ? [root1, ...proof] : [...proof];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (odd(fn)) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return 'the proof is longer than the path';
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (!odd(fn)) {
        do {
          fn = half(fn);
          sn = half(sn);
        } while (!odd(fn) && fn !== 0);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  if (sn !== 0) return 'the proof is shorter than the path';
  if (!sameBytes(fr, root1)) return 'the proof does not lead to the first root';
  return sameBytes(sr, root2) ? undefined : 'the proof does not lead to the second root';
}

function isPowerOfTwo(n: number): boolean {
  let s = n;
  while (s > 1 && s % 2 === 0) s /= 2;
  return s === 1;
}
