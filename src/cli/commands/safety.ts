import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command, Option } from 'commander';
import { z } from 'zod';
import { packageRoot } from '../../config/package-root.js';
import { EnclaveError } from '../../errors/index.js';
import { loadSafety, shippedModelDir, surfaces, type Surface } from '../../safety/index.js';
import { reviewedTrainingRows } from '../../safety/review/review-queue.js';
import { harmCategories } from '../../safety/taxonomy.js';
import { evaluate } from '../../safety/training/evaluate.js';
import type { LabelledText } from '../../safety/training/labelled-text.js';
import { trainModel } from '../../safety/training/train-model.js';
import { configFrom, stdinLines, withServices } from '../context.js';

const classifyLine = z.object({ id: z.union([z.string(), z.number()]), text: z.string() });
const evalLine = z.object({
  id: z.union([z.string(), z.number()]).optional(),
  text: z.string(),
  label: z.union([z.literal(0), z.literal(1), z.boolean(), z.enum(['safe', 'unsafe'])]),
  source: z.string().default('file'),
  categories: z.array(z.enum(harmCategories)).default([]),
  surface: z.enum(surfaces).optional(),
});

const defaultDatasets = (): string =>
  process.env.ENCLAVE_DATASETS ?? resolve(packageRoot(), '..', 'shared', 'datasets');

function parseLine<T extends z.ZodType>(schema: T, line: string, n: number): z.output<T> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new EnclaveError('invalid_json', `Line ${n} is not JSON.`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new EnclaveError(
      'invalid_request',
      `Line ${n}: ${parsed.error.issues[0]?.path.join('.')} ${parsed.error.issues[0]?.message}.`,
    );
  return parsed.data;
}

export function safetyCommand(): Command {
  const safety = new Command('safety').description(
    'The safety stack: classify, evaluate and train (offline, no server).',
  );
  const surfaceOption = () =>
    new Option('--surface <surface>', 'where the texts come from').choices(surfaces).default('input');

  safety
    .command('classify')
    .description(
      'Read JSONL {"id","text"} on stdin; write JSONL {"id","flagged","score","categories"} in the same order.',
    )
    .addOption(surfaceOption())
    .option('--model-dir <dir>', 'model folder (default: the shipped model)')
    .option('--tenant <tenant>', "use this tenant's policy from the config file")
    .option(
      '--details',
      'also print per-category scores, layers and spans, the action, policy and model versions',
    )
    .action(
      async (
        opts: { surface: Surface; modelDir?: string; tenant?: string; details?: boolean },
        command: Command,
      ) => {
        const config = configFrom(command);
        const { engine, policyFor } = loadSafety(
          opts.modelDir
            ? {
                ...config,
                file: {
                  ...config.file,
                  safety: { ...(config.file.safety as object), modelDir: opts.modelDir },
                },
              }
            : config,
        );
        const policy = policyFor(opts.tenant ?? '');
        let n = 0;
        for await (const line of stdinLines()) {
          const row = parseLine(classifyLine, line, ++n);
          const v = engine.classify(row.text, { surface: opts.surface, policy });
          const out = {
            id: row.id,
            flagged: v.flagged,
            score: v.score,
            // Category names (distinct), so `categories.includes("weapons")` works; scores, layers and
            // spans come with --details.
            categories: [...new Set(v.categories.map((c) => c.category))],
            ...(opts.details
              ? {
                  details: v.categories,
                  action: v.action,
                  policyVersion: v.policyVersion,
                  modelVersion: v.modelVersion,
                }
              : {}),
          };
          process.stdout.write(JSON.stringify(out) + '\n');
        }
      },
    );

  safety
    .command('eval')
    .description(
      'Score a labelled JSONL file {"text","label":0|1,"source"?,"categories"?,"surface"?}: precision, recall, F1, AUPRC, FPR per source and per category.',
    )
    .requiredOption('--file <file>', 'labelled JSONL file')
    .addOption(surfaceOption())
    .option('--model-dir <dir>', 'model folder (default: the shipped model)')
    .action(async (opts: { file: string; surface: Surface; modelDir?: string }, command: Command) => {
      const config = configFrom(command);
      const { engine } = loadSafety(
        opts.modelDir
          ? {
              ...config,
              file: {
                ...config.file,
                safety: { ...(config.file.safety as object), modelDir: opts.modelDir },
              },
            }
          : config,
      );
      const rows: LabelledText[] = readFileSync(opts.file, 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map((line, i) => {
          const r = parseLine(evalLine, line, i + 1);
          const label = r.label === 1 || r.label === true || r.label === 'unsafe' ? 1 : 0;
          return {
            source: r.source,
            id: String(r.id ?? i + 1),
            text: r.text,
            label,
            categories: r.categories,
            surface: r.surface ?? opts.surface,
          };
        });
      process.stdout.write(
        JSON.stringify(
          { model: engine.modelVersion, rows: rows.length, ...evaluate(engine, rows) },
          null,
          2,
        ) + '\n',
      );
    });

  safety
    .command('train')
    .description(
      'Retrain the shipped classifier from licence-permitted data sets, own examples and (optionally) reviewed decisions; replaces the active model only if it is not worse on the fixed evaluation split.',
    )
    .option('--datasets <dir>', 'folder of shared data sets', defaultDatasets())
    .option('--model-dir <dir>', 'active model folder', shippedModelDir())
    .option('--with-reviews', 'include decided review items from the configured store')
    .option('--epochs <n>', 'training epochs', (v) => Number(v))
    .option('--force', 'replace the active model even when the candidate is worse (reported)')
    .action(
      async (
        opts: { datasets: string; modelDir: string; withReviews?: boolean; epochs?: number; force?: boolean },
        command: Command,
      ) => {
        let reviewed: LabelledText[] = [];
        if (opts.withReviews) {
          // Through the services: the database file is encrypted and review texts are sealed.
          reviewed = await withServices(command, (services) => reviewedTrainingRows(services.store.safety));
        }
        const report = trainModel({
          datasetsRoot: opts.datasets,
          modelDir: opts.modelDir,
          reviewed,
          ...(opts.force ? { force: true } : {}),
          ...(opts.epochs ? { epochs: opts.epochs } : {}),
          log: (line) => process.stderr.write(line + '\n'),
        });
        const fmt = (x: number | null | undefined): string =>
          x === null || x === undefined ? 'n/a' : x.toFixed(3);
        const line = (name: string, r: typeof report.candidate | null): string =>
          r
            ? `${name}: F1 ${fmt(r.overall.f1)}  AUPRC ${fmt(r.overall.auprc)}  precision ${fmt(r.overall.precision)}  recall ${fmt(r.overall.recall)}  FPR ${fmt(r.overall.fpr)}`
            : `${name}: none`;
        process.stdout.write(
          [
            `training rows ${report.trainRows} (reviewed ${reviewed.length}); fixed evaluation rows ${report.evalRows}`,
            line(`before (${report.activeVersion ?? 'no active model'})`, report.active),
            line(`after  (${report.candidateVersion})`, report.candidate),
            `${report.replaced ? 'replaced' : 'kept'}: ${report.reason}`,
          ].join('\n') + '\n',
        );
        if (!report.replaced) process.exitCode = 2;
      },
    );

  return safety;
}
