import type { SecretStore } from '@bastion/security';
import type { EgressProvisioner } from '../pipeline/sandbox-extensions';
import type { RuntimeDir } from '../runtime-dir/runtime-dir';
import { startEgressGateway, type GatewayLogger } from './egress-gateway';
import { defaultApiUpstream, gatewayEnv, SANDBOX_GATEWAY, wrapCommandWithRelay } from './sandbox-gateway';

/** Which secret holds each provider API's real key (the sandbox only ever sees a placeholder). */
const API_SECRETS = { gemini: 'gemini-api-key' } as const;

export interface GatewayProvisionerOptions {
  secrets: SecretStore;
  /** Host environment, read at call time for GOOGLE_GEMINI_BASE_URL. */
  env?: Readonly<Record<string, string | undefined>>;
  logger?: GatewayLogger;
  /** Where each call's socket directory is made; default: the process's private runtime directory. */
  runtimeDir?: RuntimeDir;
}

/** Starts one egress gateway per call and hands the pipeline its mount, env and relay wrapper. */
export function createGatewayProvisioner(options: GatewayProvisionerOptions): EgressProvisioner {
  return {
    async attach(network, call) {
      const api = network.api ? { upstream: defaultApiUpstream(options.env ?? process.env), apiKey: options.secrets.require(API_SECRETS[network.api]) } : undefined;
      const gateway = await startEgressGateway({
        allow: network.allow,
        deny: network.deny,
        ...(network.rateLimits ? { rateLimits: network.rateLimits } : {}),
        ...(network.robots ? { robots: network.robots } : {}),
        ...(api ? { api } : {}),
        onViolation: (v) => call.onViolation({ kind: v.kind, host: v.host, reason: v.reason }),
        onUpstreamRateLimited: ({ retryAfterMs }) => call.onRateLimited(retryAfterMs),
        onUpstreamUnreachable: ({ code }) => call.onUnreachable(code),
        ...(options.logger ? { logger: options.logger } : {}),
        ...(options.runtimeDir ? { runtimeDir: options.runtimeDir } : {}),
      });
      return {
        mounts: [{ hostPath: gateway.hostSocketDir, containerPath: SANDBOX_GATEWAY.mountDir, readOnly: true }],
        env: gatewayEnv(),
        wrapCommand: wrapCommandWithRelay,
        close: () => gateway.close(),
      };
    },
  };
}
