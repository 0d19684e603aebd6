import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { packageRoot } from '../../config/package-root.js';
import { harmCategories } from '../taxonomy.js';
import { surfaces } from '../verdict.js';
import type { LabelledText } from './labelled-text.js';

const exampleSchema = z.object({
  text: z.string().min(1),
  label: z.enum(['safe', 'unsafe']),
  categories: z.array(z.enum(harmCategories)).default([]),
  /** For hard negatives: the category they resemble (documentation and per-category FPR). */
  near: z.enum(harmCategories).optional(),
  surface: z.enum(surfaces).default('input'),
});

export const ownExamplesPath = (): string => join(packageRoot(), 'src', 'safety', 'data', 'examples.jsonl');

/**
 * The project's own hand-written positives and hard negatives per category (Apache-2.0, this repository).
 * Rows on an untrusted surface teach the sentence-level indirect-injection head.
 */
export function loadOwnExamples(path = ownExamplesPath()): LabelledText[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((line, i) => {
      const e = exampleSchema.parse(JSON.parse(line));
      return {
        source: 'enclave-examples',
        id: `example:${i + 1}`,
        text: e.text,
        label: e.label === 'unsafe' ? 1 : 0,
        categories: e.categories,
        surface: e.surface,
        ...(e.surface === 'tool_output' ? { indirectOnly: true } : {}),
      } satisfies LabelledText;
    });
}
