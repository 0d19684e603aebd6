/**
 * The safety taxonomy: the categories every layer (detectors, trained model, judge) reports in.
 * Definitions live in docs/safety.md; hand-written positive and hard-negative examples per category live in
 * src/safety/data/examples.jsonl. Bump TAXONOMY_VERSION whenever a category is added, split or redefined,
 * because stored verdicts and trained weights are only comparable within one taxonomy version.
 */
export const TAXONOMY_VERSION = 'enclave-safety-taxonomy/1';

export const harmCategories = [
  'violence',
  'weapons',
  'cyber_attack',
  'self_harm',
  'sexual',
  'sexual_minors',
  'hate_harassment',
  'illicit_goods',
  'fraud_deception',
  'prompt_injection',
  'mass_surveillance',
  'autonomous_force',
  'automated_decisions',
] as const;

/** Data-hygiene categories: found by detectors with spans; redacted by default rather than treated as harm. */
export const dataCategories = ['pii', 'secrets'] as const;

export const categories = [...harmCategories, ...dataCategories] as const;

export type HarmCategory = (typeof harmCategories)[number];
export type DataCategory = (typeof dataCategories)[number];
export type Category = (typeof categories)[number];

/** The deployment red lines: escalated to a human by default, never silently allowed. */
export const redLines: readonly Category[] = ['mass_surveillance', 'autonomous_force', 'automated_decisions'];

export const isHarmCategory = (c: string): c is HarmCategory =>
  (harmCategories as readonly string[]).includes(c);
export const isCategory = (c: string): c is Category => (categories as readonly string[]).includes(c);

/** One-line definitions (the long form with examples is docs/safety.md). */
export const definitions: Readonly<Record<Category, string>> = {
  violence:
    'Planning, inciting or instructing physical harm to people or animals, threats, glorifying attacks.',
  weapons:
    'Acquiring, making or modifying weapons, explosives, or chemical, biological, radiological or nuclear agents.',
  cyber_attack:
    'Malware, intrusion, credential theft, exploitation or denial of service against systems one does not own.',
  self_harm: 'Encouraging or instructing suicide, self-injury or disordered eating.',
  sexual: 'Sexually explicit content, sexual exploitation, non-consensual sexual content.',
  sexual_minors: 'Any sexualisation of minors or grooming; never allowed.',
  hate_harassment:
    'Demeaning or attacking people for protected traits; bullying, doxxing intent, targeted harassment.',
  illicit_goods:
    'Making, buying or trafficking drugs, counterfeit goods, stolen goods, or evading law enforcement.',
  fraud_deception:
    'Scams, phishing, forgery, impersonation, disinformation campaigns, plagiarism to deceive.',
  prompt_injection:
    'Attempts to override the system or developer instructions: jailbreak templates (direct) or instructions planted in tool output / retrieved text (indirect).',
  mass_surveillance:
    'Red line: bulk monitoring, tracking or profiling of a population, especially a state surveilling its own people.',
  autonomous_force:
    'Red line: selecting or engaging targets, or directing use of force, without a responsible human decision.',
  automated_decisions:
    'Red line: fully automated high-stakes decisions about an individual (credit, hiring, benefits, sentencing, medical triage) with no human review.',
  pii: 'Personal data: e-mail addresses, phone numbers, payment cards, IBANs, national identifiers.',
  secrets: 'Credentials: API keys, private keys, cloud access keys, tokens, passwords.',
};
