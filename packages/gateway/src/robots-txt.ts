import http from 'node:http';
import https from 'node:https';
import robotsParser from 'robots-parser';
import type { Clock } from '@bastion/core';

/**
 * robots.txt for the gateway's plain-HTTP fetches. Matching is robots-parser's (RFC 9309: the
 * group whose user-agent token equals ours, else `*`; longest match wins, allow on a tie;
 * percent-encoding normalised); this file only fetches, caches and spaces requests.
 */
export interface RobotsRules {
  isAllowed(pathAndQuery: string): boolean;
  /** Crawl-delay of the group that applies, in ms, if the file gives one. */
  crawlDelayMs?: number;
  /** Why everything is disallowed without a file (so a refusal does not read as the site's own rule). */
  unavailable?: string;
}

// robots-parser only answers for URLs of the origin it was built for; the rules of one file do
// not depend on the origin, so one fixed base serves every site.
const BASE = 'http://robots.invalid';

export function parseRobotsTxt(text: string, userAgent: string): RobotsRules {
  const robots = robotsParser(`${BASE}/robots.txt`, text);
  const rules: RobotsRules = {
    // `undefined` means the URL is not of this origin, which cannot happen with BASE; refuse then.
    isAllowed: (pathAndQuery) =>
      robots.isAllowed(BASE + (pathAndQuery.startsWith('/') ? pathAndQuery : `/${pathAndQuery}`), userAgent) === true,
  };
  const delay = robots.getCrawlDelay(userAgent);
  if (delay !== undefined && Number.isFinite(delay) && delay >= 0) rules.crawlDelayMs = Math.round(delay * 1000);
  return rules;
}

const ALLOW_ALL: RobotsRules = { isAllowed: () => true };
/** RFC 9309 2.3.1.4: a file that cannot be fetched means complete disallow, for a while. */
const disallowAll = (why: string): RobotsRules => ({ isAllowed: () => false, unavailable: why });

export interface RobotsGateOptions {
  userAgent: string;
  crawlDelay: boolean;
  /** A wait longer than this is refused instead of served late. Default 30 s. */
  maxCrawlWaitMs?: number;
  fetchTimeoutMs?: number;
  now?: Clock;
}

export type RobotsVerdict = { allow: true; waitMs: number } | { allow: false; reason: string; status: 403 | 429 };

/** RFC 9309 2.2.2: parse at least the first 500 KiB. */
const MAX_ROBOTS_BYTES = 512 * 1024;
/** RFC 9309 2.3.1.2: follow at least five consecutive redirects. */
export const MAX_ROBOTS_REDIRECTS = 5;
const CACHE_MS = 10 * 60_000;
/** An unreachable or failing site is asked again soon: its outage disallows everything meanwhile. */
const FAILURE_CACHE_MS = 30_000;
const MAX_CACHED_SITES = 1000;

type Fetched = { rules: RobotsRules; ttlMs: number };

/** Fetches, caches and applies robots.txt per site, and spaces requests by Crawl-delay. */
export class RobotsGate {
  private readonly cache = new Map<string, { until: number; rules: Promise<RobotsRules> }>();
  private readonly nextAt = new Map<string, number>();
  private readonly now: Clock;

  constructor(private readonly options: RobotsGateOptions) {
    this.now = options.now ?? Date.now;
  }

  /** `mayFetch` is the call's egress policy: a redirect to a host it refuses is not followed. */
  async check(url: URL, mayFetch: (host: string) => boolean = () => true): Promise<RobotsVerdict> {
    const site = `${url.protocol}//${url.host}`;
    const rules = await this.rulesFor(url, site, mayFetch);
    const path = url.pathname + url.search;
    if (!rules.isAllowed(path)) {
      const reason = rules.unavailable
        ? `${url.hostname}'s robots.txt ${rules.unavailable}, which RFC 9309 treats as disallowing everything; retried in ${FAILURE_CACHE_MS / 1000}s`
        : `${url.hostname}'s robots.txt disallows ${url.pathname}`;
      return { allow: false, status: 403, reason };
    }
    if (!this.options.crawlDelay || rules.crawlDelayMs === undefined || rules.crawlDelayMs === 0)
      return { allow: true, waitMs: 0 };
    const now = this.now();
    const next = this.nextAt.get(site) ?? now;
    const waitMs = Math.max(0, next - now);
    if (waitMs > (this.options.maxCrawlWaitMs ?? 30_000)) {
      return {
        allow: false,
        status: 429,
        reason: `${url.hostname}'s robots.txt asks for ${rules.crawlDelayMs / 1000}s between requests; too many are queued`,
      };
    }
    this.nextAt.set(site, Math.max(now, next) + rules.crawlDelayMs);
    return { allow: true, waitMs };
  }

  private rulesFor(url: URL, site: string, mayFetch: (host: string) => boolean): Promise<RobotsRules> {
    const cached = this.cache.get(site);
    if (cached && this.now() < cached.until) return cached.rules;
    if (this.cache.size >= MAX_CACHED_SITES) this.cache.delete(this.cache.keys().next().value as string);
    const entry = { until: Number.POSITIVE_INFINITY, rules: Promise.resolve(ALLOW_ALL) };
    entry.rules = this.fetchFollowing(new URL('/robots.txt', url), mayFetch, 0).then(({ rules, ttlMs }) => {
      entry.until = this.now() + ttlMs;
      return rules;
    });
    this.cache.set(site, entry);
    return entry.rules;
  }

  private async fetchFollowing(target: URL, mayFetch: (host: string) => boolean, hops: number): Promise<Fetched> {
    const answer = await this.fetchOnce(target);
    if (answer.kind === 'rules') return answer.fetched;
    if (hops >= MAX_ROBOTS_REDIRECTS) return { rules: ALLOW_ALL, ttlMs: CACHE_MS }; // RFC: MAY treat as unavailable (4xx)
    let next: URL;
    try {
      next = new URL(answer.location, target);
    } catch {
      // An unusable Location is a redirect to nowhere: the file is unavailable, as for a 4xx.
      return { rules: ALLOW_ALL, ttlMs: CACHE_MS };
    }
    // The gateway does not become a way to reach hosts the call's policy refuses.
    if ((next.protocol !== 'http:' && next.protocol !== 'https:') || !mayFetch(next.hostname))
      return {
        rules: disallowAll(`redirects to ${next.hostname}, which the policy does not allow`),
        ttlMs: FAILURE_CACHE_MS,
      };
    return this.fetchFollowing(next, mayFetch, hops + 1);
  }

  private fetchOnce(
    target: URL,
  ): Promise<{ kind: 'rules'; fetched: Fetched } | { kind: 'redirect'; location: string }> {
    const get = target.protocol === 'https:' ? https.get : http.get;
    return new Promise((resolve) => {
      const req = get(target, { headers: { 'user-agent': this.options.userAgent }, agent: false }, (res) => {
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if (status >= 300 && status < 400 && location !== undefined) {
          res.resume();
          resolve({ kind: 'redirect', location });
          return;
        }
        // RFC 9309 2.3.1: 4xx "unavailable" means no rules; 5xx "unreachable" means disallow all.
        if (status < 200 || status >= 300) {
          res.resume();
          resolve({
            kind: 'rules',
            fetched:
              status >= 500 || status < 200
                ? { rules: disallowAll(`answered ${status}`), ttlMs: FAILURE_CACHE_MS }
                : { rules: ALLOW_ALL, ttlMs: CACHE_MS },
          });
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          if (size < MAX_ROBOTS_BYTES) chunks.push(c);
          size += c.length;
        });
        res.on('end', () => {
          const text = Buffer.concat(chunks).subarray(0, MAX_ROBOTS_BYTES).toString('utf8');
          resolve({ kind: 'rules', fetched: { rules: parseRobotsTxt(text, this.options.userAgent), ttlMs: CACHE_MS } });
        });
        res.on('error', (err: NodeJS.ErrnoException) =>
          resolve({
            kind: 'rules',
            fetched: { rules: disallowAll(`was cut off (${err.code ?? 'error'})`), ttlMs: FAILURE_CACHE_MS },
          }),
        );
      });
      req.setTimeout(this.options.fetchTimeoutMs ?? 3000, () => req.destroy(new Error('robots.txt timed out')));
      // Unreachable (refused, DNS, timeout): RFC 9309 says assume complete disallow.
      req.on('error', (err: NodeJS.ErrnoException) =>
        resolve({
          kind: 'rules',
          fetched: { rules: disallowAll(`could not be fetched (${err.code ?? err.message})`), ttlMs: FAILURE_CACHE_MS },
        }),
      );
    });
  }
}
