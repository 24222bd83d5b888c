import type { FakeAnthropicBlock, FakeAnthropicTurn } from '../fake-anthropic-api/fake-anthropic-api';
import type { FakeCursorEdit } from '../fake-cursor-agent/fake-cursor-script';
import type { ClaudeCodeEscapeAttempt, CursorEscapeAttempt } from './escape-attempt';

export type { ClaudeCodeEscapeAttempt };

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

/** A Cursor apply attempt made by the real Claude Code CLI: the same edits as tool calls, the same denial expected. */
export function claudeCodeAttemptFrom(attempt: CursorEscapeAttempt): ClaudeCodeEscapeAttempt {
  return {
    id: `claude-${attempt.id}`,
    goal: attempt.goal,
    layer: attempt.layer,
    via: 'claude-code-apply',
    turns: claudeTurnsFor(attempt.edits),
  };
}
