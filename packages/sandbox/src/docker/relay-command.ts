import { SANDBOX_GATEWAY } from '../gateway-mount';

export interface RelaySpec {
  readonly host: string;
  readonly port: number;
  readonly socket: string;
}

/**
 * `bastion-relay --listen H:P --socket S -- CMD…` → the relay the supervisor runs in-process, and CMD.
 * A pooled container's supervisor relays itself, so the call saves starting the relay binary.
 */
export function unwrapRelay(command: readonly string[]): { relay?: RelaySpec; command: readonly string[] } {
  if (
    command[0] !== SANDBOX_GATEWAY.relay ||
    command[1] !== '--listen' ||
    command[3] !== '--socket' ||
    command[5] !== '--'
  )
    return { command };
  const m = /^(.*):(\d+)$/.exec(command[2] ?? '');
  if (!m || command.length < 7) return { command };
  return { relay: { host: m[1], port: Number(m[2]), socket: command[4] }, command: command.slice(6) };
}
