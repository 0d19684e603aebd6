/**
 * A control-flow signal, not an error: thrown out of a run's handler to stop it at a safe point when it
 * must wait for a human (`suspended`) or was cancelled. It deliberately does not extend Error (and is not
 * an EnclaveError) so no generic catch turns it into a failure; the run engine catches it by type.
 */
export class RunInterrupt {
  constructor(
    readonly reason: 'suspended' | 'cancelled' | 'lease_lost',
    readonly detail: string,
  ) {}
}

export const isRunInterrupt = (value: unknown): value is RunInterrupt => value instanceof RunInterrupt;

/** Whether a turn that ended with `error` must not be stored: its run parked, or another worker owns it now. */
export const stopsTurnUnstored = (error: unknown, signal: AbortSignal | undefined): boolean =>
  (isRunInterrupt(error) && error.reason !== 'cancelled') ||
  (signal?.aborted === true && isRunInterrupt(signal.reason) && signal.reason.reason === 'lease_lost');

/** Whether `signal` was aborted by a cancel request (the turn is stored as `cancelled`). */
export const cancelledBy = (signal: AbortSignal): boolean =>
  isRunInterrupt(signal.reason) && signal.reason.reason === 'cancelled';
