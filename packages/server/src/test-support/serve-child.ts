import type { ChildProcess } from 'node:child_process';

/** Resolves with the base URL `bastion serve` prints on stderr once it listens; rejects with its stderr if it exits first. */
export function waitForServeUrl(child: ChildProcess): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let text = '';
    child.stderr!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const m = /listening on (http:\/\/\S+) /.exec(text);
      if (m) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${text}`)));
  });
}
