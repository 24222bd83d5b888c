import type { ChildProcess } from 'node:child_process';

/** Resolves with the daemon's stderr once it says "listening on", rejects if it exits or stays silent for `timeoutMs`. */
export function waitForDaemonListening(child: ChildProcess, timeoutMs = 30_000): Promise<string> {
  return new Promise<string>((resolveLine, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`daemon did not start: ${seen}`)), timeoutMs);
    child.stderr!.on('data', (d: Buffer) => {
      seen += d.toString();
      if (seen.includes('listening on')) {
        clearTimeout(timer);
        resolveLine(seen);
      }
    });
    child.on('exit', (code) => reject(new Error(`daemon exited ${code}: ${seen}`)));
  });
}

/** SIGTERMs the daemon and waits for it to exit; a no-op once it has exited. */
export async function stopDaemonChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}
