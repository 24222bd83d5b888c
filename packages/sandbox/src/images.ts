/**
 * The images the sandbox itself ships (ops/docker builds them offline). One definition: the
 * runtime, the CLI, doctor and the benchmarks name these constants, never the strings. A
 * provider's own image (gemini-cli, cursor, ...) is declared by that provider.
 */
export const BASE_IMAGE = 'bastion/base:latest';
/** The hardened general-purpose sandbox: `bastion exec`'s default and the fallback for providers. */
export const SANDBOX_IMAGE = 'bastion/sandbox:latest';
