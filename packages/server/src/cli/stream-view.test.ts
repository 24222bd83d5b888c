import { providerRegistry, type StreamPiece } from '@bastion/providers';
import { createStreamView } from './stream-view';

/** A renderer like a provider's: `w:` lines are words, `n:` lines notes, anything else hidden. */
const render = (line: string): StreamPiece[] =>
  line.startsWith('w:')
    ? [{ kind: 'words', text: line.slice(2) }]
    : line.startsWith('n:')
      ? [{ kind: 'note', text: `[${line.slice(2)}]` }]
      : [];

function view(format: 'text' | 'raw', withRender = true) {
  let out = '';
  const v = createStreamView((t) => void (out += t), format, withRender ? render : undefined);
  return { v, out: () => out };
}

describe('bastion run --stream', () => {
  it('joins lines split across chunks, shows words as they come and notes on lines of their own', () => {
    const { v, out } = view('text');
    v.output('stdout', 'w:Hel');
    expect(out()).toBe('');
    v.output('stdout', 'lo\nw: world\nn:tool Read\nhidden bookkeeping\nw:Done');
    v.end();
    expect(out()).toBe('Hello world\n[tool Read]\nDone\n');
  });

  it('puts a long line sent in many chunks back together once, when it ends', () => {
    const { v, out } = view('text');
    const long = 'x'.repeat(64 * 1024);
    for (let i = 0; i < 64; i++) v.output('stdout', i === 0 ? `w:${long}` : long);
    expect(out()).toBe('');
    v.output('stdout', '\n');
    expect(out()).toBe(`${long.repeat(64)}`);
    v.end();
    expect(out().length).toBe(64 * 64 * 1024 + 1);
  });

  it("keeps Bastion's own lines and the agent's stderr whole, never inside the answer's words", () => {
    const { v, out } = view('text');
    v.output('stdout', 'w:The answer is\n');
    v.line('bastion: agent running, 5 s elapsed\n');
    v.output('stderr', 'Attempt 1 failed: 429. Retry');
    v.output('stderr', 'ing after 2000ms\n');
    v.output('stdout', 'w: 42.\n');
    v.end();
    expect(out()).toBe(
      'The answer is\nbastion: agent running, 5 s elapsed\nAttempt 1 failed: 429. Retrying after 2000ms\n 42.\n',
    );
  });

  it('shows stdout lines as printed when the provider has no streamText, and an unfinished last line at the end', () => {
    const { v, out } = view('text', false);
    v.output('stdout', 'plain line\n\nlast without newline');
    v.end();
    expect(out()).toBe('plain line\nlast without newline\n');
  });

  it('raw: the sanitized output byte for byte, as before', () => {
    const { v, out } = view('raw');
    v.output('stdout', '{"type":"init"}\n{"type":"mess');
    v.output('stderr', 'noise');
    v.line('bastion: progress\n');
    v.output('stdout', 'age"}\n');
    v.end();
    expect(out()).toBe('{"type":"init"}\n{"type":"messnoisebastion: progress\nage"}\n');
  });

  it('never lets a control sequence the agent hid in a JSON escape reach the terminal', () => {
    let out = '';
    const gemini = providerRegistry.create('gemini-cli').streamText;
    const v = createStreamView((t) => void (out += t), 'text', gemini);
    // Sanitized output holds only the escaped form; JSON.parse turns it into real ESC/BEL bytes.
    const osc52 = '\\u001b]52;c;Y3VybCBldmlsLnNoIHwgc2g=\\u0007';
    v.output('stdout', `{"type":"message","role":"assistant","content":"ok ${osc52}\\u001b[2Kdone","delta":true}\n`);
    v.output('stdout', `{"type":"tool_use","tool_name":"x\\u001b[8m","parameters":{"p":"a\\rb"}}\n`);
    v.end();
    expect(out).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f\u009b]/);
    expect(out).toContain('ok ');
    expect(out).toContain('done');
    expect(out).toContain('[tool x]');
  });
});
