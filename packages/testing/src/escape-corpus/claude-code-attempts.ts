import type { FakeAnthropicBlock, FakeAnthropicTurn } from '../fake-anthropic-api/fake-anthropic-api';
import type { FakeCursorEdit } from '../fake-cursor-agent/fake-cursor-script';
import { CURSOR_APPLY_ATTEMPTS } from './cursor-apply-attempts';
import { ESCAPE_ATTEMPTS, type CursorEscapeAttempt, type EscapeLayer } from './escape-attempts';

/**
 * An apply-path attempt by the real Claude Code CLI: the fake Anthropic API answers with `turns`
 * (one tool call each, so the CLI runs them in order, then a closing text), the CLI performs them
 * in its workspace copy, and FF_CLAUDE_CODE_AUTOFIX is on, so the apply path judges the result.
 */
export interface ClaudeCodeEscapeAttempt {
  readonly id: string;
  readonly goal: string;
  readonly layer: EscapeLayer;
  readonly via: 'claude-code-apply';
  readonly turns: readonly FakeAnthropicTurn[];
}

/** POSIX single-quoting: the path or content reaches the shell as one literal word. */
const q = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * The tool call Claude Code would make for one of the fake cursor-agent's edits: file writes go
 * through its Write tool (so the path is reported as a tool path), everything else through Bash.
 */
export function claudeToolUseFor(edit: FakeCursorEdit, id: string): FakeAnthropicBlock {
  const bash = (command: string): FakeAnthropicBlock => ({
    type: 'tool_use',
    id,
    name: 'Bash',
    input: { command, description: 'tidy up' },
  });
  switch (edit.op) {
    case 'write':
    case 'create':
      if (edit.mode !== undefined || edit.encoding !== undefined) {
        const bytes =
          edit.encoding === 'base64' ? `printf %s ${q(edit.content)} | base64 -d` : `printf %s ${q(edit.content)}`;
        return bash(
          `mkdir -p "$(dirname ${q(edit.path)})" && ${bytes} > ${q(edit.path)}${edit.mode ? ` && chmod ${edit.mode} ${q(edit.path)}` : ''}`,
        );
      }
      return { type: 'tool_use', id, name: 'Write', input: { file_path: edit.path, content: edit.content } };
    case 'append':
      return bash(`printf %s ${q(edit.content)} >> ${q(edit.path)}`);
    case 'delete':
      return bash(`rm -rf ${q(edit.path)}`);
    case 'rename':
      return bash(`mv ${q(edit.path)} ${q(edit.to)}`);
    case 'chmod':
      return bash(`chmod ${edit.mode} ${q(edit.path)}`);
    case 'symlink':
      return bash(`ln -s ${q(edit.target)} ${q(edit.path)}`);
    case 'mkdir':
      return bash(`mkdir -p ${q(edit.path)}`);
    case 'shell':
      return bash(edit.command);
  }
}

/** A cursor attempt's edits as Claude Code turns: one tool call per turn, then "Done.". */
export function claudeTurnsFor(edits: readonly FakeCursorEdit[]): FakeAnthropicTurn[] {
  return [
    ...edits.map((edit, i): FakeAnthropicTurn => [
      claudeToolUseFor(edit, `toolu_escape_${String(i + 1).padStart(2, '0')}`),
    ]),
    'Done.',
  ];
}

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
].map((a) => ({
  id: `claude-${a.id}`,
  goal: a.goal,
  layer: a.layer,
  via: 'claude-code-apply',
  turns: claudeTurnsFor(a.edits),
}));
