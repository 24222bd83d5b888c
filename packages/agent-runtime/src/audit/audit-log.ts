import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { createLogRedaction, createOutputSanitizer } from '@bastion/security';

/** One structured event per pipeline stage, all carrying the call's correlation id. */
export interface AuditEvent {
  readonly event: string;
  readonly correlationId: string;
  readonly [field: string]: unknown;
}

export interface AuditLog {
  record(event: AuditEvent): void;
  /** The underlying pino logger, for components that log outside a call. */
  readonly logger: Logger;
  flush(): Promise<void>;
}

export interface AuditLogOptions {
  /** Where JSON lines go: a pino destination, a file path, or 'stderr'. Default: stderr. */
  destination?: DestinationStream | string;
  /** Redaction and serializers; default: @bastion/security's createLogRedaction over the rule catalogue. */
  redaction?: Pick<LoggerOptions, 'redact' | 'serializers' | 'hooks'>;
  level?: string;
}

export function createAuditLog(options: AuditLogOptions = {}): AuditLog {
  const dest = options.destination ?? 'stderr';
  const stream: DestinationStream =
    typeof dest === 'string'
      ? pino.destination(dest === 'stderr' ? { fd: 2, sync: true } : { dest, mkdir: true, sync: true })
      : dest;
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { service: 'bastion' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // No secret reaches a log line: redact paths, sanitized messages, errors and outputs.
      ...(options.redaction ?? createLogRedaction(createOutputSanitizer())),
    },
    stream,
  );
  return {
    logger,
    record(event) {
      logger.info(event, event.event);
    },
    flush: () =>
      new Promise<void>((resolve) => {
        logger.flush(() => resolve());
      }),
  };
}

/** Collects events in memory (and still runs them through pino's redaction), for tests and embedding. */
export function createMemoryAuditLog(options: Omit<AuditLogOptions, 'destination'> = {}): AuditLog & { readonly events: Record<string, unknown>[]; readonly lines: string[] } {
  const events: Record<string, unknown>[] = [];
  const lines: string[] = [];
  const destination: DestinationStream = {
    write(line: string) {
      lines.push(line);
      events.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
  const log = createAuditLog({ ...options, destination });
  return Object.assign(log, { events, lines });
}
