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

/** Environment for a sandboxed process that goes out through the gateway. Holds no secret. */
export function gatewayEnv(placeholder: string = API_KEY_PLACEHOLDER): Record<string, string> {
  return {
    HTTP_PROXY: LOCAL,
    HTTPS_PROXY: LOCAL,
    http_proxy: LOCAL,
    https_proxy: LOCAL,
    // The relay on loopback IS the gateway: API calls go to it directly. Clients such as undici's
    // ProxyAgent tunnel every request with CONNECT, which the proxy would judge as egress.
    NO_PROXY: '127.0.0.1,localhost',
    no_proxy: '127.0.0.1,localhost',
    GOOGLE_GEMINI_BASE_URL: LOCAL,
    GEMINI_API_KEY: placeholder,
  };
}

/** The provider API upstream: GOOGLE_GEMINI_BASE_URL on the host when set, else Google's. */
export function defaultApiUpstream(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const configured = env.GOOGLE_GEMINI_BASE_URL?.trim();
  return configured ? configured : 'https://generativelanguage.googleapis.com';
}
