export {
  ESCAPE_ATTEMPTS,
  type EscapeAttempt,
  type EscapeLayer,
  type ExecEscapeAttempt,
  type CursorEscapeAttempt,
  CLAUDE_CODE_CORPUS_IDS,
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
  claudeCodeAttemptFrom,
  type ClaudeCodeEscapeAttempt,
} from './claude-code-attempts';
