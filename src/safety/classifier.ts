import { detect, type Finding } from './detectors/index.js';
import type { Judge } from './judge/judge.js';
import { Featurizer } from './model/features.js';
import { categoryHeads, headIndex } from './model/linear-model.js';
import { featureOptionsOf, type LoadedModel } from './model/model-file.js';
import { indirectScore, scoreText } from './model/score-text.js';
import { defaultPolicy, ruleFor, type Policy } from './policy.js';
import { categories, isHarmCategory, type Category } from './taxonomy.js';
import {
  actionRank,
  untrustedSurfaces,
  type Action,
  type CategoryScore,
  type Layer,
  type Surface,
  type Verdict,
} from './verdict.js';

export interface ClassifyOptions {
  surface: Surface;
  /** The tenant's policy; the shipped default when absent. */
  policy?: Policy;
}

/** Raw per-category evidence before a policy is applied: the strongest layer wins, detector spans are kept. */
export type Evidence = Map<Category, CategoryScore>;

export interface SafetyEngineOptions {
  model: LoadedModel;
  policy?: Policy;
  judge?: Judge;
  /** Scores in [low, high] are sent to the judge (when one is configured). */
  judgeBand?: readonly [number, number];
}

export interface SafetyEngine {
  readonly modelVersion: string;
  readonly policy: Policy;
  /** Layers 1 and 2, synchronous and in-process: for hot paths and streams. */
  classify(text: string, options: ClassifyOptions): Verdict;
  /** Layers 1–3: as classify, then the judge for scores in the uncertain band. */
  classifyWithJudge(text: string, options: ClassifyOptions): Promise<Verdict>;
  /** Evidence without a policy (for evaluation and for re-deciding under another policy). */
  evidence(text: string, surface: Surface): Evidence;
  decide(evidence: Evidence, options: ClassifyOptions): Verdict;
}

export function createSafetyEngine(options: SafetyEngineOptions): SafetyEngine {
  const { model, meta } = options.model;
  const featurizer = new Featurizer(model.dims, featureOptionsOf(meta));
  const basePolicy = options.policy ?? defaultPolicy;
  const [low, high] = options.judgeBand ?? [0.3, 0.7];

  const evidence = (text: string, surface: Surface): Evidence => {
    const found = new Map<Category, CategoryScore>();
    const raise = (category: Category, score: number, layer: Layer): void => {
      const current = found.get(category);
      if (!current || score > current.score)
        found.set(category, { category, score, layer, ...(current?.spans ? { spans: current.spans } : {}) });
    };
    const p = scoreText(model, featurizer, text);
    // The `unsafe` head sees every harmful row (category known or not) and decides *whether*; the category
    // heads, trained on fewer rows, only say *which*. A category's score is capped by `unsafe`, and `unsafe`
    // is credited to the most likely category, so a generic harmful request still names a class while a
    // category head alone (many heads, each with its own false positives) cannot flag a benign text.
    // Model outputs have their own head; a model trained before it existed has no such score.
    const unsafe = (surface === 'output' ? p[headIndex('output')] : undefined) ?? p[headIndex('unsafe')] ?? 0;
    let top: Category | undefined;
    let topScore = -1;
    for (const c of categoryHeads) {
      const s = p[headIndex(c)] ?? 0;
      raise(c, Math.min(s, unsafe), 'model');
      if (s > topScore) [top, topScore] = [c, s];
    }
    if (top !== undefined) raise(top, unsafe, 'model');
    if (untrustedSurfaces.includes(surface))
      raise('prompt_injection', indirectScore(model, featurizer, text), 'model');
    addFindings(found, detect(text, surface));
    return found;
  };

  const decide = (ev: Evidence, opts: ClassifyOptions): Verdict => {
    const policy = opts.policy ?? basePolicy;
    const hits: CategoryScore[] = [];
    let action: Action = 'allow';
    let score = 0;
    for (const c of categories) {
      const e = ev.get(c);
      if (!e) continue;
      if (isHarmCategory(c)) score = Math.max(score, e.score);
      const rule = ruleFor(policy, c, opts.surface);
      if (rule.action === 'allow' || e.score < rule.threshold) continue;
      hits.push(e);
      if (actionRank[rule.action] > actionRank[action]) action = rule.action;
    }
    hits.sort((a, b) => b.score - a.score);
    const flagged =
      hits.some((h) => isHarmCategory(h.category)) ||
      action === 'block' ||
      action === 'escalate' ||
      action === 'flag';
    return {
      flagged,
      score: round(score),
      categories: hits.map(roundScore),
      action,
      policyVersion: policy.version,
      modelVersion: meta.version,
    };
  };

  const engine: SafetyEngine = {
    modelVersion: meta.version,
    policy: basePolicy,
    evidence,
    decide,
    classify: (text, opts) => decide(evidence(text, opts.surface), opts),
    async classifyWithJudge(text, opts) {
      const ev = evidence(text, opts.surface);
      const first = decide(ev, opts);
      if (!options.judge || first.score < low || first.score > high) return first;
      let judged;
      try {
        judged = await options.judge.judge(text, { surface: opts.surface });
      } catch {
        // The judge is an optional refinement: when it is down, the in-process decision stands (it already
        // applied the policy), rather than failing every request or silently allowing it.
        return first;
      }
      for (const [c, e] of ev) {
        // A judge's "safe" settles model-only evidence; detector evidence (a checksummed card, a key) stands.
        if (!judged.unsafe && e.layer === 'model' && isHarmCategory(c))
          ev.set(c, { ...e, score: Math.min(e.score, low / 2) });
      }
      if (judged.unsafe) {
        const named =
          judged.categories.length > 0
            ? judged.categories
            : [...ev.values()]
                .filter((e) => isHarmCategory(e.category))
                .sort((a, b) => b.score - a.score)
                .slice(0, 1)
                .map((e) => e.category);
        for (const c of named) {
          const prior = ev.get(c);
          ev.set(c, {
            category: c,
            score: Math.max(judged.score, prior?.score ?? 0),
            layer: 'judge',
            ...(prior?.spans ? { spans: prior.spans } : {}),
          });
        }
      }
      return decide(ev, opts);
    },
  };
  return engine;
}

function addFindings(found: Evidence, findings: readonly Finding[]): void {
  for (const f of findings) {
    const span = { start: f.start, end: f.end, kind: f.kind };
    const current = found.get(f.category);
    const spans = [...(current?.spans ?? []), span];
    if (!current || f.score > current.score)
      found.set(f.category, { category: f.category, score: f.score, layer: 'detector', spans });
    else found.set(f.category, { ...current, spans });
  }
}

const round = (x: number): number => Math.round(x * 10_000) / 10_000;
const roundScore = (c: CategoryScore): CategoryScore => ({ ...c, score: round(c.score) });
