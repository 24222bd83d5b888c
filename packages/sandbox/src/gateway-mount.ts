/**
 * Where the egress gateway appears inside the sandbox: the executors mount its socket directory and
 * recognise its relay, the gateway package serves it. The image copies ops/docker/sandbox/ to /opt/bastion/.
 */
export const SANDBOX_GATEWAY = {
  mountDir: '/run/bastion',
  socketName: 'gateway.sock',
  port: 8080,
  relay: '/opt/bastion/bin/bastion-relay',
} as const;
