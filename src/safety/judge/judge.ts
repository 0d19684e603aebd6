import type { Category } from '../taxonomy.js';
import type { Surface } from '../verdict.js';

export interface JudgeResult {
  unsafe: boolean;
  /** Categories the judge named (may be empty when it only says unsafe). */
  categories: Category[];
  /** The judge's confidence that the text is unsafe, 0..1 (1 / 0 for judges that only answer yes/no). */
  score: number;
}

/** Layer 3: a slower, stronger opinion, asked only about texts the in-process layers are unsure of. */
export interface Judge {
  judge(text: string, context: { surface: Surface }): Promise<JudgeResult>;
}
