import { PassThrough } from 'node:stream';
import { printJson, type Io } from './output';

const MiB = 1 << 20;

describe('printJson', () => {
  it('waits for a slow reader between pieces instead of queueing the whole document', async () => {
    // A pipe with a 64 KiB buffer that nobody reads until we say so.
    const pipe = new PassThrough({ highWaterMark: 64 * 1024 });
    const io: Io = {
      stdout: (t) => pipe.write(t),
      stderr: () => true,
      stdoutDrained: () => new Promise((resolve) => pipe.once('drain', () => resolve())),
    };
    const doc = { status: 'failed', stdout: 'a'.repeat(8 * MiB), stderr: 'b'.repeat(8 * MiB) };
    const printed = printJson(io, doc);
    await new Promise((r) => setImmediate(r));
    // Without a reader, at most one 1 MiB slice (escaped) sits past the buffer: not the 16 MiB document.
    expect(pipe.writableLength).toBeLessThan(2 * MiB + 64 * 1024);
    const chunks: Buffer[] = [];
    pipe.on('data', (c: Buffer) => chunks.push(c));
    await printed;
    pipe.end();
    await new Promise((r) => pipe.once('end', r));
    expect(Buffer.concat(chunks).toString()).toBe(JSON.stringify(doc, null, 2) + '\n');
  });

  it('writes a document the reader keeps up with before it returns, so an unawaited small print loses nothing', () => {
    const parts: string[] = [];
    void printJson({ stdout: (t) => void parts.push(t), stderr: () => true }, { ok: true, n: [1, 2] });
    expect(parts.join('')).toBe(JSON.stringify({ ok: true, n: [1, 2] }, null, 2) + '\n');
  });
});
