/** The safety stack's verdict on a memory write (src/safety provides the real screen). */
export interface ScreenVerdict {
  quarantine: boolean;
  reason: string;
}

/** Injected seam: every memory write (turn episodes, extracted and created records) passes it. */
export type ScreenMemory = (text: string, tenantId: string) => Promise<ScreenVerdict> | ScreenVerdict;
