import type { PolicyEngine } from '@bastion/policy';
import type { OutputSanitizer, SecretStore } from '@bastion/security';

// Stand-ins for policy, sanitizer and secrets, so the real pipeline and runAgent run in a unit test
// without Docker (the shared in-memory executor lives in @bastion/testing, which the runtime's own
// tests may not import).

/** Allows everything, with small limits and no network. */
export const allowAll = {
  evaluate: () => ({
    allow: true,
    reasons: [],
    limits: {
      memoryBytes: 1 << 28,
      cpus: 1,
      pids: 64,
      nofile: 256,
      tmpfsBytes: 1 << 24,
      timeoutMs: 60_000,
      outputBytes: 1 << 20,
    },
    obligations: { network: { mode: 'none' } },
  }),
} as unknown as PolicyEngine;

/** A sanitizer factory whose streams decode and redact nothing. */
export const passThrough = () =>
  ({
    ruleIds: [],
    sanitize: (input: string | Uint8Array) => ({ text: String(input), redactions: [] }),
    createStream: () => {
      const decoder = new TextDecoder();
      return {
        write: (c: Uint8Array | string) => (typeof c === 'string' ? c : decoder.decode(c, { stream: true })),
        end: () => '',
        redactions: () => [],
      };
    },
  }) as unknown as OutputSanitizer;

/** A secret store holding nothing. */
export const noSecrets = { require: () => '', knownValues: () => [] } as unknown as SecretStore;
