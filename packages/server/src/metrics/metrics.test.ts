import { spawnSync } from 'node:child_process';
import { notRunResult, type AgentResult } from '@bastion/providers';
import { describeWhenAvailable } from '@bastion/sandbox/test-support';
import { createMetrics, type Metrics } from './metrics';

function failed(provider: string, code: 'INVALID_INPUT' | 'RATE_LIMITED'): AgentResult {
  return notRunResult({
    provider,
    correlationId: 'c',
    status: 'failed',
    error: { code, message: 'x', retryable: false },
  });
}

/** A registry with one of everything, as a busy service would render it. */
function busyMetrics(): Metrics {
  const metrics = createMetrics({ processMetrics: true });
  metrics.setBreakerState('gemini-cli', 'open');
  metrics.setBreakerState('cursor', 'closed');
  metrics.recordResult(
    { ...failed('cursor', 'RATE_LIMITED'), redactions: [{ ruleId: 'aws-access-key', count: 2 }] },
    1200,
  );
  metrics.recordRouterEvent('fallback', 'gemini-cli', 'RATE_LIMITED');
  metrics.setPoolSize('docker', 2);
  metrics.addReapedContainers(1);
  metrics.recordHttp('/v1/tasks/:id', 'GET', 200, 3);
  metrics.setInFlight(1);
  return metrics;
}

describe('metrics labels', () => {
  it('never turns a caller-supplied provider name, method or reason into a label value', async () => {
    const metrics = createMetrics({ providers: ['gemini-cli'] });
    metrics.recordResult(failed('gemini-cli', 'INVALID_INPUT'), 1);
    for (let i = 0; i < 20; i++) {
      metrics.recordResult(failed(`made-up-${i}"}\n`, 'INVALID_INPUT'), 1);
      metrics.recordRouterEvent('skipped', `made-up-${i}`, `reason-${i}`);
      metrics.recordHttp(`/v1/tasks/${'x'.repeat(200)}${i}`, `BREW${i}`, 999, 1);
    }
    const text = await metrics.render();
    expect(text).toMatch(/bastion_agent_calls_total\{provider="gemini-cli",outcome="failed",code="INVALID_INPUT"\} 1/);
    expect(text).toMatch(/bastion_agent_calls_total\{provider="other",outcome="failed",code="INVALID_INPUT"\} 20/);
    expect(text).toMatch(/bastion_router_events_total\{event="skipped",provider="other",reason="other"\} 20/);
    expect(text).toMatch(
      /bastion_http_request_duration_seconds_count\{route="other",method="other",status="other"\} 20/,
    );
    expect(text).not.toContain('made-up');
    expect(text).not.toContain('BREW');
  });

  it('learns the providers a router registers (their breaker gauges start at closed)', async () => {
    const metrics = createMetrics();
    metrics.setBreakerState('cursor', 'closed');
    metrics.recordResult(failed('cursor', 'RATE_LIMITED'), 1);
    metrics.recordResult(failed('claude', 'RATE_LIMITED'), 1);
    const text = await metrics.render();
    expect(text).toMatch(/bastion_agent_calls_total\{provider="cursor",outcome="failed",code="RATE_LIMITED"\} 1/);
    expect(text).toMatch(/bastion_agent_calls_total\{provider="other",outcome="failed",code="RATE_LIMITED"\} 1/);
  });

  it("exports prom-client's process metrics under their stock names", async () => {
    const text = await busyMetrics().render();
    expect(text).toMatch(/^process_cpu_user_seconds_total \d/m);
    expect(text).toMatch(/^nodejs_heap_size_used_bytes \d/m);
    expect(text).not.toMatch(/^bastion_process_/m);
  });
});

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
describeWhenAvailable(
  'promtool check metrics',
  promtool.status === 0 ? null : "promtool is not installed (scripts/test-all.sh installs Debian's prometheus package)",
  () => {
    it('accepts /metrics as a busy service renders it', async () => {
      const check = spawnSync('promtool', ['check', 'metrics'], {
        input: await busyMetrics().render(),
        encoding: 'utf8',
      });
      expect({ status: check.status, problems: `${check.stdout}${check.stderr}`.trim() }).toEqual({
        status: 0,
        problems: '',
      });
    });
  },
);
