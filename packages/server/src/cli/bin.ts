import { enableCompileCache } from './compile-cache';
import { runCli } from './main';

// Before anything else is required: the runner and its packages then load from the cache.
enableCompileCache(process.env);

/**
 * Ends the process once stdout and stderr are written, instead of letting the event loop drain:
 * a drained exit tears down the whole heap and isolate (~20-50 ms of every call, most of what a
 * call through the daemon costs after its reply), process.exit() does not. runCli resolves only
 * after the command closed what it started (runtimes, containers, sockets); the audit log writes
 * synchronously. A write's callback runs once everything written before it is flushed.
 */
function exitWhenFlushed(code: number): void {
  process.exitCode = code;
  process.stdout.write('', () => process.stderr.write('', () => process.exit()));
}

// A reader that stops early (`bastion exec -- seq 1 1000000 | head`) closes the pipe: the rest of
// the output has nowhere to go, which is no failure of the command. Without a listener node throws
// EPIPE as an uncaught error mid-call; instead the call finishes and cleans up as usual, and
// later writes go nowhere (the stream is destroyed). Any other stream error is still reported.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

runCli(process.argv.slice(2)).then(
  ({ exitCode }) => exitWhenFlushed(exitCode),
  (err: unknown) => {
    process.stderr.write(`bastion: INTERNAL: ${err instanceof Error ? err.message : String(err)}\n`);
    exitWhenFlushed(125);
  },
);
