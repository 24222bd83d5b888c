import { resolve } from 'node:path';
import type { Command } from 'commander';
import { BastionError } from '@bastion/core';
import { printJson } from '../output';
import type { CliContext } from '../cli-context';
import { EXIT_CODES, withHelp } from '../help-text';

export function registerKeys(program: Command, ctx: CliContext): void {
  const keys = program
    .command('keys')
    .description('the Ed25519 key that signs provenance records (--provenance on run and exec)');
  const keyPath = async (opt?: string) =>
    opt ? resolve(opt) : (await import('../lazy/provenance')).defaultKeyPath(ctx.env);
  const init = keys
    .command('init')
    .description("make a new signing key (0600, in the user's config directory) and print its public key")
    .option('--key <file>', 'where to write the key (default: $XDG_CONFIG_HOME/bastion/provenance-ed25519.pem)')
    .option('--force', 'replace an existing key (records it signed then verify only with its exported public key)')
    .option('--json', 'print {"keyFile","keyId","publicKey"}')
    .action(async (opts: { key?: string; force?: boolean; json?: boolean }) => {
      try {
        const { initSigningKey } = await import('../lazy/provenance');
        const key = await initSigningKey(await keyPath(opts.key), { force: opts.force === true });
        if (opts.json) await printJson(ctx.io, { keyFile: key.path, keyId: key.keyId, publicKey: key.publicKeyPem });
        else {
          ctx.io.stderr(`bastion: signing key written to ${key.path} (mode 600), key id ${key.keyId}\n`);
          ctx.io.stdout(key.publicKeyPem);
        }
      } catch (err) {
        ctx.fail(BastionError.from(err, 'INVALID_INPUT'), opts.json);
      }
    });
  const exportCmd = keys
    .command('export')
    .description("print the public key (PEM) that verifies this runtime's records")
    .option('--key <file>', 'the key file (default: $XDG_CONFIG_HOME/bastion/provenance-ed25519.pem)')
    .option('--json', 'print {"keyFile","keyId","publicKey"}')
    .action(async (opts: { key?: string; json?: boolean }) => {
      try {
        const { loadSigningKey } = await import('../lazy/provenance');
        const key = await loadSigningKey(await keyPath(opts.key));
        if (opts.json) await printJson(ctx.io, { keyFile: key.path, keyId: key.keyId, publicKey: key.publicKeyPem });
        else ctx.io.stdout(key.publicKeyPem);
      } catch (err) {
        ctx.fail(BastionError.from(err, 'INVALID_INPUT'), opts.json);
      }
    });
  for (const [cmd, example] of [
    [init, 'bastion keys init'],
    [exportCmd, 'bastion keys export > bastion-provenance.pub'],
  ] as const) {
    withHelp(cmd, {
      example,
      exitCodes: [EXIT_CODES.ok, EXIT_CODES.usage, EXIT_CODES.refused],
      env: {
        XDG_CONFIG_HOME: 'config directory (default $HOME/.config); the key is bastion/provenance-ed25519.pem in it',
      },
    });
  }
}
