export { ERROR_CODES, ErrorCode, isRetryableCode } from './error-codes';
export { BastionError, ErrorInfo, type BastionErrorOptions } from './bastion-error';
export { parseByteSize, formatByteSize } from './byte-size';
export { type Clock, systemClock } from './clock';
export { nodeCrypto, randomUuid } from './node-crypto';
