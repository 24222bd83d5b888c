import { z } from 'zod';

/**
 * zod's object schemas compile a fast path with `new Function` on their first parse. A one-shot
 * `bastion` call parses each schema about once, so that compile (~20-35 ms of a `bastion exec`
 * in a CPU profile: generateFastpass and its Function compiles) never pays back; the plain
 * parser gives the same results. The CLI sets this before any of its modules builds a schema:
 * zod reads the setting when a schema is made. As a bonus no code is evaluated from strings.
 */
export function useInterpretedZod(): void {
  z.config({ jitless: true });
}
