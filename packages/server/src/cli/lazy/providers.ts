// Loaded on use by the CLI (import('./lazy/providers')): the registry with its manifests only. The
// providers' index would also load every provider's implementation, which `exec` never runs.
export { providerRegistry } from '@bastion/providers';
