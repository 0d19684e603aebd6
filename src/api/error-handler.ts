import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { EnclaveError, isEnclaveError } from '../errors/index.js';

/** Fastify's own 4xx errors (body parsing, limits, media types) in Enclave's one error model. */
function fromFastify(error: FastifyError): EnclaveError | undefined {
  const status = error.statusCode ?? 500;
  if (status >= 500) return undefined;
  switch (error.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new EnclaveError(
        'payload_too_large',
        'Request body is larger than this server accepts (ENCLAVE_BODY_LIMIT).',
      );
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new EnclaveError(
        'unsupported_media_type',
        'Send the request body as JSON with Content-Type: application/json.',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new EnclaveError('invalid_json', 'The request body is empty; send a JSON object.');
    default:
      if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
        return new EnclaveError('invalid_json', 'The request body is not valid JSON.');
      }
      return new EnclaveError('invalid_request', error.message);
  }
}

export async function handleError(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<FastifyReply | undefined> {
  let known = isEnclaveError(error) ? error : fromFastify(error);
  // Fail-closed: not even a refusal goes out before the request's auth entry is durable. A route that takes the
  // entry into its turn may never have run (Fastify refused the body first), so it is recorded here if not yet.
  const auditFailure = await request.authEntry?.recorded().then(
    () => undefined,
    (cause: unknown) => cause,
  );
  if (auditFailure !== undefined)
    known = isEnclaveError(auditFailure)
      ? auditFailure
      : new EnclaveError('audit_unavailable', 'The audit log could not record this request.');
  const enclaveError =
    known ?? new EnclaveError('internal', 'The server failed to process the request; it has been logged.');
  if (enclaveError.status >= 500) {
    request.log.error({ err: error, code: enclaveError.code }, 'request failed');
  } else {
    request.log.info({ code: enclaveError.code }, 'request refused');
  }
  if (reply.sent || reply.raw.headersSent) {
    // A stream already started: the route owns ending it; never write a second response.
    return undefined;
  }
  return reply.status(enclaveError.status).send(enclaveError.toBody());
}
