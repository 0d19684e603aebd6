/** The fields every content ciphertext is bound to (its additional authenticated data). */
export interface ContentAad {
  /** Sealed-format version. */
  version: number;
  tenant: string;
  objectId: string;
  /** What the object is (`message`, `memory`, `tool_output`, …), so a ciphertext cannot change type. */
  kind: string;
  /** The row's label (id or canonical form, whichever the row stores). */
  label: string;
  /** The data key's id. */
  keyId: string;
  /** The data key's generation (the KEK version current when it was made). */
  keyVersion: number;
}

/**
 * Canonical JSON (RFC 8785 for flat objects of strings and integers): keys sorted by code unit,
 * no whitespace. Any change of any field changes the bytes, so GCM authentication fails.
 */
export function canonicalJson(fields: Readonly<Record<string, string | number>>): Buffer {
  const keys = Object.keys(fields).sort();
  const parts = keys.map((k) => {
    const value = fields[k];
    if (typeof value === 'number' && !Number.isSafeInteger(value))
      throw new RangeError(`${k} must be an integer`);
    return `${JSON.stringify(k)}:${JSON.stringify(value)}`;
  });
  return Buffer.from(`{${parts.join(',')}}`, 'utf8');
}

const integer = (name: string, value: number): number => {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${name} must be an integer`);
  return value;
};

/**
 * `canonicalJson` of the content AAD, written out in its fixed key order (keyId, keyVersion, kind, label,
 * objectId, tenant, version: code-unit order) instead of sorting and quoting the keys on every seal and open;
 * the bytes are the same (aes-gcm.test.ts compares them).
 */
export const canonicalAad = (aad: ContentAad): Buffer =>
  Buffer.from(
    `{"keyId":${JSON.stringify(aad.keyId)},"keyVersion":${integer('keyVersion', aad.keyVersion)},` +
      `"kind":${JSON.stringify(aad.kind)},"label":${JSON.stringify(aad.label)},` +
      `"objectId":${JSON.stringify(aad.objectId)},"tenant":${JSON.stringify(aad.tenant)},` +
      `"version":${integer('version', aad.version)}}`,
    'utf8',
  );
