import type { AgentProvider } from '@bastion/providers';
import { SANDBOX_IMAGE } from '@bastion/sandbox';

/**
 * The provider the router and queue suites route to: it plans a trivial command for the in-memory
 * executor and parses its output, so those suites measure Bastion's own path, not an agent.
 */
export const benchProvider: AgentProvider = {
  specificationVersion: 'v1',
  image: 'sandbox',
  upstreams: [],
  flags: {},
  id: 'gemini-cli',
  capabilities: { analyze: true, edit: true },
  plan: (task) => ({
    provider: 'gemini-cli',
    image: SANDBOX_IMAGE,
    command: ['agent', '--prompt', task.prompt],
  }),
  parse: (output) => ({ ok: output.exitCode === 0, response: output.stdout }),
};
