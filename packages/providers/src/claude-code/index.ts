export {
  createClaudeCodeProvider,
  claudeCodeRegistration,
  ClaudeCodeProviderOptions,
  CLAUDE_WRITING_TOOLS,
} from './claude-code-provider';
export { CLAUDE_CODE_MANIFEST } from './claude-code-manifest';
export { ANTHROPIC_API } from './anthropic-api';
export { parseClaudeCodeOutput, claudeApiError, claudeCodeStats } from './claude-code-output';
export { readClaudeCodeEvents, claudeToolPaths, type ClaudeCodeEvents, type ClaudeToolUse } from './claude-code-events';
