import { pino, type Logger } from 'pino';

/**
 * Paths scrubbed from every log line: credentials always, prompt and output text by default
 * (set `ENCLAVE_LOG_CONTENT=1` only on a system cleared for the content it processes).
 */
const secretPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  '*.apiKey',
  '*.api_key',
  '*.key',
  '*.secret',
  '*.password',
  '*.token',
];
const contentPaths = [
  '*.input',
  '*.instructions',
  '*.messages',
  '*.text',
  '*.prompt',
  '*.output',
  '*.content',
];

export function createLogger(
  level: string,
  options: { logContent?: boolean; destination?: NodeJS.WritableStream } = {},
): Logger {
  const paths = options.logContent ? secretPaths : [...secretPaths, ...contentPaths];
  return pino(
    { level, redact: { paths, censor: '[redacted]' }, base: { service: 'enclave' } },
    options.destination ?? process.stderr,
  );
}

export type { Logger };
