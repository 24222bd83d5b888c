/** The error types Anthropic's Messages API puts in `{"type":"error","error":{"type",…}}`, by HTTP status. */
export const ANTHROPIC_ERROR_TYPES = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
} as const;
export type AnthropicErrorStatus = keyof typeof ANTHROPIC_ERROR_TYPES;

/** An Anthropic error body, as the real API sends it (plus the request id it carries). */
export function anthropicErrorBody(status: AnthropicErrorStatus, message: string, requestId: string): string {
  return JSON.stringify({
    type: 'error',
    error: { type: ANTHROPIC_ERROR_TYPES[status], message },
    request_id: requestId,
  });
}
