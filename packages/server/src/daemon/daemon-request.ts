import { z } from 'zod';
import { DAEMON_COMMANDS, DAEMON_PROTOCOL, IN_PROCESS_ONLY_OPTIONS, inProcessOnlyOption } from './daemon-protocol';

/**
 * A client's first line (see daemon-protocol.ts). Its values are the client's keys among others:
 * the daemon compares them and drops them, and no message here quotes one.
 */
export const DaemonClientHello = z
  .object({
    version: z.literal(DAEMON_PROTOCOL).describe('Protocol version; a daemon refuses one it does not speak'),
    settings: z
      .array(z.tuple([z.string().min(1).max(256), z.string().max(64 * 1024)]))
      .max(1024)
      .describe("The client's settings variables with a value, sorted by name (settingsOf)"),
  })
  .strict();
export type DaemonClientHello = z.infer<typeof DaemonClientHello>;

/** One request from a `bastion exec|run` client, as the daemon accepts it (see daemon-protocol.ts). */
export const DaemonRequest = z
  .object({
    argv: z
      .array(z.string().max(128 * 1024))
      .min(1)
      .max(4096)
      .describe('The command line after `bastion`, starting with the command')
      .refine((argv) => (DAEMON_COMMANDS as readonly string[]).includes(argv[0]!), {
        message: `the daemon runs only ${DAEMON_COMMANDS.join(' and ')}`,
      })
      .refine((argv) => inProcessOnlyOption(argv) === undefined, {
        message: `${IN_PROCESS_ONLY_OPTIONS.join(', ')} run in the client's process, not in the daemon`,
      }),
    cwd: z
      .string()
      .startsWith('/')
      .max(4096)
      .describe("The client's working directory: relative --workspace paths are resolved against it"),
    stdin: z.string().base64().optional().describe('The standard input --stdin feeds the command, base64'),
  })
  .strict();
export type DaemonRequest = z.infer<typeof DaemonRequest>;
