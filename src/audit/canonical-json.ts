import { EnclaveError } from '../errors/index.js';

/**
 * Canonical JSON: object keys sorted by UTF-16 code units, no whitespace, numbers as ECMAScript prints them
 * (the RFC 8785 rules for the values audit entries use). Two parties that hold the same value produce the same
 * bytes, so a leaf hash can be recomputed by anyone. Non-finite numbers, bigints, functions, symbols, cycles,
 * `undefined` inside arrays and non-plain objects (Date, Map, class instances) are refused rather than coerced,
 * because a silent coercion would make two different values hash alike. Object properties whose value is
 * `undefined` are omitted, as JSON.stringify does, so optional fields may be absent or undefined.
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set<object>());
}

function write(value: unknown, seen: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw refuse(`the number ${String(value)} is not finite`);
      return JSON.stringify(value);
    case 'object':
      if (value === null) return 'null';
      if (seen.has(value)) throw refuse('the value contains a cycle');
      seen.add(value);
      try {
        return Array.isArray(value) ? writeArray(value, seen) : writeObject(value, seen);
      } finally {
        seen.delete(value);
      }
    default:
      throw refuse(`a ${typeof value} cannot be represented`);
  }
}

function writeArray(items: readonly unknown[], seen: Set<object>): string {
  const parts: string[] = [];
  for (const item of items) {
    if (item === undefined) throw refuse('an array holds undefined');
    parts.push(write(item, seen));
  }
  return `[${parts.join(',')}]`;
}

function writeObject(object: object, seen: Set<object>): string {
  const prototype: unknown = Object.getPrototypeOf(object);
  if (prototype !== Object.prototype && prototype !== null)
    throw refuse('only plain objects can be represented');
  const record = object as Record<string, unknown>;
  const parts: string[] = [];
  for (const key of Object.keys(record).sort()) {
    const item = record[key];
    if (item === undefined) continue;
    parts.push(`${JSON.stringify(key)}:${write(item, seen)}`);
  }
  return `{${parts.join(',')}}`;
}

const refuse = (why: string): EnclaveError =>
  new EnclaveError('invalid_request', `Cannot write canonical JSON: ${why}.`);
