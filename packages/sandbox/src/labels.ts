import { randomUuid } from '@bastion/core';
import { hostname } from 'node:os';

/** Labels every Bastion container carries, so a reaper can find leftovers after any crash. */
export const LABELS = {
  managed: 'dev.bastion.managed',
  session: 'dev.bastion.session',
  owner: 'dev.bastion.owner',
  expires: 'dev.bastion.expires',
  correlation: 'dev.bastion.correlation-id',
} as const;

export interface SessionIdentity {
  readonly sessionId: string;
  readonly owner: string;
}

export function newSessionIdentity(): SessionIdentity {
  return { sessionId: randomUuid(), owner: `${hostname()}:${process.pid}` };
}

/** Expiry = deadline plus a grace period; past it any reaper may remove the container. */
export function containerLabels(
  identity: SessionIdentity,
  correlationId: string,
  expiresAtMs: number,
): Record<string, string> {
  return {
    [LABELS.managed]: 'true',
    [LABELS.session]: identity.sessionId,
    [LABELS.owner]: identity.owner,
    [LABELS.expires]: new Date(expiresAtMs).toISOString(),
    [LABELS.correlation]: correlationId,
  };
}
