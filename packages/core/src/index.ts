export { ERROR_CODES, isRetryableCode, type ErrorCode } from './error-codes';
export { BastionError, errorInfoSchema, type ErrorInfo, type BastionErrorOptions } from './bastion-error';
export { parseByteSize, formatByteSize } from './byte-size';
export { type Clock, systemClock } from './clock';
export { nodeCrypto, randomUuid } from './node-crypto';
