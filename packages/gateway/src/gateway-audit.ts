import http from 'node:http';
import net from 'node:net';
import type { GatewayFailureSite, GatewayHealth } from './gateway-health';
import { oneLine, type GatewayLogger, type Violation } from './violation';

export interface GatewayStats {
  /** Requests refused before any socket call because they were malformed (bad port, host, method, head). */
  malformed: number;
  /** Unexpected exceptions caught inside a handler: each was audited and answered 502. */
  internalErrors: number;
}

export interface GatewayAuditOptions {
  onViolation?(violation: Violation): void;
  logger?: GatewayLogger;
  /** Runtime-wide totals of `stats` (for /metrics), which outlive this per-call gateway. */
  health?: GatewayHealth;
}

/**
 * What one gateway has refused and how often it failed: the violations list and the counters the
 * caller reads after the call, plus the one-line answers the sandbox sees. Every refusal and every
 * caught handler failure goes through here, so the counts and the answers cannot drift apart.
 */
export class GatewayAudit {
  readonly violations: Violation[] = [];
  readonly stats: GatewayStats = { malformed: 0, internalErrors: 0 };

  constructor(private readonly options: GatewayAuditOptions = {}) {}

  get log(): GatewayLogger | undefined {
    return this.options.logger;
  }

  countMalformed(): void {
    this.stats.malformed++;
    this.options.health?.malformed();
  }

  countInternalError(site: GatewayFailureSite): void {
    this.stats.internalErrors++;
    this.options.health?.internalError(site);
  }

  record(v: Violation): void {
    this.violations.push(v);
    if (v.kind === 'protocol') this.countMalformed();
    this.log?.warn({ event: 'egress.violation', kind: v.kind, host: v.host, reason: v.reason }, 'egress refused');
    this.notify('onViolation', () => this.options.onViolation?.(v));
  }

  /** Runs a caller's callback: a callback that throws is logged by name, never raised into a handler. */
  notify(name: string, callback: () => void): void {
    try {
      callback();
    } catch (err) {
      this.log?.warn({ event: `egress.${name}-failed`, error: (err as Error).name }, `${name} threw`);
    }
  }

  /** Records the violation and answers it as a one-line plain-text refusal. */
  refuse(res: http.ServerResponse, status: number, v: Violation, retryAfterMs?: number): void {
    this.record(v);
    if (res.headersSent) return void res.destroy();
    const body = `bastion egress gateway: ${oneLine(v.reason)}\n`;
    // An explicit length: simple clients (and the sandbox's own tools) need not parse chunking.
    const headers: http.OutgoingHttpHeaders = {
      'content-type': 'text/plain; charset=utf-8',
      'content-length': Buffer.byteLength(body),
      'x-bastion-violation': v.kind,
    };
    if (retryAfterMs !== undefined) headers['retry-after'] = String(Math.max(1, Math.ceil(retryAfterMs / 1000)));
    res.writeHead(status, headers);
    res.end(body);
  }

  /** The last line of defence: a bug in a handler costs one request, never the process. */
  internalError(res: http.ServerResponse | net.Socket, err: unknown): void {
    this.countInternalError(res instanceof net.Socket ? 'tunnel' : 'request');
    const e = err as NodeJS.ErrnoException;
    // Name, code and the failing frame only: a message could quote request bytes.
    const at = /\(([^()]*\/gateway\/[^()]*)\)/.exec(String(e?.stack ?? ''))?.[1]?.replace(/^.*\/gateway\//, 'gateway/');
    this.log?.warn(
      { event: 'egress.internal-error', error: e?.name ?? 'unknown', code: e?.code, at },
      'gateway handler failed; answered 502',
    );
    const body = 'bastion egress gateway: internal error\n';
    if (res instanceof net.Socket) {
      if (res.writable)
        res.end(
          `HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`,
        );
      else res.destroy();
    } else if (!res.headersSent) {
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8', connection: 'close' });
      res.end(body);
    } else {
      res.destroy();
    }
  }
}
