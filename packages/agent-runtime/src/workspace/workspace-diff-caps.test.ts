import { chmodSync, closeSync, ftruncateSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { BastionError } from '@bastion/core';
import { DEFAULT_DIFF_CAPS, diffWorkspace, type DiffCaps } from './workspace-diff';
import { makeScratch, type Scratch } from '../test-support/workspace-scratch';

const caps = (over: Partial<DiffCaps>): DiffCaps => ({ ...DEFAULT_DIFF_CAPS, ...over });

async function rejection(p: Promise<unknown>): Promise<BastionError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (!BastionError.isInstance(err)) throw new Error(`expected a BastionError, got ${String(err)}`);
  return err;
}

describe('diff caps and streaming', () => {
  let s: Scratch;
  beforeEach(() => {
    s = makeScratch({ 'README.md': 'hello\n' });
  });
  afterEach(() => s.remove());

  it('ends RESOURCE_EXHAUSTED naming filesystem.maxFileBytes for one oversized file, without reading it', async () => {
    const info = await s.copy();
    // A sparse 2 GiB file: reading it would take seconds and gigabytes; the cap is checked on its size.
    const fd = openSync(join(info.copyDir, 'huge.bin'), 'w');
    ftruncateSync(fd, 2 * 1024 ** 3);
    closeSync(fd);
    const rssBefore = process.memoryUsage().rss;
    const err = await rejection(diffWorkspace(info));
    expect(err.code).toBe('RESOURCE_EXHAUSTED');
    expect(err.message).toContain('filesystem.maxFileBytes');
    expect(err.details).toMatchObject({ cap: 'filesystem.maxFileBytes' });
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(64 * 1024 * 1024);
  });

  it('ends RESOURCE_EXHAUSTED naming filesystem.maxTotalBytes when the files add up past it', async () => {
    const info = await s.copy();
    for (let i = 0; i < 4; i++) writeFileSync(join(info.copyDir, `part-${i}.txt`), Buffer.alloc(300, 'a'));
    const err = await rejection(diffWorkspace(info, caps({ maxTotalBytes: 1000 })));
    expect([err.code, (err.details as { cap: string }).cap]).toEqual([
      'RESOURCE_EXHAUSTED',
      'filesystem.maxTotalBytes',
    ]);
  });

  it('ends RESOURCE_EXHAUSTED naming filesystem.maxFiles when too many paths changed', async () => {
    const info = await s.copy();
    for (let i = 0; i < 30; i++) writeFileSync(join(info.copyDir, `f-${i}.txt`), `${i}\n`);
    const err = await rejection(diffWorkspace(info, caps({ maxFiles: 20 })));
    expect([err.code, (err.details as { cap: string }).cap]).toEqual(['RESOURCE_EXHAUSTED', 'filesystem.maxFiles']);
    expect((await diffWorkspace(info, caps({ maxFiles: 30 }))).proposedChanges).toHaveLength(30);
  });

  it('ends RESOURCE_EXHAUSTED naming filesystem.maxResultBytes when the diffs would make the result too big', async () => {
    const info = await s.copy();
    for (let i = 0; i < 10; i++) writeFileSync(join(info.copyDir, `doc-${i}.md`), 'line of text\n'.repeat(500));
    const err = await rejection(diffWorkspace(info, caps({ maxResultBytes: 20_000 })));
    expect([err.code, (err.details as { cap: string }).cap]).toEqual([
      'RESOURCE_EXHAUSTED',
      'filesystem.maxResultBytes',
    ]);
  });

  it('hashes large files as streams: a 6 MiB text file is proposed with its git blob id, not diffed line by line', async () => {
    const info = await s.copy();
    const fd = openSync(join(info.copyDir, 'big.txt'), 'w');
    for (let i = 0; i < 6; i++) writeSync(fd, Buffer.alloc(1024 * 1024, 'x'));
    closeSync(fd);
    const [change] = (await diffWorkspace(info)).proposedChanges;
    expect(change.kind).toBe('add');
    expect(change.diff).toMatch(/Text too large to diff \(0 → 6291456 bytes\)/);
  });

  it('tells text from binary across read boundaries (UTF-8 cut between reads, invalid bytes late in the file)', async () => {
    const info = await s.copy();
    // 256 KiB - 1 ASCII bytes, then a 3-byte character straddling the first read's end.
    writeFileSync(
      join(info.copyDir, 'text.md'),
      Buffer.concat([Buffer.alloc(256 * 1024 - 1, 'a'), Buffer.from('€\n')]),
    );
    writeFileSync(
      join(info.copyDir, 'late.bin'),
      Buffer.concat([Buffer.alloc(100_000, 'a'), Buffer.from([0xff, 0xfe])]),
    );
    const kinds = Object.fromEntries((await diffWorkspace(info)).proposedChanges.map((c) => [c.path, c.kind]));
    expect(kinds).toEqual({ 'text.md': 'add', 'late.bin': 'binary' });
  });

  it('never reads or shows a file other users may not read, even when the agent writes at its path', async () => {
    s.write('secret.txt', 'TOP SECRET\n', 0o600);
    chmodSync(join(s.ws, 'secret.txt'), 0o600);
    const info = await s.copy();
    expect(info.hidden.has('secret.txt')).toBe(true);
    writeFileSync(join(info.copyDir, 'secret.txt'), 'agent guess\n');
    const { changes, proposedChanges } = await diffWorkspace(info);
    expect(changes).toMatchObject([{ path: 'secret.txt', hidden: true }]);
    expect(JSON.stringify(proposedChanges)).not.toContain('TOP SECRET');
  });
});
