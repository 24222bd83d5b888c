import { z } from 'zod';

/** `gemini -o json` success document (PROVIDERS.md; OBSERVED.md in packages/testing). */
export const GeminiResultDocument = z.object({
  session_id: z.string().optional(),
  response: z.string(),
  stats: z
    .object({
      models: z
        .record(
          z.string(),
          z
            .object({
              api: z
                .object({ totalRequests: z.number(), totalErrors: z.number(), totalLatencyMs: z.number() })
                .partial()
                .passthrough()
                .optional(),
              tokens: z.record(z.string(), z.number()).optional(),
            })
            .passthrough(),
        )
        .optional(),
    })
    .passthrough()
    .optional(),
});
export type GeminiResultDocument = z.infer<typeof GeminiResultDocument>;

/** Failure document; the CLI prints it as the last block of stderr. */
export const GeminiErrorDocument = z.object({
  session_id: z.string().optional(),
  error: z.object({ type: z.string().optional(), message: z.string(), code: z.number().optional() }).passthrough(),
});
export type GeminiErrorDocument = z.infer<typeof GeminiErrorDocument>;

/** The last JSON object in `text` that satisfies `schema`, trying each line that starts with '{'. */
export function lastJsonDocument<T>(text: string, schema: z.ZodType<T>): T | undefined {
  const starts: number[] = [];
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) {
    if (i === 0 || text[i - 1] === '\n') starts.push(i);
  }
  for (let k = starts.length - 1; k >= 0; k--) {
    const candidate = text.slice(starts[k]).trim();
    const end = candidate.lastIndexOf('}');
    if (end < 0) continue;
    try {
      const parsed = schema.safeParse(JSON.parse(candidate.slice(0, end + 1)));
      if (parsed.success) return parsed.data;
    } catch {
      continue;
    }
  }
  return undefined;
}

/** "2s", "1.5s", "Suggested retry after 2s." → milliseconds. */
export function retryDelayMs(message: string): number | undefined {
  const info = /"retryDelay"\s*:\s*"(\d+(?:\.\d+)?)s"/.exec(message) ?? /retry after (\d+(?:\.\d+)?)s/i.exec(message);
  return info ? Math.round(Number(info[1]) * 1000) : undefined;
}

/** Token and request counts summed over the models the CLI used. */
export function usageStats(doc: GeminiResultDocument): Record<string, unknown> {
  const models = doc.stats?.models ?? {};
  let requests = 0;
  let errors = 0;
  const tokens: Record<string, number> = {};
  for (const m of Object.values(models)) {
    requests += m.api?.totalRequests ?? 0;
    errors += m.api?.totalErrors ?? 0;
    for (const [k, v] of Object.entries(m.tokens ?? {})) tokens[k] = (tokens[k] ?? 0) + v;
  }
  return {
    models: Object.keys(models),
    requests,
    apiErrors: errors,
    tokens,
    ...(doc.session_id ? { sessionId: doc.session_id } : {}),
  };
}
