import http from 'node:http';

interface Rule {
  allow: boolean;
  pattern: string;
  re: RegExp;
}

export interface RobotsRules {
  isAllowed(pathAndQuery: string): boolean;
  /** Crawl-delay of the group that applies, in ms, if the file gives one. */
  crawlDelayMs?: number;
}

function compile(pattern: string): RegExp {
  const anchored = pattern.endsWith('$');
  const body = (anchored ? pattern.slice(0, -1) : pattern)
    .split('*')
    .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*');
  return new RegExp('^' + body + (anchored ? '$' : ''));
}

/**
 * robots.txt per RFC 9309: the group whose user-agent token is the longest match of ours, else `*`;
 * the longest matching rule wins and a tie goes to allow. Crawl-delay (non-standard, common) is read
 * from the same group.
 */
export function parseRobotsTxt(text: string, userAgent: string): RobotsRules {
  const ua = userAgent.toLowerCase();
  type Group = { agents: string[]; rules: Rule[]; delay?: number };
  const groups: Group[] = [];
  let current: Group | undefined;
  let lastWasAgent = false;
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.replace(/#.*/, '').trim();
    const m = /^([A-Za-z-]+)\s*:\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1].toLowerCase();
    const value = m[2].trim();
    if (key === 'user-agent') {
      if (!lastWasAgent || current === undefined) {
        current = { agents: [], rules: [] };
        groups.push(current);
      }
      current.agents.push(value.toLowerCase());
      lastWasAgent = true;
      continue;
    }
    lastWasAgent = false;
    if (current === undefined) continue;
    if ((key === 'allow' || key === 'disallow') && value !== '') {
      current.rules.push({ allow: key === 'allow', pattern: value, re: compile(value) });
    } else if (key === 'crawl-delay') {
      const seconds = Number(value);
      if (Number.isFinite(seconds) && seconds >= 0) current.delay = Math.round(seconds * 1000);
    }
  }

  let chosen: Group | undefined;
  let best = -1;
  for (const g of groups) {
    for (const agent of g.agents) {
      const score = agent === '*' ? 0 : ua.includes(agent) ? agent.length : -1;
      if (score > best) {
        best = score;
        chosen = g;
      }
    }
  }
  const rules = chosen?.rules ?? [];
  const result: RobotsRules = {
    isAllowed(path) {
      let winner: Rule | undefined;
      for (const r of rules) {
        if (!r.re.test(path)) continue;
        if (winner === undefined || r.pattern.length > winner.pattern.length || (r.pattern.length === winner.pattern.length && r.allow)) winner = r;
      }
      return winner === undefined || winner.allow;
    },
  };
  if (chosen?.delay !== undefined) result.crawlDelayMs = chosen.delay;
  return result;
}

const ALLOW_ALL: RobotsRules = { isAllowed: () => true };
const DISALLOW_ALL: RobotsRules = { isAllowed: () => false };

export interface RobotsGateOptions {
  userAgent: string;
  crawlDelay: boolean;
  /** A wait longer than this is refused instead of served late. Default 30 s. */
  maxCrawlWaitMs?: number;
  fetchTimeoutMs?: number;
  now?: () => number;
}

export type RobotsVerdict = { allow: true; waitMs: number } | { allow: false; reason: string; status: 403 | 429 };

const MAX_ROBOTS_BYTES = 512 * 1024;
const CACHE_MS = 10 * 60_000;

/** Fetches, caches and applies robots.txt per origin, and spaces requests by Crawl-delay. */
export class RobotsGate {
  private readonly cache = new Map<string, { at: number; rules: Promise<RobotsRules> }>();
  private readonly nextAt = new Map<string, number>();
  private readonly now: () => number;

  constructor(private readonly options: RobotsGateOptions) {
    this.now = options.now ?? Date.now;
  }

  async check(url: URL): Promise<RobotsVerdict> {
    const origin = `${url.hostname}:${url.port || '80'}`;
    const rules = await this.rulesFor(url, origin);
    const path = url.pathname + url.search;
    if (!rules.isAllowed(path)) return { allow: false, status: 403, reason: `${url.hostname}'s robots.txt disallows ${url.pathname}` };
    if (!this.options.crawlDelay || rules.crawlDelayMs === undefined || rules.crawlDelayMs === 0) return { allow: true, waitMs: 0 };
    const now = this.now();
    const next = this.nextAt.get(origin) ?? now;
    const waitMs = Math.max(0, next - now);
    if (waitMs > (this.options.maxCrawlWaitMs ?? 30_000)) {
      return { allow: false, status: 429, reason: `${url.hostname}'s robots.txt asks for ${rules.crawlDelayMs / 1000}s between requests; too many are queued` };
    }
    this.nextAt.set(origin, Math.max(now, next) + rules.crawlDelayMs);
    return { allow: true, waitMs };
  }

  private rulesFor(url: URL, origin: string): Promise<RobotsRules> {
    const cached = this.cache.get(origin);
    if (cached && this.now() - cached.at < CACHE_MS) return cached.rules;
    const rules = this.fetch(url, origin);
    this.cache.set(origin, { at: this.now(), rules });
    return rules;
  }

  private fetch(url: URL, origin: string): Promise<RobotsRules> {
    return new Promise((resolve) => {
      const req = http.get(
        { host: url.hostname.replace(/^\[|\]$/g, ''), port: url.port || 80, path: '/robots.txt', headers: { 'user-agent': this.options.userAgent }, agent: false },
        (res) => {
          const status = res.statusCode ?? 0;
          // RFC 9309: 4xx means no rules; 5xx means assume everything is disallowed.
          if (status >= 400 && status < 500) {
            res.resume();
            resolve(ALLOW_ALL);
            return;
          }
          if (status < 200 || status >= 300) {
            res.resume();
            resolve(status >= 500 ? DISALLOW_ALL : ALLOW_ALL);
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size <= MAX_ROBOTS_BYTES) chunks.push(c);
          });
          res.on('end', () => resolve(parseRobotsTxt(Buffer.concat(chunks).toString('utf8'), this.options.userAgent)));
          res.on('error', () => resolve(DISALLOW_ALL));
        },
      );
      req.setTimeout(this.options.fetchTimeoutMs ?? 3000, () => req.destroy(new Error('robots.txt timed out')));
      // No answer at all: the request itself will fail with a clear 502; try robots.txt again next time.
      req.on('error', () => {
        this.cache.delete(origin);
        resolve(ALLOW_ALL);
      });
    });
  }
}
