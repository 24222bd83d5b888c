import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  keyedCacheFile,
  nameHash,
  pruneKeyedCacheDir,
  readKeyedCacheFile,
  writeKeyedCacheFile,
} from './private-cache-file';

describe('keyed private cache files', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'bastion-keyed-cache-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('names an entry by a 64-bit hash of its whole key: stable, and different for keys that differ anywhere', () => {
    expect(basename(keyedCacheFile(dir, 'a', 'bpf'))).toMatch(/^[0-9a-f]{16}\.bpf$/);
    expect(keyedCacheFile(dir, 'a', 'bpf')).toBe(keyedCacheFile(dir, 'a', 'bpf'));
    const base = 'x'.repeat(12_000);
    const names = new Set<string>([nameHash(''), nameHash('\0'), nameHash('\0\0'), nameHash(base)]);
    // One character changed at each position of a long key (the seccomp key is ~11 KB), and
    // trailing bytes that share a padded word: every name differs.
    for (let at = 0; at < base.length; at += 97) names.add(nameHash(base.slice(0, at) + 'y' + base.slice(at + 1)));
    for (const tail of ['', 'a', 'ab', 'abc', 'é', '😀']) names.add(nameHash(`key${tail}`));
    expect(names.size).toBe(4 + Math.ceil(base.length / 97) + 6);
  });

  it('serves the data stored for a key, and an empty entry as a hit', () => {
    const cache = join(dir, 'cache');
    writeKeyedCacheFile(cache, 'key one', 'bpf', Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
    writeKeyedCacheFile(cache, 'key two', 'ok');
    expect(readKeyedCacheFile(cache, 'key one', 'bpf')).toEqual(Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
    expect(readKeyedCacheFile(cache, 'key two', 'ok')).toEqual(Buffer.alloc(0));
    expect(readKeyedCacheFile(cache, 'key three', 'ok')).toBeUndefined();
    expect(readdirSync(cache).sort()).toEqual(
      [basename(keyedCacheFile(cache, 'key one', 'bpf')), basename(keyedCacheFile(cache, 'key two', 'ok'))].sort(),
    );
  });

  it('is a miss when the file under a key’s name holds another key (a name collision), even one that extends it', () => {
    const cache = join(dir, 'cache');
    writeKeyedCacheFile(cache, 'seed', 'bpf', Buffer.from('x'));
    const file = keyedCacheFile(cache, 'profile-a', 'bpf');
    // Another key's entry under this name, as a collision would leave it.
    writeFileSync(file, Buffer.from('9\nprofile-b' + 'DATA'), { mode: 0o600 });
    expect(readKeyedCacheFile(cache, 'profile-a', 'bpf')).toBeUndefined();
    // A key that starts with ours: the length in the header tells them apart.
    writeFileSync(file, Buffer.from('10\nprofile-aX' + 'DATA'), { mode: 0o600 });
    expect(readKeyedCacheFile(cache, 'profile-a', 'bpf')).toBeUndefined();
    // A truncated entry (shorter than its header) is a miss too.
    writeFileSync(file, Buffer.from('9\nprofi'), { mode: 0o600 });
    expect(readKeyedCacheFile(cache, 'profile-a', 'bpf')).toBeUndefined();
    writeFileSync(file, Buffer.from('9\nprofile-aDATA'), { mode: 0o600 });
    expect(readKeyedCacheFile(cache, 'profile-a', 'bpf')).toEqual(Buffer.from('DATA'));
  });

  it('a write prunes its kind of entry no read can use: sha256-named, unwritten for 30 days, a dead writer’s temp file', () => {
    const cache = join(dir, 'cache');
    mkdirSync(cache, { mode: 0o700 });
    const day = 24 * 3600_000;
    const put = (name: string, ageMs: number) => {
      writeFileSync(join(cache, name), 'x', { mode: 0o600 });
      const t = (Date.now() - ageMs) / 1000;
      utimesSync(join(cache, name), t, t);
    };
    const sha = 'ab'.repeat(32);
    put(`${sha}.bpf`, 0); // the old naming, however fresh
    put(`${'cd'.repeat(16)}.ok`, 0); // another kind's old name: not this write's to prune
    put(`${'0'.repeat(16)}.bpf`, 31 * day);
    put(`${'1'.repeat(16)}.bpf`, 29 * day);
    put(`${'2'.repeat(16)}.bpf.4242.tmp`, 2 * 3600_000);
    put(`${'3'.repeat(16)}.bpf.4243.tmp`, 60_000); // a writer that may still be running
    put('README', 365 * day); // not an entry
    writeKeyedCacheFile(cache, 'k', 'bpf', Buffer.from('data'));
    expect(readdirSync(cache).sort()).toEqual(
      [
        `${'1'.repeat(16)}.bpf`,
        `${'3'.repeat(16)}.bpf.4243.tmp`,
        basename(keyedCacheFile(cache, 'k', 'bpf')),
        `${'cd'.repeat(16)}.ok`,
        'README',
      ].sort(),
    );
    expect(readKeyedCacheFile(cache, 'k', 'bpf')).toEqual(Buffer.from('data'));
  });

  it('prunes nothing in a directory another user could write', () => {
    const cache = join(dir, 'cache');
    mkdirSync(cache, { mode: 0o700 });
    writeFileSync(join(cache, `${'ab'.repeat(32)}.bpf`), 'x', { mode: 0o600 });
    chmodSync(cache, 0o777);
    pruneKeyedCacheDir(cache, 'bpf', join(cache, 'none'));
    expect(readdirSync(cache)).toEqual([`${'ab'.repeat(32)}.bpf`]);
  });

  it('does not trust an entry another user could have written', () => {
    const cache = join(dir, 'cache');
    writeKeyedCacheFile(cache, 'k', 'ok', Buffer.from('data'));
    chmodSync(keyedCacheFile(cache, 'k', 'ok'), 0o666);
    expect(readKeyedCacheFile(cache, 'k', 'ok')).toBeUndefined();
    chmodSync(keyedCacheFile(cache, 'k', 'ok'), 0o600);
    chmodSync(cache, 0o777);
    expect(readKeyedCacheFile(cache, 'k', 'ok')).toBeUndefined();
    chmodSync(cache, 0o700);
    expect(readKeyedCacheFile(cache, 'k', 'ok')).toEqual(Buffer.from('data'));
  });
});
