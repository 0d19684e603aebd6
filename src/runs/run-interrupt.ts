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
