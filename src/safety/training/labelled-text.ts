import type { HarmCategory } from '../taxonomy.js';
import type { Surface } from '../verdict.js';

/** One labelled text from a data set, own examples or the review store. */
export interface LabelledText {
  source: string;
  id: string;
  text: string;
  /** 1 harmful (or injected), 0 benign. */
  label: 0 | 1;
  /** Known harm categories (empty when the source does not say). */
  categories: HarmCategory[];
  surface: Surface;
  /** Text that decides the held-out split instead of `text` (e.g. the prompt a response answers). */
  splitKey?: string;
  /** Rows that teach only the sentence-level indirect-injection head. */
  indirectOnly?: boolean;
}

/** How a source may be used, from its SOURCE.txt licence. */
export type SourceUse = 'train' | 'eval-only';

export interface DataSource {
  name: string;
  licence: string;
  use: SourceUse;
  /** Why the use is what it is (licence or label quality). */
  note: string;
  /** Rows, or undefined when the data set is not present on this machine. */
  load(root: string): LabelledText[] | undefined;
}
