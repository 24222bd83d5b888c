export { ESCAPE_ATTEMPTS, type EscapeAttempt, type EscapeLayer, type ExecEscapeAttempt, type CursorEscapeAttempt } from './escape-attempts';
export { runEscapeAttempt, CORPUS_ALLOWED_DOMAIN, type EscapeOutcome } from './run-escape-attempt';
