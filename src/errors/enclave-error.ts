import { errorCodes, type ErrorCode } from './error-codes.js';

/** OpenAI's error body: `{"error":{"message","type","param","code"}}`. */
export interface ErrorBody {
  error: { message: string; type: string; param: string | null; code: string };
}

/**
 * The one error class of Enclave. `message` is shown to clients, so it must say what to fix and must never
 * carry SQL, stack traces or secrets; put diagnostic detail in `cause`, which is only logged.
 */
export class EnclaveError extends Error {
  readonly code: ErrorCode;
  readonly param: string | null;

  constructor(code: ErrorCode, message: string, options: { param?: string | null; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'EnclaveError';
    this.code = code;
    this.param = options.param ?? null;
  }

  get status(): number {
    return errorCodes[this.code].status;
  }

  toBody(): ErrorBody {
    return {
      error: { message: this.message, type: errorCodes[this.code].type, param: this.param, code: this.code },
    };
  }
}

export const isEnclaveError = (value: unknown): value is EnclaveError => value instanceof EnclaveError;

export const notFound = (what: string, id: string): EnclaveError =>
  new EnclaveError('not_found', `No ${what} found with id '${id}'.`, { param: 'id' });
