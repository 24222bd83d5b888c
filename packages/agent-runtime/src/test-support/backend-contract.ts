import type { execCommand } from '../pipeline/exec-call';

/** A GitHub-token-shaped value the sanitizer knows by pattern: it must never leave a sandbox call. */
export const CONTRACT_SECRET = 'ghp_' + 'Z8x1Yq2Wv3Ut4Sr5Qp6On7Ml8Kj9Ih0GfEdCb';

/** One sandbox backend behind the pipeline, as a backend's integration suite set it up for the current test. */
export interface BackendUnderTest {
  exec(command: string[], resources?: object, extra?: object): ReturnType<typeof execCommand>;
  auditEvents(): readonly Record<string, unknown>[];
}

/**
 * What every backend (Docker, bwrap) gives a call through the pipeline, whatever its isolation
 * mechanism: redaction, stdin beyond argv's size, the output cap, one audit event per stage.
 * Registered inside each backend's own describe, with its own setup and leftover checks.
 */
export function itBehavesLikeEveryBackend(backend: () => BackendUnderTest): void {
  it('redacts a secret printed inside the sandbox, in stdout and stderr', async () => {
    const r = await backend().exec(['sh', '-c', `echo token=${CONTRACT_SECRET}; echo ${CONTRACT_SECRET} >&2`]);
    expect(r.stdout).not.toContain(CONTRACT_SECRET);
    expect(r.stderr).not.toContain(CONTRACT_SECRET);
    expect(r.stdout).toMatch(/\[REDACTED:[a-z0-9-]+\]/);
    expect(r.redactions.length).toBeGreaterThan(0);
    expect(JSON.stringify(backend().auditEvents())).not.toContain(CONTRACT_SECRET);
  });

  it('feeds stdin longer than argv allows', async () => {
    const big = 'x'.repeat(3 * 1024 * 1024) + '\n';
    const r = await backend().exec(['wc', '-c'], {}, { stdin: big });
    expect(r.stdout.trim()).toBe(String(big.length));
  });

  it('kills the command and reports OUTPUT_LIMIT with what came before the cap', async () => {
    const r = await backend().exec(['sh', '-c', 'yes bastion'], { outputBytes: 64 * 1024 });
    expect(r.error?.code).toBe('OUTPUT_LIMIT');
    expect(r.stdout.length).toBeLessThanOrEqual(64 * 1024);
    expect(r.stdout.startsWith('bastion\nbastion\n')).toBe(true);
  });

  it("emits one audit event per stage with the call's correlation id", async () => {
    const r = await backend().exec(['true']);
    const stages = backend()
      .auditEvents()
      .filter((e) => e.correlationId === r.correlationId)
      .map((e) => e.event);
    expect(stages).toEqual(['policy.decision', 'executor.started', 'executor.finished', 'sanitizer.finished']);
  });
}
