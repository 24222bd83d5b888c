import { mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { scanTree, scanWithNode, secondsToNs } from './tree-scan';

describe('tree scan', () => {
  it.each([
    ['1700000000.1234567890', 1_700_000_000_123_456_789n],
    ['1700000000.5', 1_700_000_000_500_000_000n],
    ['1700000000', 1_700_000_000_000_000_000n],
    ['-1.5', -1_500_000_000n],
  ])("reads find's %s as %s ns", (text, ns) => {
    expect(secondsToNs(text)).toBe(ns);
  });

  it('sees the same entries, times and links with find as with the Node walk', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bastion-scan-'));
    try {
      writeFileSync(join(dir, 'a.txt'), 'a');
      symlinkSync('a.txt', join(dir, 'link'));
      const viaFind = await scanTree(dir);
      const viaNode = await scanWithNode(dir);
      expect([...viaFind.keys()].sort()).toEqual(['a.txt', 'link']);
      for (const [path, e] of viaFind) expect(e).toEqual(viaNode.get(path));
      expect(viaFind.get('a.txt')!.mtimeNs).toBe(statSync(join(dir, 'a.txt'), { bigint: true }).mtimeNs);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
