import { isIP } from 'node:net';
import { parse as parseDomain } from 'tldts';
import { z } from 'zod';

/**
 * Domain patterns of the egress lists. Two forms only, so nobody has to guess what a pattern means:
 *   - `example.com`   the host itself and nothing else (also an IPv4/IPv6 literal such as 127.0.0.1);
 *   - `*.example.com` any subdomain at any depth (`a.example.com`, `a.b.example.com`), never
 *                     `example.com` itself; list both when both are meant.
 * Rejected as over-broad or ambiguous: `*`, `**`, a wildcard over a public suffix (`*.com`, `*.co.uk`,
 * `*.github.io`, `*.s3.amazonaws.com`: any name the Public Suffix List, private section included,
 * lists as a suffix under which unrelated parties register), a `*` anywhere but a leading `*.`,
 * ports, schemes and paths.
 */
const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[') && h.endsWith(']')) h = h.slice(1, -1);
  if (h.endsWith('.')) h = h.slice(0, -1);
  return h;
}

function isHostname(h: string): boolean {
  if (h.length === 0 || h.length > 253) return false;
  if (isIP(h) !== 0) return true;
  return h.split('.').every((label) => LABEL.test(label));
}

/**
 * The public suffix `host` is, or undefined when `host` is (or lies under) a registrable domain.
 * Private PSL entries count: `github.io` and `s3.amazonaws.com` hand out names to strangers just as
 * `co.uk` does, and a wildcard over them allows all of those strangers. A name the list does not
 * know falls under the list's default rule (its last label is the suffix), so `corp.internal`
 * stays registrable.
 */
function publicSuffixOf(host: string): string | undefined {
  const parsed = parseDomain(host, { allowPrivateDomains: true, validateHostname: false });
  return parsed.domain === null ? (parsed.publicSuffix ?? host) : undefined;
}

/** Why `pattern` is not an acceptable domain pattern, or undefined when it is. */
export function domainPatternProblem(pattern: string): string | undefined {
  const p = normalizeHost(pattern);
  if (p === '*' || p === '**' || p === '*.*' || p.startsWith('**')) {
    return `"${pattern}" matches every domain; list the domains (or "*.example.com" for the subdomains of one)`;
  }
  if (/[/:@?#\s]/.test(p) && isIP(p) !== 6)
    return `"${pattern}" is not a domain: give a host name only, without scheme, port or path`;
  if (p.startsWith('*.')) {
    const base = p.slice(2);
    if (base.includes('*')) return `"${pattern}" has more than one wildcard; only a single leading "*." is supported`;
    if (isIP(base) !== 0 || /^\d+$/.test(base.slice(base.lastIndexOf('.') + 1)))
      return `"${pattern}" puts a wildcard on an IP address`;
    if (!isHostname(base)) return `"${pattern}" is not a valid domain pattern`;
    if (base.split('.').length < 2)
      return `"${pattern}" is over-broad: a wildcard must sit under a registrable domain such as "*.example.com"`;
    const suffix = publicSuffixOf(base);
    if (suffix !== undefined) {
      return `"${pattern}" is over-broad: "${suffix}" is a public suffix (Public Suffix List), so the wildcard covers every domain registered under it; a wildcard must sit under a registrable domain such as "*.example.${suffix}"`;
    }
    return undefined;
  }
  if (p.includes('*'))
    return `"${pattern}" uses "*" inside a name; only a leading "*." (subdomains of a domain) is supported`;
  if (!isHostname(p)) return `"${pattern}" is not a valid host name`;
  return undefined;
}

export const DomainPattern = z
  .string()
  .min(1)
  .superRefine((value, ctx) => {
    const problem = domainPatternProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  })
  .describe(
    'A host ("api.example.com", "127.0.0.1") or "*.example.com" for its subdomains only (not example.com itself); "*" and "**" are rejected',
  );

export interface DomainVerdict {
  allow: boolean;
  /** The pattern that decided, when one did. */
  pattern?: string;
  /** One line, fit for a 403 body and an audit event. */
  reason: string;
}

function patternMatches(pattern: string, host: string): boolean {
  const p = normalizeHost(pattern);
  if (p.startsWith('*.')) {
    // `*.example.com` is "a dot and at least one more label before example.com".
    return host.length > p.length - 1 && host.endsWith(p.slice(1));
  }
  return host === p;
}

/**
 * Pure egress decision for one host. Deny-by-default: a host is reachable only when an allow pattern
 * matches and no deny pattern does (deny wins). An invalid allow pattern never matches; an invalid
 * deny pattern still denies what it looks like it covers (the schema rejects both before they get
 * here). An invalid host is refused.
 */
export function matchDomain(host: string, allow: readonly string[], deny: readonly string[]): DomainVerdict {
  const h = normalizeHost(host);
  if (!isHostname(h) || h.includes('*')) return { allow: false, reason: `"${host}" is not a valid host name` };
  for (const pattern of deny) {
    // Deny patterns are never skipped for being malformed: an over-broad one denies more, not less.
    if (denyMatches(pattern, h)) {
      return { allow: false, pattern, reason: `${h} is denied by the policy (deny: ${pattern})` };
    }
  }
  for (const pattern of allow) {
    if (domainPatternProblem(pattern) === undefined && patternMatches(pattern, h)) {
      return { allow: true, pattern, reason: `${h} is allowed by the policy (allow: ${pattern})` };
    }
  }
  return { allow: false, reason: `${h} is not in the policy's allow list` };
}

function denyMatches(pattern: string, host: string): boolean {
  const p = normalizeHost(pattern);
  if (p === '*' || p.startsWith('**') || p === '*.*') return true;
  return patternMatches(p, host);
}

/** Whether `pattern` (a valid domain pattern) covers `host`; shared with the rate limiter. */
export function domainPatternMatches(pattern: string, host: string): boolean {
  return patternMatches(pattern, normalizeHost(host));
}
