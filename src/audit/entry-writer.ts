/**
 * The hot path of `canonicalEntry`: one pass that checks an entry against the rules of `auditEntrySchema` and
 * writes its canonical JSON. Running the zod schema and the generic canonical writer on every append cost
 * ~15 µs per entry, the largest share of an append (see docs/benchmarks.md). This check is deliberately
 * conservative: it answers `undefined` for anything it is not sure about (unknown or missing fields, odd
 * values, non-plain objects), and `canonicalEntry` then falls back to the zod schema, which stays the single
 * judge of what is invalid and of the error message. A property test checks both paths write the same bytes.
 */
import { canonicalJson } from './canonical-json.js';

type FieldRule = (value: unknown) => boolean;

const text =
  (max: number): FieldRule =>
  (value) =>
    typeof value === 'string' && value.length >= 1 && value.length <= max;

// The same bounds as auditEntrySchema; `required` fields must be present and not undefined.
const fieldRules: Record<string, { rule: FieldRule; required: boolean }> = {
  type: { rule: () => true, required: true }, // checked against the event-type set by the caller
  time: { rule: (v) => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0, required: true },
  tenant: { rule: text(200), required: true },
  principal: { rule: text(300), required: true },
  onBehalfOf: { rule: text(300), required: false },
  decision: { rule: (v) => v === 'allow' || v === 'deny', required: false },
  rule: { rule: text(300), required: false },
  objectId: { rule: text(300), required: false },
  objectLabel: { rule: text(1000), required: false },
  sessionLabel: { rule: text(1000), required: false },
  endpoint: { rule: text(300), required: false },
  label: { rule: text(1000), required: true },
  detail: { rule: (v) => isPlainObject(v) && plainJson(v, 0), required: false },
};

// Canonical order of the top-level keys (UTF-16 code-unit order, as canonicalJson sorts), with their JSON names.
const fieldOrder = Object.keys(fieldRules)
  .sort()
  .map((key) => ({ key, name: JSON.stringify(key) + ':' }));
const requiredCount = Object.values(fieldRules).filter((f) => f.required).length;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** JSON values only, no undefined anywhere, bounded depth (a cycle ends up here too and falls back). */
function plainJson(value: unknown, depth: number): boolean {
  if (depth > 32) return false;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      if (value === null) return true;
      if (Array.isArray(value)) return value.every((item) => plainJson(item, depth + 1));
      if (!isPlainObject(value)) return false;
      for (const key of Object.keys(value)) if (!plainJson(value[key], depth + 1)) return false;
      return true;
    default:
      return false;
  }
}

/**
 * Canonical JSON of `entry` when it is certainly valid, else undefined (let the zod schema decide).
 * `types` is the set of event types; `forbiddenDetailKey` the detail keys that must never be logged.
 */
export function writeEntryFast(
  entry: unknown,
  types: ReadonlySet<string>,
  forbiddenDetailKey: RegExp,
): string | undefined {
  if (!isPlainObject(entry)) return undefined;
  let required = 0;
  for (const key of Object.keys(entry)) {
    const field = fieldRules[key];
    const value = entry[key];
    if (field === undefined || !Object.hasOwn(fieldRules, key)) return undefined;
    if (value === undefined) {
      if (field.required) return undefined;
      continue;
    }
    if (!field.rule(value)) return undefined;
    if (field.required) required += 1;
  }
  if (required !== requiredCount || !types.has(entry.type as string)) return undefined;
  const detail = entry.detail as Record<string, unknown> | undefined;
  if (detail !== undefined && Object.keys(detail).some((key) => forbiddenDetailKey.test(key)))
    return undefined;
  let out = '';
  for (const { key, name } of fieldOrder) {
    const value = entry[key];
    if (value === undefined) continue;
    out +=
      (out === '' ? '{' : ',') + name + (key === 'detail' ? canonicalJson(value) : JSON.stringify(value));
  }
  return out + '}';
}
