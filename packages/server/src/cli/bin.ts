import { runCli } from './main';

runCli(process.argv.slice(2)).then(
  ({ exitCode }) => {
    process.exitCode = exitCode;
  },
  (err: unknown) => {
    process.stderr.write(`bastion: INTERNAL: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 125;
  },
);
