import type { z } from 'zod';
import { EnclaveError } from '../errors/index.js';

/** Parses request input with a zod schema; the first issue becomes a 400 naming the exact field. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, where: 'body' | 'query' | 'path'): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = issue
    ? issue.path
        .map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? String(p) : `.${String(p)}`))
        .join('')
    : '';
  const field = path || where;
  const message = issue?.message ?? 'invalid value';
  throw new EnclaveError(
    'invalid_request',
    `Invalid ${where === 'path' ? 'path parameter' : where} field '${field}': ${message}.`,
    {
      param: path || null,
    },
  );
}
