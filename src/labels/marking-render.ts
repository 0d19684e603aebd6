import { renderCompartments } from './compartment-marking.js';
import { normalizeLabel, type Label } from './label.js';
import { labelScheme, onSchemeChange, REL_TO } from './scheme.js';

export type MarkingForm = 'banner' | 'portion';

/** CAPCO order for REL TO: USA first, then trigraphs, then tetragraphs, each alphabetical. */
export function orderCountries(codes: readonly string[]): string[] {
  const rest = codes.filter((c) => c !== 'USA');
  return [
    ...(codes.includes('USA') ? ['USA'] : []),
    ...rest.filter((c) => c.length === 3).sort(),
    ...rest.filter((c) => c.length !== 3).sort(),
  ];
}

/**
 * `LEVEL//SCI//SAR-…//dissemination//non-IC`: categories separated by `//`, entries within one by `/`, each
 * category in CAPCO order. Banner uses names (NOFORN), the portion mark abbreviations (NF) in parentheses.
 */
// Markings of normalized labels (frozen, one object per lattice value), per form: audit entries, verdicts and
// replies render the same few labels several times a turn.
let rendered = new WeakMap<Label, { banner?: string; portion?: string }>();
onSchemeChange(() => (rendered = new WeakMap()));

export function renderMarking(input: Label, form: MarkingForm): string {
  const label = normalizeLabel(input);
  let forms = rendered.get(label);
  if (forms === undefined) rendered.set(label, (forms = {}));
  return (forms[form] ??= render(label, form));
}

function render(label: Label, form: MarkingForm): string {
  const scheme = labelScheme();
  const level = scheme.levels[scheme.rank.get(label.level) ?? 0];
  const segments = [form === 'banner' ? level?.name : level?.portion];
  const sci = label.compartments.filter((c) => !c.startsWith('SAR-'));
  const sar = label.compartments.filter((c) => c.startsWith('SAR-')).map((c) => c.slice(4));
  if (sci.length > 0) segments.push(renderCompartments(sci));
  if (sar.length > 0) segments.push(`SAR-${renderCompartments(sar)}`);
  for (const category of ['dissem', 'nonic'] as const) {
    const items: string[] = [];
    for (const spec of scheme.controls) {
      if (spec.category !== category) continue;
      if (spec.name === REL_TO) {
        if (label.releasableTo.length > 0)
          items.push(`${REL_TO} ${orderCountries(label.releasableTo).join(', ')}`);
      } else if (label.controls.includes(spec.name)) items.push(form === 'banner' ? spec.name : spec.portion);
    }
    if (items.length > 0) segments.push(items.join('/'));
  }
  const text = segments.join('//');
  return form === 'banner' ? text : `(${text})`;
}

export const renderBanner = (label: Label): string => renderMarking(label, 'banner');
export const renderPortion = (label: Label): string => renderMarking(label, 'portion');
