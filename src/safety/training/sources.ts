import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HarmCategory } from '../taxonomy.js';
import { parseCsvRecords } from './csv.js';
import { guessCategory } from './guess-category.js';
import type { DataSource, LabelledText } from './labelled-text.js';
import { isHeldOut } from './split.js';

const read = (root: string, ...path: string[]): string | undefined => {
  const file = join(root, ...path);
  return existsSync(file) ? readFileSync(file, 'utf8') : undefined;
};
const jsonl = (text: string): unknown[] =>
  text
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as unknown);

const harmful = (
  source: string,
  id: string,
  text: string,
  categories: HarmCategory[] = guessCategory(text),
): LabelledText => ({
  source,
  id,
  text: text.trim(),
  label: 1,
  categories,
  surface: 'input',
});
const benign = (source: string, id: string, text: string): LabelledText => ({
  source,
  id,
  text: text.trim(),
  label: 0,
  categories: [],
  surface: 'input',
});

const strongRejectCategory: Readonly<Record<string, HarmCategory | undefined>> = {
  'Disinformation and deception': 'fraud_deception',
  'Hate, harassment and discrimination': 'hate_harassment',
  'Illegal goods and services': 'illicit_goods',
  'Sexual content': 'sexual',
  Violence: 'violence',
};
const sstCategory: Readonly<Record<string, HarmCategory | undefined>> = {
  'Suicide, Self-Harm, and Eating Disorders': 'self_harm',
  'Physical harm and Violence': 'violence',
  'Scams and fraud': 'fraud_deception',
};

const benignBipiaGroups = new Set([
  'Information Retrieval',
  'Content Creation',
  'Learning and Tutoring',
  'Language Translation',
  'Programming Help',
]);

/** Prompts in the OASST lottery sample that are harmful requests (SOURCE.txt names them): dropped, not used as benign. */
const oasstHarmful = new Set(['lottery:47', 'lottery:250']);

/**
 * Every data set in ../shared/datasets the safety stack reads, with its licence (from SOURCE.txt) and use.
 * Only MIT / Apache-2.0 / CC BY sets are trained on; anything without a licence, non-commercial, or with
 * machine labels is evaluation-only.
 */
export const dataSources: readonly DataSource[] = [
  {
    name: 'advbench',
    licence: 'MIT',
    use: 'train',
    note: 'harmful instructions; categories guessed by keyword',
    load: (root) => {
      const csv = read(root, 'advbench', 'advbench.csv');
      return csv === undefined
        ? undefined
        : parseCsvRecords(csv).map((r, i) => harmful('advbench', `advbench:${i + 1}`, r.goal ?? ''));
    },
  },
  {
    name: 'strongreject',
    licence: 'MIT',
    use: 'train',
    note: 'harmful prompts, 6 categories; rows that StrongREJECT took from MaliciousInstruct are skipped (that set has no licence)',
    load: (root) => {
      const csv = read(root, 'strongreject', 'strongreject.csv');
      return csv === undefined
        ? undefined
        : parseCsvRecords(csv)
            .filter((r) => r.source !== 'MaliciousInstruct')
            .map((r, i) => {
              const text = r.forbidden_prompt ?? '';
              const c = strongRejectCategory[r.category ?? ''];
              return harmful('strongreject', `strongreject:${i + 1}`, text, c ? [c] : guessCategory(text));
            });
    },
  },
  {
    name: 'simplesafetytests',
    licence: 'CC BY 4.0',
    use: 'train',
    note: 'clearly harmful prompts, 5 harm areas',
    load: (root) => {
      const csv = read(root, 'simplesafetytests', 'SimpleSafetyTests - test cases.csv');
      return csv === undefined
        ? undefined
        : parseCsvRecords(csv).map((r) => {
            const text = r.prompts_final ?? '';
            const c = sstCategory[r.harm_area ?? ''];
            const guessed = guessCategory(text);
            const categories: HarmCategory[] = c
              ? [c]
              : r.harm_area === 'Child safety' && guessed.length === 0
                ? ['violence']
                : guessed;
            return harmful('simplesafetytests', r.id ?? text, text, categories);
          });
    },
  },
  {
    name: 'oasst',
    licence: 'Apache-2.0',
    use: 'train',
    note: 'natural user prompts, benign (two harmful lottery prompts dropped)',
    load: (root) => {
      const a = read(root, 'oasst-eval-prompts', 'en_100_text.jsonl');
      const b = read(root, 'oasst-eval-prompts', 'prompt_lottery_en_250_text.jsonl');
      if (!a || !b) return undefined;
      return [
        ...jsonl(a).map((t, i) => benign('oasst', `en100:${i + 1}`, String(t))),
        ...jsonl(b).map((t, i) => benign('oasst', `lottery:${i + 1}`, String(t))),
      ].filter((r) => !oasstHarmful.has(r.id));
    },
  },
  {
    name: 'self-instruct',
    licence: 'Apache-2.0',
    use: 'train',
    note: 'human-written ordinary instructions, benign',
    load: (root) => {
      const rows: LabelledText[] = [];
      for (const file of ['seed_tasks.jsonl', 'user_oriented_instructions.jsonl']) {
        const text = read(root, 'self-instruct', file);
        if (!text) return undefined;
        for (const r of jsonl(text) as {
          id: string;
          instruction: string;
          instances: { input: string }[];
        }[]) {
          const input = r.instances[0]?.input ?? '';
          rows.push(benign('self-instruct', r.id, input ? `${r.instruction}\n${input}` : r.instruction));
        }
      }
      return rows;
    },
  },
  {
    name: 'self-instruct-outputs',
    licence: 'Apache-2.0',
    use: 'train',
    note: 'reference outputs: benign data-like text for every head (output surface, and negatives for indirect injection)',
    load: (root) => {
      const text = read(root, 'self-instruct', 'seed_tasks.jsonl');
      return text === undefined
        ? undefined
        : (jsonl(text) as { id: string; instances: { output: string }[] }[])
            .filter((r) => (r.instances[0]?.output ?? '').length > 40)
            .map((r) => ({
              ...benign('self-instruct-outputs', `${r.id}:out`, r.instances[0]?.output ?? ''),
              surface: 'tool_output' as const,
            }));
    },
  },
  {
    name: 'mt-bench',
    licence: 'Apache-2.0',
    use: 'train',
    note: 'MT-bench and Vicuna-bench user turns, benign',
    load: (root) => {
      const rows: LabelledText[] = [];
      for (const file of ['mt_bench_question.jsonl', 'vicuna_bench_question.jsonl']) {
        const text = read(root, 'fastchat-mt-bench', file);
        if (!text) return undefined;
        for (const r of jsonl(text) as { question_id: number; turns: string[] }[]) {
          r.turns.forEach((t, i) => rows.push(benign('mt-bench', `${file}:${r.question_id}:${i}`, t)));
        }
      }
      return rows;
    },
  },
  {
    name: 'bipia-attacks',
    licence: 'MIT',
    use: 'train',
    note: "BIPIA's own train split of attack instructions: positives for the indirect-injection head only",
    load: (root) => {
      const rows: LabelledText[] = [];
      for (const file of ['text_attack_train.json', 'code_attack_train.json']) {
        const text = read(root, 'bipia', 'benchmark', file);
        if (!text) return undefined;
        for (const [group, attacks] of Object.entries(JSON.parse(text) as Record<string, string[]>)) {
          attacks.forEach((a, i) =>
            rows.push({
              source: 'bipia-attacks',
              id: `${file}:${group}:${i}`,
              text: a,
              label: 1,
              categories: ['prompt_injection'],
              surface: 'tool_output',
              indirectOnly: true,
            }),
          );
          // The plain task groups are ordinary requests when a user types them: benign input rows too.
          if (benignBipiaGroups.has(group))
            attacks.forEach((a, i) => rows.push(benign('bipia-tasks', `${file}:${group}:${i}`, a)));
        }
      }
      return rows;
    },
  },
  {
    name: 'jbb-responses-refusal',
    licence: 'Apache-2.0 (via refusal_direction)',
    use: 'train',
    note: "model outputs to the 70 % of JailbreakBench behaviours not held out, labelled by the repository's refusal-substring matcher (rule labels, not Llama Guard's); output head only",
    load: (root) => jbb(root)?.refusalRows,
  },
  ...evalOnlySources(),
];

function evalOnlySources(): DataSource[] {
  return [
    {
      name: 'malicious-instruct',
      licence: 'none stated',
      use: 'eval-only',
      note: 'harmful questions; no licence in the copy',
      load: (root) =>
        read(root, 'malicious-instruct', 'malicious_instruct.txt')
          ?.split('\n')
          .filter((l) => l.trim())
          .map((l, i) => harmful('malicious-instruct', `mi:${i + 1}`, l)),
    },
    {
      name: 'jailbreakbench',
      licence: 'Apache-2.0 (via refusal_direction)',
      use: 'eval-only',
      note: '100 JailbreakBench behaviours (HarmBench/AdvBench-like); kept unseen as a harmbench-style check',
      load: (root) => jbb(root)?.prompts,
    },
    {
      name: 'jbb-responses',
      licence: 'Apache-2.0 (via refusal_direction)',
      use: 'eval-only',
      note: 'outputs to the 30 % of behaviours held out (split by prompt), labelled by Llama Guard 2 (machine labels): output-surface check',
      load: (root) => jbb(root)?.responses,
    },
    {
      name: 'tensor-trust',
      licence: 'none (research data)',
      use: 'eval-only',
      note: 'hijacking and extraction attacks: direct prompt-injection recall',
      load: (root) => {
        const rows: LabelledText[] = [];
        for (const file of ['hijacking_robustness_dataset.jsonl', 'extraction_robustness_dataset.jsonl']) {
          const text = read(root, 'tensor-trust', file);
          if (!text) return undefined;
          for (const r of jsonl(text) as { sample_id: number; attack: string }[]) {
            if (r.attack.trim())
              rows.push({
                source: 'tensor-trust',
                id: `${file}:${r.sample_id}`,
                text: r.attack,
                label: 1,
                categories: ['prompt_injection'],
                surface: 'input',
              });
          }
        }
        return rows;
      },
    },
    {
      name: 'bipia-injected',
      licence: 'MIT attacks; contexts third-party (CC BY-SA and others, NOTICE.md)',
      use: 'eval-only',
      note: 'BIPIA test attacks planted in BIPIA test contexts (tool output), with the clean contexts as negatives',
      load: (root) => bipiaInjected(root),
    },
  ];
}

interface JbbCompletion {
  category: string;
  prompt: string;
  response: string;
  is_jailbreak_llamaguard2?: boolean | number;
  is_jailbreak_substring_matching?: boolean | number;
}

/**
 * JailbreakBench completions, split by behaviour (the prompt): responses to held-out behaviours are the
 * output-surface evaluation (Llama Guard 2 labels); responses to the rest train the output head with the
 * refusal-substring labels (every behaviour is harmful, so "did not refuse" approximates harmful output, and
 * no Llama Guard output is trained on). All prompts stay evaluation-only: the input heads never see them.
 */
function jbb(
  root: string,
): { prompts: LabelledText[]; responses: LabelledText[]; refusalRows: LabelledText[] } | undefined {
  const runs = join(root, 'refusal-direction-completions', 'pipeline', 'runs');
  if (!existsSync(runs)) return undefined;
  const prompts = new Map<string, LabelledText>();
  const responses: LabelledText[] = [];
  const refusalRows: LabelledText[] = [];
  for (const model of [
    'gemma-2b-it',
    'llama-2-7b-chat-hf',
    'meta-llama-3-8b-instruct',
    'qwen-1_8b-chat',
    'yi-6b-chat',
  ]) {
    for (const kind of ['baseline', 'ablation', 'actadd']) {
      const text = read(runs, model, 'completions', `jailbreakbench_${kind}_evaluations.json`);
      if (text) {
        (JSON.parse(text) as { completions: JbbCompletion[] }).completions.forEach((c, i) => {
          prompts.set(c.prompt, harmful('jailbreakbench', `jbb:${prompts.size + 1}`, c.prompt));
          if (!isHeldOut(c.prompt)) {
            if (c.is_jailbreak_substring_matching !== undefined && c.response.trim())
              refusalRows.push({
                source: 'jbb-responses-refusal',
                id: `${model}:${kind}:${i}`,
                text: c.response,
                label: c.is_jailbreak_substring_matching ? 1 : 0,
                categories: [],
                surface: 'output',
                splitKey: c.prompt,
              });
          } else if (c.is_jailbreak_llamaguard2 !== undefined) {
            responses.push({
              source: 'jbb-responses',
              id: `${model}:${kind}:${i}`,
              text: c.response,
              label: c.is_jailbreak_llamaguard2 ? 1 : 0,
              categories: [],
              surface: 'output',
            });
          }
        });
      }
    }
  }
  return { prompts: [...prompts.values()], responses, refusalRows };
}

function bipiaInjected(root: string): LabelledText[] | undefined {
  const attacks: string[] = [];
  for (const file of ['text_attack_test.json', 'code_attack_test.json']) {
    const text = read(root, 'bipia', 'benchmark', file);
    if (!text) return undefined;
    for (const list of Object.values(JSON.parse(text) as Record<string, string[]>)) attacks.push(...list);
  }
  const rows: LabelledText[] = [];
  let k = 0;
  for (const task of ['email', 'table', 'code']) {
    const text = read(root, 'bipia', 'benchmark', task, 'test.jsonl');
    if (!text) return undefined;
    (jsonl(text) as { context: string | string[] }[]).slice(0, 50).forEach((r, i) => {
      // Code contexts are stored as a list of lines.
      const context = Array.isArray(r.context) ? r.context.join('\n') : r.context;
      rows.push({
        source: 'bipia-injected',
        id: `${task}:${i}:clean`,
        text: context,
        label: 0,
        categories: [],
        surface: 'tool_output',
      });
      // Planted at a line break near the middle, as BIPIA does, so it is not trivially at an edge.
      const attack = attacks[k++ % attacks.length] ?? '';
      const middle = context.indexOf('\n', Math.floor(context.length / 2));
      const at = middle < 0 ? context.length : middle;
      rows.push({
        source: 'bipia-injected',
        id: `${task}:${i}:attack`,
        text: `${context.slice(0, at)}\n${attack}\n${context.slice(at)}`,
        label: 1,
        categories: ['prompt_injection'],
        surface: 'tool_output',
      });
    });
  }
  return rows;
}
