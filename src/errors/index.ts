export { errorCodes, type ErrorCode } from './error-codes.js';
export { EnclaveError, isEnclaveError, notFound, type ErrorBody } from './enclave-error.js';
