export {
  ESCAPE_ATTEMPTS,
  type EscapeAttempt,
  type EscapeLayer,
  type ExecEscapeAttempt,
  type CursorEscapeAttempt,
} from './escape-attempts';
export {
  runEscapeAttempt,
  runExecEscapeAttempt,
  CORPUS_ALLOWED_DOMAIN,
  type EscapeBackend,
  type EscapeExecRunner,
  type EscapeOutcome,
} from './run-escape-attempt';
export {
  CLAUDE_CODE_APPLY_ATTEMPTS,
  claudeTurnsFor,
  claudeToolUseFor,
  type ClaudeCodeEscapeAttempt,
} from './claude-code-attempts';
