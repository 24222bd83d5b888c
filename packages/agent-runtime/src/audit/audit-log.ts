import pino, { type DestinationStream, type Logger, type LoggerOptions } from 'pino';
import { createLogRedaction } from '@bastion/security';
import { createLiveSanitizer, type KnownSecretSource } from './live-sanitizer';
import { cleanDeep } from './clean-deep';

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
  /**
   * From now on every line is also cleaned of the values `source` reports (the secret store's
   * handed-out keys), in the encodings the sanitizer decodes. The pipeline registers its store.
   */
  redactKnownSecrets?(source: KnownSecretSource): void;
}

export interface AuditLogOptions {
  /** Where JSON lines go: a pino destination, a file path, or 'stderr'. Default: stderr. */
  destination?: DestinationStream | string;
  /** Redaction and serializers; default: @bastion/security's createLogRedaction over the rule catalogue. */
  redaction?: Pick<LoggerOptions, 'redact' | 'serializers' | 'hooks'>;
  level?: string;
  /** Secret values to redact from the start (more can be added with redactKnownSecrets). */
  knownSecrets?: KnownSecretSource;
}

export function createAuditLog(options: AuditLogOptions = {}): AuditLog {
  const dest = options.destination ?? 'stderr';
  const stream: DestinationStream =
    typeof dest === 'string'
      ? pino.destination(dest === 'stderr' ? { fd: 2, sync: true } : { dest, mkdir: true, sync: true })
      : dest;
  const sanitizer = createLiveSanitizer();
  if (options.knownSecrets) sanitizer.addSource(options.knownSecrets);
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { service: 'bastion' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // No secret reaches a log line: redact paths, sanitized messages, errors and outputs.
      ...(options.redaction ?? createLogRedaction(sanitizer)),
    },
    stream,
  );
  return {
    logger,
    record(event) {
      // A final pass at any depth (pino's serializers stop at a fixed depth and only see the
      // fields they are named for), so an event built from parsed output cannot carry a secret.
      logger.info(cleanDeep(event, sanitizer.current()), event.event);
    },
    redactKnownSecrets: (source) => sanitizer.addSource(source),
    flush: () =>
      new Promise<void>((resolve) => {
        logger.flush(() => resolve());
      }),
  };
}

/** Collects events in memory (and still runs them through pino's redaction), for tests and embedding. */
export function createMemoryAuditLog(
  options: Omit<AuditLogOptions, 'destination'> = {},
): AuditLog & { readonly events: Record<string, unknown>[]; readonly lines: string[] } {
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
