import { setTimeout as delay } from 'node:timers/promises';
import type { RetryPolicy } from './models-config.js';

/**
 * Exponential backoff with "equal jitter": half the step is fixed, half random, so retries from many
 * requests spread out instead of hitting a recovering upstream together. A Retry-After from the upstream
 * is honoured up to the cap.
 */
export function backoffDelay(
  retry: number,
  policy: RetryPolicy,
  random: () => number,
  retryAfterMs?: number,
): number {
  const step = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** Math.max(0, retry - 1));
  const jittered = step / 2 + (random() * step) / 2;
  return Math.max(jittered, Math.min(retryAfterMs ?? 0, policy.maxBackoffMs));
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

export const abortableSleep: Sleep = async (ms, signal) => {
  await delay(ms, undefined, signal === undefined ? {} : { signal });
};
