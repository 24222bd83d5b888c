import { regexRule, type Rule } from './rule';

function github(id: string, prefix: string, what: string): Rule {
  return regexRule({
    sticky: true,
    id,
    severity: 'critical',
    description: `GitHub ${what} (${prefix}…).`,
    anchors: [prefix],
    before: 1,
    after: 48,
    pattern: new RegExp(`(?<![A-Za-z0-9_])${prefix}[A-Za-z0-9]{36,40}(?![A-Za-z0-9_])`),
  });
}

export const vcsRules: Rule[] = [
  github('github-pat', 'ghp_', 'personal access token'),
  github('github-oauth-token', 'gho_', 'OAuth access token'),
  github('github-user-to-server-token', 'ghu_', 'user-to-server token'),
  github('github-server-to-server-token', 'ghs_', 'server-to-server (app installation) token'),
  github('github-refresh-token', 'ghr_', 'refresh token'),
  regexRule({
    sticky: true,
    id: 'github-fine-grained-pat',
    severity: 'critical',
    description: 'GitHub fine-grained personal access token (github_pat_…).',
    anchors: ['github_pat_'],
    before: 1,
    after: 100,
    pattern: /(?<![A-Za-z0-9_])github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}(?![A-Za-z0-9_])/,
  }),
  regexRule({
    sticky: true,
    id: 'gitlab-pat',
    severity: 'critical',
    description: 'GitLab personal access token (glpat-…).',
    anchors: ['glpat-'],
    before: 1,
    after: 80,
    pattern: /(?<![A-Za-z0-9_])glpat-[A-Za-z0-9_-]{20,64}(?![A-Za-z0-9_-])/,
  }),
  regexRule({
    sticky: true,
    id: 'gitlab-token',
    severity: 'high',
    description: 'Other GitLab tokens: deploy, runner, pipeline trigger, CI job, OAuth, feed, incoming mail, agent.',
    anchors: ['gldt-', 'glrt-', 'glptt-', 'glcbt-', 'gloas-', 'glsoat-', 'glffct-', 'glimt-', 'glagent-', 'GR1348941'],
    before: 1,
    after: 100,
    pattern:
      /(?<![A-Za-z0-9_])(?:(?:gldt|glrt|glptt|glcbt|gloas|glsoat|glffct|glimt|glagent)-[A-Za-z0-9_-]{20,64}|GR1348941[A-Za-z0-9_-]{20})(?![A-Za-z0-9_-])/,
  }),
];
