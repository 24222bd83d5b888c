import { ERROR_CODES } from '@bastion/core';

/** The value a label gets when what was passed is not in its known set. */
export const OTHER = 'other';

const OUTCOMES = new Set(['succeeded', 'failed', 'denied']);
const BACKENDS = new Set(['docker', 'bwrap', 'memory']);
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
const SKIP_REASONS = [
  'unknown_provider',
  'not_allowed',
  'not_capable',
  'disabled',
  'cooling_down',
  'breaker_open',
  'bulkhead_full',
  'deadline',
];
const REASONS = new Set([...SKIP_REASONS, ...Object.keys(ERROR_CODES), 'unknown']);
const CODES = new Set([...Object.keys(ERROR_CODES), 'none']);
/** Rule ids are the sanitizer's catalogue, the operator's custom rules and the policy's rules: ids, never free text. */
const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,95}$/;
const ROUTE = /^\/[A-Za-z0-9/:._-]{0,127}$/;

export interface LabelSets {
  provider(id: string): string;
  addProvider(id: string): void;
  outcome(status: string): string;
  code(code: string | undefined): string;
  reason(reason: string): string;
  backend(backend: string): string;
  method(method: string): string;
  status(status: number): string;
  /** A route pattern as the HTTP server registered it (`/v1/tasks/:id`), or `unmatched`. */
  route(pattern: string): string;
  rule(id: string): string;
}

/**
 * Maps every label value onto a known set, so the number of time series is bounded by Bastion's
 * code and configuration, never by what a caller sends. Sets that configuration decides (rule ids,
 * route patterns) are also capped in size as a backstop.
 */
export function createLabelSets(providers: readonly string[], caps = { rules: 256, routes: 64 }): LabelSets {
  const known = new Set(providers);
  const rules = new Set<string>();
  const routes = new Set<string>();
  const capped = (seen: Set<string>, cap: number, value: string) => {
    if (seen.has(value)) return value;
    if (seen.size >= cap) return OTHER;
    seen.add(value);
    return value;
  };
  return {
    provider: (id) => (known.has(id) ? id : OTHER),
    addProvider: (id) => void known.add(id),
    outcome: (status) => (OUTCOMES.has(status) ? status : OTHER),
    code: (code) => (code === undefined ? 'none' : CODES.has(code) ? code : OTHER),
    reason: (reason) => (REASONS.has(reason) ? reason : OTHER),
    backend: (backend) => (BACKENDS.has(backend) ? backend : OTHER),
    method: (method) => (METHODS.has(method) ? method : OTHER),
    status: (status) => (Number.isInteger(status) && status >= 100 && status <= 599 ? String(status) : OTHER),
    route: (pattern) =>
      pattern === 'unmatched' ? pattern : ROUTE.test(pattern) ? capped(routes, caps.routes, pattern) : OTHER,
    rule: (id) => (RULE_ID.test(id) ? capped(rules, caps.rules, id) : OTHER),
  };
}
