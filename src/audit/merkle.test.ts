import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MerkleFrontier, rootOf } from './merkle-frontier.js';
import { emptyRoot, leafHash, nodeHash, toHex } from './merkle-hash.js';
import { consistencyProof, inclusionProof } from './merkle-proofs.js';
import { verifyConsistency, verifyInclusion } from './merkle-verify.js';

const datasets = fileURLToPath(new URL('../../../shared/datasets/merkle', import.meta.url));

function probeFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? probeFiles(path) : name.endsWith('.json') ? [path] : [];
  });
}

const b64 = (value: string): Buffer => Buffer.from(value, 'base64');
const rel = (path: string): string => path.slice(datasets.length + 1);

interface InclusionProbe {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  wantErr: boolean;
}
interface ConsistencyProbe {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  wantErr: boolean;
}

const inclusionProbes = probeFiles(join(datasets, 'inclusion')).map(
  (f) => [rel(f), JSON.parse(readFileSync(f, 'utf8')) as InclusionProbe] as const,
);
const consistencyProbes = probeFiles(join(datasets, 'consistency')).map(
  (f) => [rel(f), JSON.parse(readFileSync(f, 'utf8')) as ConsistencyProbe] as const,
);

describe('transparency-dev probes', () => {
  it('finds all 98 + 98 probes', () => {
    expect(inclusionProbes).toHaveLength(98);
    expect(consistencyProbes).toHaveLength(98);
  });

  it.each(inclusionProbes)('inclusion %s', (_name, p) => {
    const failure = verifyInclusion(
      p.leafIdx,
      p.treeSize,
      b64(p.leafHash),
      (p.proof ?? []).map(b64),
      b64(p.root),
    );
    if (p.wantErr) expect(failure).toBeDefined();
    else expect(failure).toBeUndefined();
  });

  it.each(consistencyProbes)('consistency %s', (_name, p) => {
    const failure = verifyConsistency(p.size1, p.size2, (p.proof ?? []).map(b64), b64(p.root1), b64(p.root2));
    if (p.wantErr) expect(failure).toBeDefined();
    else expect(failure).toBeUndefined();
  });
});

// The eight leaves of RFC 6962's reference tests (certificate-transparency-go and transparency-dev/merkle).
const rfcLeaves = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((hex) => leafHash(Buffer.from(hex, 'hex')));
const rfcRoots = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

describe('RFC 6962 tree', () => {
  it('has the known empty root', () => {
    expect(toHex(emptyRoot())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(MerkleFrontier.empty().root())).toBe(toHex(emptyRoot()));
  });

  it.each(rfcRoots.map((root, i) => [i + 1, root] as const))(
    'has the known root for %i leaves',
    (n, root) => {
      expect(toHex(rootOf(rfcLeaves.slice(0, n)))).toBe(root);
    },
  );

  it('matches the recursive definition for every size up to 70 and survives a state round trip', () => {
    const leaves = Array.from({ length: 70 }, (_, i) => leafHash(`leaf ${i}`));
    const mth = (d: Buffer[]): Buffer => {
      if (d.length === 0) return emptyRoot();
      if (d.length === 1) return d[0] as Buffer;
      let k = 1;
      while (k * 2 < d.length) k *= 2;
      return nodeHash(mth(d.slice(0, k)), mth(d.slice(k)));
    };
    let frontier = MerkleFrontier.empty();
    for (let n = 1; n <= leaves.length; n += 1) {
      frontier.append(leaves[n - 1] as Buffer);
      frontier = MerkleFrontier.fromState(frontier.toState());
      expect(toHex(frontier.root())).toBe(toHex(mth(leaves.slice(0, n))));
    }
  });

  it('generates inclusion and consistency proofs that verify, and fail for other leaves or roots', () => {
    const leaves = Array.from({ length: 37 }, (_, i) => leafHash(`entry ${i}`));
    for (let size = 1; size <= leaves.length; size += 1) {
      const tree = leaves.slice(0, size);
      const root = rootOf(tree);
      for (let i = 0; i < size; i += 1) {
        const proof = inclusionProof(i, tree);
        expect(verifyInclusion(i, size, tree[i] as Buffer, proof, root)).toBeUndefined();
        expect(verifyInclusion(i, size, leafHash('forged'), proof, root)).toBeDefined();
      }
      for (let from = 1; from <= size; from += 1) {
        const proof = consistencyProof(from, tree);
        const old = rootOf(leaves.slice(0, from));
        expect(verifyConsistency(from, size, proof, old, root)).toBeUndefined();
        if (from < size) expect(verifyConsistency(from, size, proof, leafHash('x'), root)).toBeDefined();
      }
    }
  });

  it('refuses a malformed stored frontier', () => {
    expect(() => MerkleFrontier.fromState({ size: 3, nodes: [toHex(leafHash('a'))] })).toThrow(/malformed/);
  });
});
