import { untrustedSurfaces, type Surface } from '../verdict.js';
import type { Finding } from './finding.js';
import { GateSet } from './finding.js';
import { detectJailbreak, gates as jailbreakGates } from './jailbreak.js';
import { detectKeywords, gates as keywordGates } from './keywords.js';
import { detectPii } from './pii.js';
import { detectSecrets, gates as secretGates } from './secrets.js';

const gates = GateSet.union(secretGates, jailbreakGates, keywordGates);

export type { Finding } from './finding.js';

/** Layer 1: every deterministic detector, with spans. Pure and fast; no model, no I/O. */
export function detect(text: string, surface: Surface): Finding[] {
  const present = gates.present(text.toLowerCase());
  return [
    ...detectSecrets(text, present),
    ...detectPii(text),
    ...detectJailbreak(text, untrustedSurfaces.includes(surface), present),
    ...detectKeywords(text, present),
  ];
}
