import { describe, expect, it } from 'vitest';
import { EnclaveError, errorCodes } from './index.js';

describe('EnclaveError', () => {
  it('maps every code to a status and an OpenAI error body', () => {
    for (const code of Object.keys(errorCodes) as (keyof typeof errorCodes)[]) {
      const error = new EnclaveError(code, 'message', { param: 'p' });
      expect(error.status).toBe(errorCodes[code].status);
      expect(error.toBody()).toEqual({
        error: { message: 'message', type: errorCodes[code].type, param: 'p', code },
      });
    }
  });

  it('keeps the cause out of the client body', () => {
    const error = new EnclaveError('internal', 'Something failed.', {
      cause: new Error('SELECT secret FROM x'),
    });
    expect(JSON.stringify(error.toBody())).not.toContain('SELECT');
  });
});
