import { untrustedSurfaces, type Surface } from '../verdict.js';
import type { Finding } from './finding.js';
import { detectJailbreak } from './jailbreak.js';
import { detectKeywords } from './keywords.js';
import { detectPii } from './pii.js';
import { detectSecrets } from './secrets.js';

export type { Finding } from './finding.js';

/** Layer 1: every deterministic detector, with spans. Pure and fast; no model, no I/O. */
export function detect(text: string, surface: Surface): Finding[] {
  return [
    ...detectSecrets(text),
    ...detectPii(text),
    ...detectJailbreak(text, untrustedSurfaces.includes(surface)),
    ...detectKeywords(text),
  ];
}
