import { parseCompartments } from './compartment-marking.js';
import { invalidLabel, normalizeLabel, type Label } from './label.js';
import type { MarkingForm } from './marking-render.js';
import { labelScheme, REL_TO } from './scheme.js';

/** Real banners stay far below this; anything longer is refused before any work is done. */
export const MAX_MARKING_LENGTH = 1024;

const SAR_PREFIXES = ['SAR-', 'SPECIAL ACCESS REQUIRED-'];

/**
 * Parses a banner (`SECRET//SI/TK//NOFORN`) or portion mark (`(S//SI/TK//NF)`). Strict: upper case, categories
 * in CAPCO order, each once, known tokens only, no duplicates; entries within a category may come in any order
 * (the rendering is canonical). Foreign and joint classifications (`//NATO SECRET`) are not modelled.
 */
export function parseMarking(raw: string, form: MarkingForm): Label {
  if (typeof raw !== 'string') return invalidLabel('a marking must be a string');
  if (raw.length > MAX_MARKING_LENGTH) invalidLabel(`marking longer than ${MAX_MARKING_LENGTH} characters`);
  if (/\p{Cc}/u.test(raw)) invalidLabel('marking contains a control character');
  if (/[^\x20-\x7e]/.test(raw)) invalidLabel('marking contains a non-ASCII character');
  let text = raw.trim();
  if (form === 'portion') {
    if (!text.startsWith('(') || !text.endsWith(')'))
      invalidLabel(`portion mark '${text}' must be in parentheses, e.g. (S//NF)`);
    text = text.slice(1, -1);
  }
  if (text === '') invalidLabel('empty marking');
  if (text.startsWith('//'))
    invalidLabel(`'${text}' is a non-US or joint classification, which is not supported`);
  const scheme = labelScheme();
  const [levelText = '', ...segments] = text.split('//');
  const level = scheme.levels.find((l) => (form === 'banner' ? l.name : l.portion) === levelText);
  if (!level) {
    const other = scheme.levels.find(
      (l) => (form === 'banner' ? l.portion : l.name) === levelText.toUpperCase(),
    );
    const hint = other ? ` (in a ${form} write ${form === 'banner' ? other.name : other.portion})` : '';
    return invalidLabel(`unknown classification '${levelText}' in '${text}'${hint}`);
  }
  const compartments: string[] = [];
  const controls: string[] = [];
  const releasableTo: string[] = [];
  let stage = -1; // 0 SCI, 1 SAP, 2 dissemination, 3 non-IC
  const enter = (next: number, segment: string): void => {
    if (next <= stage) {
      invalidLabel(
        `'${segment}' is out of order in '${text}': write level//SCI//SAR-…//dissemination//non-IC, each once`,
      );
    }
    stage = next;
  };
  for (const segment of segments) {
    if (segment === '') invalidLabel(`empty category in '${text}' (doubled or trailing //)`);
    const sar = SAR_PREFIXES.find((p) => segment.startsWith(p));
    if (sar) {
      enter(1, segment);
      compartments.push(...parseCompartments(segment.slice(sar.length), true, text).map((t) => `SAR-${t}`));
    } else if (scheme.sciControls.has(segment.split(/[-/ ]/)[0] ?? '')) {
      enter(0, segment);
      compartments.push(...parseCompartments(segment, false, text));
    } else {
      let category: number | undefined;
      for (const item of segment.split('/')) {
        let itemCategory: number;
        if (item.startsWith(`${REL_TO} `)) {
          if (releasableTo.length > 0) invalidLabel(`REL TO appears twice in '${text}'`);
          const list = item.slice(REL_TO.length + 1).split(/, ?/);
          if (list.some((c) => c === ''))
            invalidLabel(`malformed REL TO list '${item}' (write REL TO USA, GBR)`);
          releasableTo.push(...list);
          itemCategory = 2;
        } else {
          const spec = form === 'banner' ? scheme.controlByName.get(item) : scheme.controlByPortion.get(item);
          if (!spec || spec.name === REL_TO) return unknownToken(item, text, form);
          if (controls.includes(spec.name)) invalidLabel(`'${item}' appears twice in '${text}'`);
          controls.push(spec.name);
          itemCategory = spec.category === 'dissem' ? 2 : 3;
        }
        if (category !== undefined && category !== itemCategory) {
          invalidLabel(`'${segment}' mixes dissemination and non-IC controls; separate them with //`);
        }
        category = itemCategory;
      }
      enter(category ?? 2, segment);
    }
  }
  if (new Set(compartments).size !== compartments.length)
    invalidLabel(`a compartment appears twice in '${text}'`);
  return normalizeLabel({ level: level.name, compartments, controls, releasableTo });
}

function unknownToken(item: string, text: string, form: MarkingForm): never {
  const scheme = labelScheme();
  const other = form === 'banner' ? scheme.controlByPortion.get(item) : scheme.controlByName.get(item);
  const hint = other ? ` (in a ${form} write ${form === 'banner' ? other.name : other.portion})` : '';
  return invalidLabel(
    `unknown marking '${item}' in '${text}'${hint}; expected an SCI control system (${[...scheme.sciControls].join(', ')}), ` +
      `SAR-<program>, REL TO or one of ${scheme.controls
        .filter((c) => c.name !== REL_TO)
        .map((c) => (form === 'banner' ? c.name : c.portion))
        .join(', ')}`,
  );
}

export const parseBanner = (text: string): Label => parseMarking(text, 'banner');
export const parsePortion = (text: string): Label => parseMarking(text, 'portion');
