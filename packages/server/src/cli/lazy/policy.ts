// Loaded on use by the CLI (import('./lazy/policy')): only the policy store and engine with what
// they import, bundled from their defining modules (scripts/build.mjs), not the package index,
// whose every module (schemas of the whole policy language, YAML helpers…) a dynamic import of
// '@bastion/policy' initialised: ~13-18 ms of a one-shot `bastion exec` in CPU profiles.
export { createPolicyEngine, createPolicyStore } from '@bastion/policy';
