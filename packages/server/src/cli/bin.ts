import { enableCompileCache } from './compile-cache';
import { runCli } from './main';

// Before anything else is required: the runner and its packages then load from the cache.
enableCompileCache(process.env);

runCli(process.argv.slice(2)).then(
  ({ exitCode }) => {
    process.exitCode = exitCode;
  },
  (err: unknown) => {
    process.stderr.write(`bastion: INTERNAL: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 125;
  },
);
