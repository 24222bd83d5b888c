import fc from 'fast-check';
import { createAttachDemux } from './attach-demux';

const frame = (type: number, payload: Buffer) => {
  const head = Buffer.alloc(8);
  head[0] = type;
  head.writeUInt32BE(payload.length, 4);
  return Buffer.concat([head, payload]);
};

function demuxAll(chunks: Buffer[]): { stdout: string; stderr: string } {
  const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  const push = createAttachDemux((s, c) => out[s].push(Buffer.from(c)));
  for (const c of chunks) push(c);
  return { stdout: Buffer.concat(out.stdout).toString(), stderr: Buffer.concat(out.stderr).toString() };
}

describe("Docker's attach stream demultiplexer", () => {
  it('splits stdout and stderr frames however the chunks fall (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(1, 2), fc.string({ maxLength: 40 })), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 50 }),
        (frames, cuts) => {
          const whole = Buffer.concat(frames.map(([t, s]) => frame(t, Buffer.from(s))));
          const chunks: Buffer[] = [];
          for (let off = 0, i = 0; off < whole.length; i++) {
            const n = cuts[i % cuts.length];
            chunks.push(whole.subarray(off, off + n));
            off += n;
          }
          expect(demuxAll(chunks)).toEqual({
            stdout: frames
              .filter(([t]) => t === 1)
              .map(([, s]) => s)
              .join(''),
            stderr: frames
              .filter(([t]) => t === 2)
              .map(([, s]) => s)
              .join(''),
          });
        },
      ),
    );
  });

  it('forwards payloads without copying them', () => {
    const chunk = frame(1, Buffer.from('hello'));
    let got: Buffer | undefined;
    createAttachDemux((_s, c) => (got = c))(chunk);
    expect(got!.buffer).toBe(chunk.buffer);
  });

  it('drops stdin echo frames and passes a stream that is not multiplexed through as stdout', () => {
    expect(demuxAll([frame(0, Buffer.from('echo')), frame(1, Buffer.from('out'))])).toEqual({
      stdout: 'out',
      stderr: '',
    });
    expect(demuxAll([Buffer.from('plain tty output, not framed'), Buffer.from(' and more')])).toEqual({
      stdout: 'plain tty output, not framed and more',
      stderr: '',
    });
  });
});
