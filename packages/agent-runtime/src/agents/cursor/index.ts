export { createCursorBinding, type CursorBindingOptions } from './cursor-binding';
export { resolveCursorAgent, type CursorAgentInstall, type ResolveCursorAgentOptions } from './cursor-agent-resolution';
export {
  envAutofixFlag,
  parseAutofixValue,
  flagServiceAutofix,
  perCallFlagServiceAutofix,
  type AutofixFlag,
  type AutofixEvaluation,
} from './autofix-flag';
