/**
 * Lines the agents print on every run that say nothing about the task, dropped from `output`
 * events (the AgentResult and the audit log keep everything). The Gemini CLI's, as recorded in
 * packages/testing/src/fake-gemini-api/OBSERVED.md: it runs with TERM=dumb and NO_COLOR, so it warns
 * about colours, and it reports start-up phases and its grep fallback on stderr even on success.
 */
export const AGENT_OUTPUT_NOISE: readonly RegExp[] = [
  /^Warning: 256-color support not detected/,
  /^Warning: Basic terminal detected \(TERM=dumb\)/,
  /^Ripgrep is not available\. Falling back to GrepTool\./,
  /^\[STARTUP\] /,
];
