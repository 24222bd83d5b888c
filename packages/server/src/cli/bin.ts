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

runCli(process.argv.slice(2)).then(
  ({ exitCode }) => exitWhenFlushed(exitCode),
  (err: unknown) => {
    process.stderr.write(`bastion: INTERNAL: ${err instanceof Error ? err.message : String(err)}\n`);
    exitWhenFlushed(125);
  },
);
