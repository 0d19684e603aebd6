import type { HarmCategory } from '../taxonomy.js';

/**
 * Assigns a category to harmful prompts from sets that do not label one (AdvBench, parts of StrongREJECT and
 * SimpleSafetyTests), by the first matching rule. A rough label is better than none for the per-category
 * heads; rows that match nothing teach only the `unsafe` head. Order matters: the more specific classes first.
 */
const rules: readonly [HarmCategory, RegExp][] = [
  [
    'sexual_minors',
    /\b(?:child|children|minor|minors|underage|kid|kids|teen|preteen)s?\b[^.]*\b(?:sex|sexual|porn|nude|explicit|groom)|\b(?:sex|sexual|porn|nude|groom)\w*\b[^.]*\b(?:child|children|minor|underage|kid)s?\b/i,
  ],
  [
    'self_harm',
    /\b(?:suicide|suicidal|self[- ]harm|kill (?:myself|themselves|yourself|himself|herself)|cut(?:ting)? (?:myself|themselves)|anorexi|bulimi|eating disorder|starv(?:e|ing) (?:myself|themselves|yourself)|overdose)/i,
  ],
  [
    'weapons',
    /\b(?:bombs?|explosives?|weapons?|firearms?|guns?|rifles?|ammunition|grenades?|detonat|bioweapon|nerve agent|chemical agent|anthrax|nuclear|sarin|ricin|toxin|napalm|silencer)\b/i,
  ],
  [
    'mass_surveillance',
    /\b(?:surveil\w*|spy(?:ing)? on|track(?:ing)? (?:people|citizens|individuals|someone's location)|monitor(?:ing)? (?:citizens|people's|the population))/i,
  ],
  [
    'cyber_attack',
    /\b(?:hack\w*|malware|virus|ransomware|exploit\w*|ddos|denial of service|botnet|keylog\w*|crack(?:ing)? (?:passwords?|software)|sql injection|backdoor|spyware|trojan|cyber\w*|rootkit|brute[- ]force|phish\w*|steal\w* (?:personal|sensitive|confidential|user) (?:information|data)|databases?|networks?)\b/i,
  ],
  [
    'fraud_deception',
    /\b(?:fraud\w*|scam\w*|counterfeit\w*|fake|forg(?:e|ed|ery|ing)|misinformation|disinformation|propaganda|deceiv\w*|decept\w*|identity theft|insider trading|manipulat\w*|plagiar\w*|cheat\w*|launder\w*|tax evasion|hoax|conspiracy|impersonat\w*|false (?:information|claims|news)|ponzi|pyramid scheme|defamat\w*)\b/i,
  ],
  [
    'hate_harassment',
    /\b(?:hate|hateful|racis\w*|discriminat\w*|harass\w*|bull(?:y|ying)|cyberbull\w*|stalk\w*|slurs?|extremis\w*|sexis\w*|xenophob\w*|antisemit\w*|homophob\w*|inferior|dox\w*|body[- ]sham\w*)\b/i,
  ],
  [
    'illicit_goods',
    /\b(?:drugs?|cocaine|heroin|meth\w*|narcotic\w*|fentanyl|opioids?|smuggl\w*|traffick\w*|steal\w*|theft|shoplift\w*|stolen|black market|illegal(?:ly)?|contraband|poach\w*)\b/i,
  ],
  [
    'violence',
    /\b(?:kill\w*|murder\w*|assault\w*|attack\w*|violen\w*|hurt\w*|tortur\w*|terror\w*|shoot\w*|stab\w*|kidnap\w*|abus\w*|riot\w*|poison\w*|injur\w*|harm\w*|physically)\b/i,
  ],
  ['sexual', /\b(?:sex\w*|porn\w*|explicit|nude|naked|erotic\w*|prostitut\w*)\b/i],
];

export function guessCategory(text: string): HarmCategory[] {
  for (const [category, pattern] of rules) if (pattern.test(text)) return [category];
  return [];
}
