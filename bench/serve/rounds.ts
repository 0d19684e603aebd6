import { percentile } from '../support.js';

/** One closed-loop run of a scenario: latencies of the requests that succeeded, ms. */
export interface LoopResult {
  samples: number[];
  errors: number;
  elapsedMs: number;
}

/** A round of a scenario with the CPU time each process spent during it, ms. */
export interface RoundResult extends LoopResult {
  /** Enclave's user + system time, and the system part alone (syscalls: fsync, sockets, file writes). */
  cpu: { enclave: number; enclaveSystem: number; mock: number; client: number };
}

let reported = false;

/**
 * Closed loop: `connections` workers send back-to-back for `seconds`; a request's latency runs until its body is
 * fully read. Failed requests are counted, not timed (the first failure is printed once, to see why).
 */
export async function closedLoop(
  send: (worker: number) => Promise<boolean>,
  seconds: number,
  connections: number,
): Promise<LoopResult> {
  const samples: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async (_, worker) => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const ok = await send(worker).catch((error: unknown) => {
          if (!reported) console.error(`first failed request: ${String(error)}`);
          reported = true;
          return false;
        });
        if (ok) samples.push(performance.now() - t0);
        else errors++;
      }
    }),
  );
  return { samples, errors, elapsedMs: performance.now() - start };
}

export interface Row {
  name: string;
  rps: number;
  /** Median of the per-round p50s. */
  p50: number;
  /** Over all rounds' samples together. */
  p99: number;
  /** Median over rounds of (this round's p50 − the baseline's p50 in the same round). */
  addedP50: number | undefined;
  addedP99: number | undefined;
  /** CPU ms per (successful or failed) request. */
  cpu: RoundResult['cpu'];
  errors: number;
  roundP50s: number[];
}

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

export function summarize(name: string, rounds: RoundResult[], base?: RoundResult[]): Row {
  const roundP50s = rounds.map((r) => percentile(r.samples, 50));
  const pooled = rounds.flatMap((r) => r.samples);
  const requests = sum(rounds.map((r) => r.samples.length + r.errors));
  const perRequest = (k: keyof RoundResult['cpu']) => sum(rounds.map((r) => r.cpu[k])) / requests;
  const p99 = percentile(pooled, 99);
  return {
    name,
    rps: requests / (sum(rounds.map((r) => r.elapsedMs)) / 1000),
    p50: percentile(roundP50s, 50),
    p99,
    addedP50: base
      ? percentile(
          roundP50s.map((p, i) => p - percentile(base[i]!.samples, 50)),
          50,
        )
      : undefined,
    addedP99: base
      ? p99 -
        percentile(
          base.flatMap((r) => r.samples),
          99,
        )
      : undefined,
    cpu: {
      enclave: perRequest('enclave'),
      enclaveSystem: perRequest('enclaveSystem'),
      mock: perRequest('mock'),
      client: perRequest('client'),
    },
    errors: sum(rounds.map((r) => r.errors)),
    roundP50s,
  };
}
