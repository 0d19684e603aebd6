import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  linkSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { EnclaveError } from '../errors/index.js';

const versionSchema = z.object({
  version: z.number().int().positive(),
  createdAt: z.number().int(),
  /** Local providers: the KEK itself, base64url. Absent once retired (erased). */
  key: z.string().optional(),
  /** KMS providers: the KMS key that serves this version. */
  kmsKeyId: z.string().optional(),
});

const keyringSchema = z.object({
  format: z.literal(1),
  provider: z.enum(['local', 'aws-kms']),
  current: z.number().int().positive(),
  minDecrypt: z.number().int().positive(),
  versions: z.array(versionSchema).min(1),
});

export type KeyringVersion = z.infer<typeof versionSchema>;
export type Keyring = z.infer<typeof keyringSchema>;

/**
 * The file stamps seen in the current turn of the event loop, by path. A stored turn seals several values and
 * each asks for the current version: the file is checked once per loop turn instead of once per seal. Another
 * process's change is seen from the next loop turn on (it could never be ordered more finely than that), and a
 * write from this process clears its path at once, for every instance.
 */
const turnStamps = new Map<string, string>();
let clearing = false;

function stampOf(path: string): string | undefined {
  let stamp = turnStamps.get(path);
  if (stamp !== undefined) return stamp;
  try {
    const s = statSync(path);
    stamp = `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return undefined; // absent: asked again next time (it may be created at any moment)
  }
  turnStamps.set(path, stamp);
  if (!clearing) {
    clearing = true;
    setImmediate(() => {
      turnStamps.clear();
      clearing = false;
    });
  }
  return stamp;
}

/**
 * The versioned key-ring state of a key provider, kept in one JSON file (mode 0600, dir 0700). It is
 * re-read whenever the file changes, so a `keys rotate` run from the CLI reaches a running server.
 * Writes are atomic (temp file + rename); the first creation is create-if-absent (link), so two
 * processes starting at once agree on one key ring.
 */
export class KeyringFile {
  private cached: { stamp: string; ring: Keyring } | undefined;

  constructor(readonly path: string) {}

  /** The key ring, or undefined when the file does not exist yet. */
  read(): Keyring | undefined {
    const stamp = stampOf(this.path);
    if (stamp === undefined) return undefined;
    if (this.cached?.stamp === stamp) return this.cached.ring;
    let parsed: ReturnType<typeof keyringSchema.safeParse>;
    try {
      parsed = keyringSchema.safeParse(JSON.parse(readFileSync(this.path, 'utf8')));
    } catch (cause) {
      throw new EnclaveError(
        'unavailable',
        `Key file ${this.path} is not valid JSON; restore it from a backup.`,
        { cause },
      );
    }
    if (!parsed.success) {
      throw new EnclaveError(
        'unavailable',
        `Key file ${this.path} is not a valid Enclave key ring; restore it from a backup.`,
      );
    }
    this.cached = { stamp, ring: parsed.data };
    return parsed.data;
  }

  /** Reads the ring, creating it with `initial()` if absent. */
  readOrCreate(initial: () => Keyring): Keyring {
    const existing = this.read();
    if (existing) return existing;
    const temp = this.writeTemp(initial());
    try {
      linkSync(temp, this.path);
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST') throw error;
    } finally {
      rmSync(temp, { force: true });
    }
    const ring = this.read();
    if (!ring) throw new EnclaveError('unavailable', `Key file ${this.path} could not be created.`);
    return ring;
  }

  /** Replaces the ring atomically. */
  write(ring: Keyring): void {
    renameSync(this.writeTemp(keyringSchema.parse(ring)), this.path);
    turnStamps.delete(this.path);
    this.cached = undefined;
  }

  private writeTemp(ring: Keyring): string {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temp = `${this.path}.${randomBytes(6).toString('hex')}.tmp`;
    writeFileSync(temp, JSON.stringify(ring, null, 2) + '\n', { mode: 0o600, flag: 'wx' });
    chmodSync(temp, 0o600);
    return temp;
  }
}

export function versionOf(ring: Keyring, version: number): KeyringVersion | undefined {
  return ring.versions.find((v) => v.version === version);
}

/** The ring after a rotation: a new version (one above the highest) made current. */
export function withNewVersion(ring: Keyring, entry: Omit<KeyringVersion, 'version'>): Keyring {
  const version = Math.max(...ring.versions.map((v) => v.version)) + 1;
  return { ...ring, current: version, versions: [...ring.versions, { ...entry, version }] };
}

/** Checks a retire request against the ring; returns the ring with the raised minimum. */
export function withMinimum(ring: Keyring, version: number, erase: boolean): Keyring {
  if (!Number.isInteger(version) || version < 1) {
    throw new EnclaveError('invalid_request', `--below must be a positive integer version (got ${version}).`);
  }
  if (version > ring.current) {
    throw new EnclaveError(
      'invalid_request',
      `Cannot retire the current version ${ring.current}: rotate first, then rewrap, then retire.`,
    );
  }
  if (version < ring.minDecrypt) {
    throw new EnclaveError(
      'invalid_request',
      `The minimum decryption version is already ${ring.minDecrypt}; it never goes down.`,
    );
  }
  const versions = ring.versions.map((v) => {
    if (!erase || v.version >= version) return v;
    const { key: _erased, ...rest } = v;
    return rest;
  });
  return { ...ring, minDecrypt: version, versions };
}
