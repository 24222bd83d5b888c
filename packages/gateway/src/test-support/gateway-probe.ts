import { GATEWAY_PROBE_SCRIPT } from './gateway-probe-script.generated';

/**
 * A node script (gateway-probe-script.ts, bundled for `node -e`) run inside the sandbox (uid 1001,
 * no network but the relay on 127.0.0.1:8080) that plays the agent against the egress gateway. `PROBE_PLAN` (JSON) says what to try:
 *   api:    [{ model }]                 POST generateContent for each model, in order
 *   tunnel: { port, paths }             CONNECT 127.0.0.1:port, then plain GETs inside the tunnel
 *   raw:    [string]                    raw request heads, one connection each
 *   fuzz:   path of a JSON array of base64 requests, sent 64 at a time (250 ms each at most)
 *   sleepMs: wait afterwards (a call the gateway ends must not run out this clock)
 * It prints one JSON line. Response headers are printed reversed and hex-encoded, so the output
 * sanitizer cannot hide a leaked key from the test (the agent printed it reversed).
 */
export const GATEWAY_PROBE: string = GATEWAY_PROBE_SCRIPT;

/** What the probe prints: one field per step of its plan. */
export interface ProbeResult {
  uid: number;
  raw?: string[];
  fuzz?: { sent: number; answered: number };
  api?: { model: string; status: number; headers: string; body: string; error?: string }[];
  tunnel?: { statuses: number[]; error?: string };
  after?: { model: string; status: number };
}

/** Undoes the probe's header/body hiding. */
export function unhide(hex: string): string {
  return [...Buffer.from(hex, 'hex').toString('utf8')].reverse().join('');
}
