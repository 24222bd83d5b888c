import type { ProviderManifest } from '../contract/provider-manifest';
import { GEMINI_API } from './gemini-api';

/** The real Gemini CLI in its own image (ops/docker/gemini-cli), answering questions; it never edits. */
export const GEMINI_CLI_MANIFEST: ProviderManifest = {
  id: 'gemini-cli',
  image: 'gemini-cli',
  upstreams: [GEMINI_API],
  capabilities: { analyze: true, edit: false },
  flags: {},
  defaultModelEnv: 'BASTION_GEMINI_MODEL',
};
