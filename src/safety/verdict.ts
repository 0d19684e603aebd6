import type { Category } from './taxonomy.js';

/** Where a text is in a request's life; policies and the injection layer behave differently per surface. */
export const surfaces = ['input', 'output', 'tool_call', 'tool_output', 'retrieved', 'memory'] as const;
export type Surface = (typeof surfaces)[number];

/** Surfaces whose text comes from a third party, where planted instructions are indirect prompt injection. */
export const untrustedSurfaces: readonly Surface[] = ['tool_output', 'retrieved', 'memory'];

export const actions = ['allow', 'flag', 'redact', 'block', 'escalate'] as const;
export type Action = (typeof actions)[number];

/** Severity order used to combine per-category actions: the strongest wins. */
export const actionRank: Readonly<Record<Action, number>> = {
  allow: 0,
  flag: 1,
  redact: 2,
  block: 3,
  escalate: 4,
};

export type Layer = 'detector' | 'model' | 'judge';

/** A half-open character range [start, end) of the classified text, with what was found there. */
export interface Span {
  start: number;
  end: number;
  /** What matched, e.g. `credit_card`, `aws_access_key`, `jailbreak:ignore_previous`. */
  kind: string;
}

export interface CategoryScore {
  category: Category;
  score: number;
  layer: Layer;
  spans?: Span[];
}

export interface Verdict {
  /** True when a harm category fired with an action other than allow/redact (redaction alone is hygiene). */
  flagged: boolean;
  /** Highest harm score across layers, 0..1. */
  score: number;
  /** Categories at or above their policy threshold, strongest first. */
  categories: CategoryScore[];
  action: Action;
  policyVersion: string;
  modelVersion: string;
}
