import { createOutputSanitizer } from '@bastion/security';
import { createExitGate } from './exit-gate';
import { createOutputCollector } from './output-collector';

const KEY = 'AIzaSyD-known-secret-value-0123456789ab';
const sanitizer = createOutputSanitizer({ knownSecrets: [KEY] });

/** What the pipeline does: each chunk through the call's stream, the released text to the collector. */
function collect(chunks: readonly string[]) {
  const stream = sanitizer.createStream();
  const collector = createOutputCollector(sanitizer);
  for (const c of chunks) collector.push(stream.write(Buffer.from(c)));
  collector.push(stream.end());
  return collector.finish();
}

describe("collecting a stream's sanitized output for the result", () => {
  it('keeps every byte the sanitizer released, in order, and marks clean text clean', () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'x'.repeat(i % 300)}\n`);
    const whole = lines.join('');
    // Cut at odd places, mid-line, as the attach stream does.
    const chunks: string[] = [];
    for (let p = 0; p < whole.length; p += 7919) chunks.push(whole.slice(p, p + 7919));
    const out = collect(chunks);
    expect(out.text).toBe(whole);
    expect(out.clean).toBe(true);
  });

  it('keeps the redacted text and stays clean once the key is replaced (sanitizing again changes nothing)', () => {
    const out = collect([`token=${KEY.slice(0, 10)}`, `${KEY.slice(10)}\nbye\n`]);
    expect(out.text).not.toContain(KEY);
    expect(out.text).toContain('bye\n');
    expect(out.clean).toBe(true);
  });

  it('marks text that sanitizing again would change as not clean, so the exit gate still sanitizes it', () => {
    const collector = createOutputCollector(sanitizer);
    collector.push('before\n');
    collector.push(`${KEY}\nafter\n`);
    const out = collector.finish();
    expect(out.text).toBe(`before\n${KEY}\nafter\n`);
    expect(out.clean).toBe(false);
    const gate = createExitGate(sanitizer, {});
    expect(gate.clean(out.text).value).not.toContain(KEY);
  });
});

describe('the exit gate and output already checked clean', () => {
  it('passes the very same stdout string on, and still sanitizes every other field', () => {
    const stdout = 'ok\n'.repeat(1000);
    const gate = createExitGate(sanitizer, { stdout });
    const result = gate.execResult({
      correlationId: 'c',
      redactions: [],
      stdout,
      stderr: `leak ${KEY}\n`,
    } as never) as unknown as { stdout: string; stderr: string };
    expect(result.stdout).toBe(stdout);
    expect(result.stderr).not.toContain(KEY);
  });

  it('sanitizes a stdout that is not the string it was told about', () => {
    const gate = createExitGate(sanitizer, { stdout: 'ok\n' });
    const result = gate.execResult({
      correlationId: 'c',
      redactions: [],
      stdout: `${KEY}\n`,
      stderr: '',
    } as never) as unknown as { stdout: string };
    expect(result.stdout).not.toContain(KEY);
  });
});
