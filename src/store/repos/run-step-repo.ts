import type { Kysely, Selectable } from 'kysely';
import type { RunStepTable } from '../run-schema.js';
import type { Database } from '../schema.js';

export type StepKind = 'model_call' | 'tool_call' | 'approval_wait' | 'safety_verdict';
export type StepStatus = 'started' | 'completed' | 'failed';

export interface RunStep {
  runId: string;
  index: number;
  kind: StepKind;
  name: string;
  status: StepStatus;
  idempotencyKey: string;
  attempts: number;
  /**
   * The run's label when the step first began (a retry keeps it), raised when the step completed with more
   * than that (`finish` with a label); its content is sealed under it.
   */
  labelId: string | null;
  input: unknown;
  output: unknown;
  error: string | null;
  startedAt: number;
  completedAt: number | null;
}

/**
 * The checkpoints of a run: a row is written before a step runs (`started`) and again after
 * (`completed`/`failed`). A completed row is final — `finish` only moves a started step — so a replayed
 * step can never overwrite the recorded result.
 */
export interface RunStepRepo {
  get(runId: string, index: number): Promise<RunStep | undefined>;
  list(runId: string): Promise<RunStep[]>;
  /**
   * Records the start of a step. A step already started (by a process that died mid-step) or failed (a
   * transient error) is started again with the same idempotency key and its attempt count bumped; a
   * completed step is returned as is.
   */
  begin(step: {
    runId: string;
    index: number;
    kind: StepKind;
    name: string;
    idempotencyKey: string;
    /** The run's current label. */
    labelId: string;
    input: unknown;
    now?: number;
  }): Promise<RunStep>;
  /**
   * Completes or fails a started step. A completion may raise the step's label (`labelId`, dominating the
   * old one) when its output holds more than it began with (the memory tool's recall); the row's `input` is
   * then replaced by `input` (the sealing repo passes it re-sealed under the new label, which its AAD binds).
   */
  finish(runId: string, index: number, result: StepResult, now?: number): Promise<boolean>;
}

export type StepResult =
  | { status: 'completed'; output: unknown; labelId?: string; input?: unknown }
  | { status: 'failed'; error: string };

const toStep = (row: Selectable<RunStepTable>): RunStep => ({
  runId: row.run_id,
  index: Number(row.step_index),
  kind: row.kind as StepKind,
  name: row.name,
  status: row.status as StepStatus,
  idempotencyKey: row.idempotency_key,
  attempts: Number(row.attempts),
  labelId: row.label_id,
  input: row.input === null ? null : (JSON.parse(row.input) as unknown),
  output: row.output === null ? null : (JSON.parse(row.output) as unknown),
  error: row.error,
  startedAt: Number(row.started_at),
  completedAt: row.completed_at === null ? null : Number(row.completed_at),
});

export function runStepRepo(db: Kysely<Database>): RunStepRepo {
  const get = async (runId: string, index: number) => {
    const row = await db
      .selectFrom('run_steps')
      .selectAll()
      .where('run_id', '=', runId)
      .where('step_index', '=', index)
      .executeTakeFirst();
    return row && toStep(row);
  };
  return {
    get,
    async list(runId) {
      const rows = await db
        .selectFrom('run_steps')
        .selectAll()
        .where('run_id', '=', runId)
        .orderBy('step_index')
        .execute();
      return rows.map(toStep);
    },
    async begin(step) {
      const now = step.now ?? Date.now();
      await db
        .insertInto('run_steps')
        .values({
          run_id: step.runId,
          step_index: step.index,
          kind: step.kind,
          name: step.name,
          status: 'started',
          idempotency_key: step.idempotencyKey,
          attempts: 1,
          label_id: step.labelId,
          input: JSON.stringify(step.input ?? null),
          output: null,
          error: null,
          started_at: now,
          completed_at: null,
        })
        .onConflict((oc) =>
          oc
            .columns(['run_id', 'step_index'])
            .doUpdateSet((eb) => ({
              status: 'started',
              attempts: eb('run_steps.attempts', '+', 1),
              started_at: now,
              completed_at: null,
            }))
            .where('run_steps.status', '!=', 'completed'),
        )
        .execute();
      const stored = await get(step.runId, step.index);
      if (!stored) throw new Error(`run step ${step.runId}/${step.index} vanished right after insert`);
      return stored;
    },
    async finish(runId, index, result, now = Date.now()) {
      const r = await db
        .updateTable('run_steps')
        .set(
          result.status === 'completed'
            ? {
                status: 'completed',
                output: JSON.stringify(result.output ?? null),
                completed_at: now,
                ...(result.labelId !== undefined ? { label_id: result.labelId } : {}),
                ...(result.input !== undefined ? { input: JSON.stringify(result.input) } : {}),
              }
            : { status: 'failed', error: result.error, completed_at: now },
        )
        .where('run_id', '=', runId)
        .where('step_index', '=', index)
        .where('status', '=', 'started')
        .executeTakeFirst();
      return Number(r.numUpdatedRows) > 0;
    },
  };
}
