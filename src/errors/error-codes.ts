/**
 * The one table of error codes: code → HTTP status → OpenAI error `type`.
 * Every error a client can see is an EnclaveError with one of these codes.
 */
export const errorCodes = {
  invalid_request: { status: 400, type: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error' },
  invalid_label: { status: 400, type: 'invalid_request_error' },
  unauthenticated: { status: 401, type: 'authentication_error' },
  forbidden: { status: 403, type: 'permission_error' },
  label_denied: { status: 403, type: 'permission_error' },
  not_accredited: { status: 403, type: 'permission_error' },
  safety_blocked: { status: 403, type: 'content_policy_violation' },
  /** A red-line request held until a reviewer decides (see docs/safety.md, "Where it runs"). */
  safety_held: { status: 403, type: 'content_policy_violation' },
  not_found: { status: 404, type: 'invalid_request_error' },
  conflict: { status: 409, type: 'invalid_request_error' },
  already_exists: { status: 409, type: 'invalid_request_error' },
  payload_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_media_type: { status: 415, type: 'invalid_request_error' },
  rate_limited: { status: 429, type: 'rate_limit_error' },
  upstream_error: { status: 502, type: 'api_error' },
  upstream_timeout: { status: 504, type: 'api_error' },
  unavailable: { status: 503, type: 'api_error' },
  audit_unavailable: { status: 503, type: 'api_error' },
  decrypt_failed: { status: 500, type: 'server_error' },
  internal: { status: 500, type: 'server_error' },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof errorCodes;
