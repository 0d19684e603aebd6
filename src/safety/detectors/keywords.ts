import type { Category } from '../taxonomy.js';
import { GateSet, gatePasses, scan, type Finding } from './finding.js';

interface Keyword {
  category: Category;
  kind: string;
  pattern: RegExp;
  score: number;
  gate?: readonly string[];
}

/**
 * Policy phrases precise enough to act on without the model: synthesis or deployment of mass-casualty agents,
 * and the red lines in their operational form. Mentions alone ("the history of sarin", "laws against mass
 * surveillance") do not match; each phrase needs the operational verb next to the object.
 */
const keywords: readonly Keyword[] = [
  {
    category: 'weapons',
    kind: 'cbrn_synthesis',
    gate: [
      'sarin',
      'tabun',
      'soman',
      'vx',
      'novichok',
      'mustard gas',
      'nerve agent',
      'nerve gas',
      'ricin',
      'anthrax',
      'botulinum',
      'smallpox',
      'plague bacteria',
      'uranium',
      'dirty bomb',
      'bioweapon',
      'chemical weapon',
    ],
    pattern:
      /\b(?:synthesi[sz]e|make|produce|manufacture|cook|brew|weaponi[sz]e|culture|aerosoli[sz]e|disperse|enrich)\b[^.\n?]{0,40}\b(?:sarin|tabun|soman|VX|novichok|mustard gas|nerve (?:agent|gas)|ricin|anthrax|botulinum(?: toxin)?|smallpox|plague bacteria|weapons?-grade uranium|uranium to weapons grade|dirty bomb|bioweapon|chemical weapon)/i,
    score: 0.9,
  },
  {
    category: 'weapons',
    kind: 'explosive_device',
    gate: ['pipe bomb', 'cooker bomb', 'car bomb', 'suicide vest', 'ied', 'nail bomb', 'molotov cocktail'],
    pattern:
      /\b(?:build|make|assemble|construct|wire|detonate)\b[^.\n?]{0,30}\b(?:pipe bomb|pressure[- ]cooker bomb|car bomb|suicide vest|IED|nail bomb|molotov cocktails?)\b/i,
    score: 0.85,
  },
  {
    category: 'sexual_minors',
    kind: 'csam',
    gate: [
      'child porn',
      'csam',
      'kiddie porn',
      'loli',
      'year',
      'erotic',
      'sexual',
      'explicit',
      'sex with',
      'sex involving',
    ],
    pattern:
      /\b(?:child (?:porn|pornography)|CSAM|kiddie porn|loli(?:con)? (?:porn|hentai)|(?:sexy|nude|naked|explicit|erotic|sexual)\b[^.\n]{0,40}\b(?:\d|1[0-7])[- ]year[- ]old|(?:erotic|sexual|explicit) (?:story|stories|roleplay|content) (?:about|involving|with) (?:a |an )?(?:child|minor|kid|underage|preteen)|\bsex (?:with|involving) (?:a |an |my |this |her |his )?(?:child|kid|minor|toddler|preteen|(?:\d|1[0-3])[- ]year[- ]old))/i,
    score: 0.9,
  },
  {
    category: 'mass_surveillance',
    kind: 'population_tracking',
    gate: [
      'citizen',
      'residents',
      'people in the country',
      'people in our country',
      'protesters',
      'journalists',
      'dissidents',
      'population',
    ],
    pattern:
      /\b(?:track|monitor|surveil|spy on|profile|identify|watch)\b[^.\n?]{0,40}\b(?:every|all|each)\b[^.\n?]{0,20}\b(?:citizens?|residents|people in (?:the|our) country|protesters|journalists|dissidents|population)\b/i,
    score: 0.8,
  },
  {
    category: 'mass_surveillance',
    kind: 'bulk_interception',
    gate: ['bulk', 'mass', 'dragnet', 'population-scale', 'nationwide'],
    pattern:
      /\b(?:bulk|mass|dragnet|population-scale|nationwide)\s+(?:collection|interception|monitoring|surveillance|facial recognition|tracking)\b[^.\n?]{0,60}\b(?:citizens|our own (?:people|population)|dissidents|protesters|the public)\b/i,
    score: 0.75,
  },
  {
    category: 'autonomous_force',
    kind: 'no_human_in_loop_force',
    gate: ['autonomous', 'automatically', 'without a human', 'without human', 'without any human'],
    pattern:
      /\b(?:autonomous(?:ly)?|automatically|without (?:a )?human (?:approval|oversight|in the loop|confirmation|review))\b[^.\n?]{0,60}\b(?:engage|strike|fire (?:on|at)|kill|eliminate|neutrali[sz]e|target|launch)\b|\b(?:engage|strike|fire (?:on|at)|kill|eliminate|neutrali[sz]e)\b[^.\n?]{0,60}\bwithout (?:any )?human (?:approval|oversight|in the loop|confirmation|authori[sz]ation|sign-off)/i,
    score: 0.8,
  },
  {
    category: 'automated_decisions',
    kind: 'no_human_review_decision',
    gate: ['without'],
    pattern:
      /\b(?:automatically|auto-?)\s*(?:deny|reject|approve|decline|fire|terminate|sentence|rank and reject|cut off)\b[^.\n?]{0,60}\b(?:loan|credit|mortgage|applicants?|candidates?|employees?|benefits|welfare|parole|bail|insurance claims?|patients?|tenants?)\b[^.\n?]{0,60}\bwithout (?:any )?(?:human|manual) (?:review|oversight|involvement|check)/i,
    score: 0.8,
  },
];

export function detectKeywords(text: string, present = gates.present(text.toLowerCase())): Finding[] {
  const out: Finding[] = [];
  for (const k of keywords) {
    if (!gatePasses(present, k.gate)) continue;
    out.push(
      ...scan(text, k.pattern, (m) => ({
        category: k.category,
        kind: k.kind,
        start: m.index,
        end: m.index + m[0].length,
        score: k.score,
      })),
    );
  }
  return out;
}

/** This detector's gate literals (detect() finds every detector's literals in one pass instead). */
export const gates = new GateSet(keywords.map((t) => t.gate));
