import { CURSOR_APPLY_ATTEMPTS } from './cursor-apply-attempts';
import { ESCAPE_ATTEMPTS, type CursorEscapeAttempt } from './escape-attempts';
import { claudeCodeAttemptFrom, type ClaudeCodeEscapeAttempt } from './claude-code-attempt';

export {
  claudeCodeAttemptFrom,
  claudeToolUseFor,
  claudeTurnsFor,
  type ClaudeCodeEscapeAttempt,
} from './claude-code-attempt';

const isApplyAttempt = (a: (typeof ESCAPE_ATTEMPTS)[number]): a is CursorEscapeAttempt =>
  a.via === 'cursor-apply' && !('dryRun' in a);

/**
 * The same apply-path attempts as Cursor's (dot-dot and absolute paths, symlinks out of the tree,
 * .git/hooks, CI files, shell start-up files), made by the real Claude Code CLI: the same denials
 * must hold whichever agent made the edits. Cursor's dry-run attempts need a root-only directory
 * on the host and stay with the root failure suite.
 */
export const CLAUDE_CODE_APPLY_ATTEMPTS: readonly ClaudeCodeEscapeAttempt[] = [
  ...new Map([...ESCAPE_ATTEMPTS, ...CURSOR_APPLY_ATTEMPTS].filter(isApplyAttempt).map((a) => [a.id, a])).values(),
].map(claudeCodeAttemptFrom);
