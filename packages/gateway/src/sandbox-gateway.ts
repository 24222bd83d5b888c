import type { UpstreamApi } from '@bastion/providers';

import { SANDBOX_GATEWAY } from '@bastion/sandbox';

export { SANDBOX_GATEWAY };

/** What the sandbox holds instead of the API key; the gateway replaces it on the way out. */
export const API_KEY_PLACEHOLDER = 'bastion-placeholder-key';

const LOCAL = `http://127.0.0.1:${SANDBOX_GATEWAY.port}`;

/** Runs `command` under the relay, which listens on 127.0.0.1:8080 inside the sandbox first. */
export function wrapCommandWithRelay(command: readonly string[]): string[] {
  if (command.length === 0) throw new TypeError('wrapCommandWithRelay needs a command');
  return [
    SANDBOX_GATEWAY.relay,
    '--listen',
    `127.0.0.1:${SANDBOX_GATEWAY.port}`,
    '--socket',
    `${SANDBOX_GATEWAY.mountDir}/${SANDBOX_GATEWAY.socketName}`,
    '--',
    ...command,
  ];
}

/**
 * Environment for a sandboxed process that goes out through the gateway: the proxy variables, and
 * for each upstream API the call reaches, its base URL pointing at the relay and a placeholder key.
 * Holds no secret.
 */
export function gatewayEnv(
  upstreams: readonly UpstreamApi[] = [],
  placeholder: string = API_KEY_PLACEHOLDER,
): Record<string, string> {
  const apis: Record<string, string> = {};
  for (const api of upstreams) {
    apis[api.baseUrlEnv] = LOCAL;
    apis[api.apiKeyEnv] = placeholder;
  }
  return {
    HTTP_PROXY: LOCAL,
    HTTPS_PROXY: LOCAL,
    http_proxy: LOCAL,
    https_proxy: LOCAL,
    // The relay on loopback IS the gateway: API calls go to it directly. Clients such as undici's
    // ProxyAgent tunnel every request with CONNECT, which the proxy would judge as egress.
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    ...apis,
  };
}

/** Where an upstream API really is: its base URL variable on the host when set (a fake, a regional endpoint), else its declared default. */
export function upstreamBaseUrl(api: UpstreamApi, env: Readonly<Record<string, string | undefined>>): string {
  const configured = env[api.baseUrlEnv]?.trim();
  return configured ? configured : api.defaultBaseUrl;
}
