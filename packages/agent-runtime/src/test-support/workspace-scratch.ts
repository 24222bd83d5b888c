import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { copyWorkspace, type WorkspaceCopyInfo } from '../workspace/workspace-copy';

/** Test support: a scratch root holding `ws/` (the caller's workspace) and room for its copy. */
export interface Scratch {
  readonly root: string;
  readonly ws: string;
  write(path: string, content: string | Buffer, mode?: number): void;
  link(path: string, target: string): void;
  copy(): Promise<WorkspaceCopyInfo>;
  remove(): void;
}

export function makeScratch(files: Record<string, string | Buffer> = {}): Scratch {
  const root = mkdtempSync(join(tmpdir(), 'bastion-wstest-'));
  const ws = join(root, 'ws');
  mkdirSync(ws);
  let copies = 0;
  const scratch: Scratch = {
    root,
    ws,
    write(path, content, mode) {
      mkdirSync(dirname(join(ws, path)), { recursive: true });
      writeFileSync(join(ws, path), content, mode === undefined ? {} : { mode });
    },
    link(path, target) {
      mkdirSync(dirname(join(ws, path)), { recursive: true });
      symlinkSync(target, join(ws, path));
    },
    copy: () => {
      const dir = join(root, `copy-${copies++}`);
      mkdirSync(dir);
      return copyWorkspace(ws, join(dir, 'workspace'));
    },
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
  for (const [path, content] of Object.entries(files)) scratch.write(path, content);
  return scratch;
}
