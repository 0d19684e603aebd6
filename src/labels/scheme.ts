import { z } from 'zod';
import { EnclaveError } from '../errors/index.js';
import { DEFAULT_TETRAGRAPHS, ISO_TRIGRAPHS } from './countries.js';
import type { Label } from './label.js';

/**
 * The marking vocabulary: ordered levels, SCI control systems, dissemination controls (in CAPCO banner order),
 * countries and tetragraphs. Config section `labels` (all optional) replaces parts of the default. Canonical
 * labels stored in the database are spelled in this vocabulary, so change it only by adding.
 */
const token = z.string().regex(/^[A-Z0-9][A-Z0-9 -]*$/, 'use upper-case letters, digits, spaces and hyphens');
const controlSchema = z.object({
  name: token,
  portion: token,
  /** `nonic` controls (LIMDIS, EXDIS, …) form their own banner category after the dissemination controls. */
  category: z.enum(['dissem', 'nonic']).default('dissem'),
  /** `intersection`: a permissive marking (RELIDO) that survives roll-up only when every part carries it. */
  rollUp: z.enum(['union', 'intersection']).default('union'),
  /** Highest level the control may be applied at (FOUO: UNCLASSIFIED); above it the classification subsumes it. */
  maxLevel: z.string().optional(),
});

export const labelSchemeConfigSchema = z
  .object({
    /** Lowest first. */
    levels: z
      .array(z.object({ name: token, portion: token }))
      .min(2)
      .optional(),
    /** The lowest level at which SCI and SAP compartments may be applied. */
    classifiedFrom: z.string().optional(),
    sciControls: z.array(z.string().regex(/^[A-Z0-9]+$/)).optional(),
    /** Allow-list of SAP program names (underscore for space); absent = any well-formed name. */
    sarPrograms: z.array(z.string().regex(/^[A-Z0-9]+(_[A-Z0-9]+)*$/)).optional(),
    /** CAPCO order; must contain NOFORN and the position marker `REL TO`. */
    controls: z.array(controlSchema).optional(),
    countries: z.array(z.string().regex(/^[A-Z]{3}$/)).optional(),
    tetragraphs: z
      .record(z.string().regex(/^[A-Z]{4}$/), z.array(z.string().regex(/^[A-Z]{3}$/)).nullable())
      .optional(),
  })
  .strict();
export type LabelSchemeConfig = z.input<typeof labelSchemeConfigSchema>;
export type ControlSpec = z.output<typeof controlSchema>;

export interface LabelScheme {
  levels: readonly { name: string; portion: string }[];
  rank: ReadonlyMap<string, number>;
  classifiedRank: number;
  sciControls: ReadonlySet<string>;
  sarPrograms: ReadonlySet<string> | null;
  /** Dissemination and non-IC controls in banner order, including the `REL TO` position marker. */
  controls: readonly ControlSpec[];
  controlByName: ReadonlyMap<string, ControlSpec>;
  controlByPortion: ReadonlyMap<string, ControlSpec>;
  /** Controls with a maxLevel, with that level's rank: implied (and not shown) above it. */
  capped: readonly { name: string; maxRank: number }[];
  countries: ReadonlySet<string>;
  tetragraphs: ReadonlyMap<string, readonly string[] | null>;
}

export const REL_TO = 'REL TO';
export const NOFORN = 'NOFORN';

const DEFAULT_CONTROLS: z.input<typeof controlSchema>[] = [
  { name: 'RSEN', portion: 'RS' },
  { name: 'FOUO', portion: 'FOUO', maxLevel: 'UNCLASSIFIED' },
  { name: 'ORCON', portion: 'OC' },
  { name: 'ORCON-USGOV', portion: 'OC-USGOV' },
  { name: 'IMCON', portion: 'IMC' },
  { name: NOFORN, portion: 'NF' },
  { name: 'PROPIN', portion: 'PR' },
  { name: REL_TO, portion: REL_TO },
  { name: 'RELIDO', portion: 'RELIDO', rollUp: 'intersection' },
  { name: 'FISA', portion: 'FISA' },
  { name: 'LIMDIS', portion: 'DS', category: 'nonic' },
  { name: 'EXDIS', portion: 'XD', category: 'nonic' },
  { name: 'NODIS', portion: 'ND', category: 'nonic' },
  { name: 'SBU', portion: 'SBU', category: 'nonic', maxLevel: 'UNCLASSIFIED' },
  { name: 'LES', portion: 'LES', category: 'nonic', maxLevel: 'UNCLASSIFIED' },
];

const bad = (message: string): never => {
  throw new EnclaveError('invalid_request', `Invalid config at labels: ${message}.`);
};

export function createLabelScheme(input: LabelSchemeConfig = {}): LabelScheme {
  const parsed = labelSchemeConfigSchema.safeParse(input);
  if (!parsed.success) bad(parsed.error.issues[0]?.message ?? 'invalid');
  const c = parsed.data ?? {};
  const levels = c.levels ?? [
    { name: 'UNCLASSIFIED', portion: 'U' },
    { name: 'CUI', portion: 'CUI' },
    { name: 'CONFIDENTIAL', portion: 'C' },
    { name: 'SECRET', portion: 'S' },
    { name: 'TOP SECRET', portion: 'TS' },
  ];
  const rank = new Map(levels.map((l, i) => [l.name, i]));
  // The default caps (FOUO, SBU, LES: unclassified only) follow a custom level list's lowest level.
  const controls =
    c.controls ??
    DEFAULT_CONTROLS.map((d) => controlSchema.parse(d.maxLevel ? { ...d, maxLevel: levels[0]?.name } : d));
  const names = controls.map((x) => x.name);
  if (!names.includes(NOFORN) || !names.includes(REL_TO))
    bad('controls must include NOFORN and the REL TO marker');
  // A token meaning two things (a level's portion mark equal to a control's) would make parsing ambiguous.
  const seen = new Set<string>();
  for (const x of [...levels, ...controls]) {
    for (const t of new Set([x.name, x.portion])) {
      if (seen.has(t)) bad(`'${t}' is used twice`);
      seen.add(t);
    }
  }
  const levelRank = (name: string): number => rank.get(name) ?? bad(`unknown level '${name}'`);
  const countries = new Set(c.countries ?? ISO_TRIGRAPHS);
  countries.add('USA');
  return {
    levels,
    rank,
    classifiedRank: levelRank(c.classifiedFrom ?? levels[Math.min(2, levels.length - 1)]?.name ?? ''),
    sciControls: new Set(c.sciControls ?? ['HCS', 'KDK', 'RSV', 'SI', 'TK']),
    sarPrograms: c.sarPrograms ? new Set(c.sarPrograms) : null,
    controls,
    controlByName: new Map(controls.map((x) => [x.name, x])),
    controlByPortion: new Map(controls.map((x) => [x.portion, x])),
    capped: controls.flatMap((x) =>
      x.maxLevel === undefined ? [] : [{ name: x.name, maxRank: levelRank(x.maxLevel) }],
    ),
    countries,
    tetragraphs: new Map(Object.entries(c.tetragraphs ?? DEFAULT_TETRAGRAPHS)),
  };
}

let active = createLabelScheme();

/** The lowest label of the active scheme (UNCLASSIFIED by default); a live binding, updated by setLabelScheme. */
export let UNCLASSIFIED: Label = lowest(active);

function lowest(scheme: LabelScheme): Label {
  return Object.freeze({
    level: scheme.levels[0]?.name ?? '',
    compartments: [],
    controls: [],
    releasableTo: [],
  });
}

export const labelScheme = (): LabelScheme => active;

const listeners: (() => void)[] = [];
/** Caches keyed by label text register here; they are cleared when the vocabulary changes. */
export const onSchemeChange = (fn: () => void): void => void listeners.push(fn);

/** Installs the scheme from config (call once at start-up, before any label is parsed). */
export function setLabelScheme(scheme: LabelScheme): void {
  active = scheme;
  UNCLASSIFIED = lowest(scheme);
  for (const fn of listeners) fn();
}
