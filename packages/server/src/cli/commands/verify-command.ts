import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { BastionError } from '@bastion/core';
import { printJson } from '../output';
import type { CliContext } from '../cli-context';
import { EXIT_CODES, withHelp } from '../help-text';

export function registerVerify(program: Command, ctx: CliContext): void {
  const verify = program
    .command('verify')
    .description(
      'check a provenance record: its signature and, with --workspace, that the tree holds the recorded changes',
    )
    .argument('<file>', 'the record (a DSSE envelope) that run/exec --provenance wrote')
    .option('--pubkey <file>', "public key (PEM) to verify with (default: the public half of this user's key)")
    .option(
      '--workspace <dir>',
      'check that every applied file recorded is in this directory with the recorded content',
    )
    .option('--json', 'print {"ok","problem"|"statement"} on stdout')
    .action(async (file: string, opts: { pubkey?: string; workspace?: string; json?: boolean }) => {
      try {
        const p = await import('../lazy/provenance');
        const publicKey = opts.pubkey
          ? p.parsePublicKey(await readText(opts.pubkey), opts.pubkey)
          : (await p.loadSigningKey(p.defaultKeyPath(ctx.env))).publicKey;
        const outcome = await p.verifyProvenance(
          await readText(file),
          publicKey,
          opts.workspace ? { workspace: resolve(opts.workspace) } : {},
        );
        if (opts.json)
          await printJson(
            ctx.io,
            outcome.ok
              ? { ok: true, keyId: outcome.keyId, checkedPaths: outcome.checkedPaths, statement: outcome.statement }
              : { ok: false, problem: outcome.problem },
          );
        if (!outcome.ok) {
          if (!opts.json) ctx.io.stderr(`bastion: verify FAILED: ${outcome.problem}\n`);
          return ctx.setExitCode(1);
        }
        if (!opts.json) {
          const pr = outcome.statement.predicate;
          ctx.io.stdout(
            `verified: ${file} signed by key ${outcome.keyId.slice(0, 16)}\n` +
              `  run ${pr.run.correlationId} (${pr.provider.id}, ${pr.run.status}${pr.run.errorCode ? ` ${pr.run.errorCode}` : ''}) ${pr.run.startedAt}\n` +
              `  policy ${pr.policy.decision} ${pr.policy.digest ?? ''}; sandbox ${pr.sandbox.backend} ${pr.sandbox.image ?? ''} ${pr.sandbox.imageDigest ?? ''}\n` +
              `  usage ${pr.usage.inputTokens} in / ${pr.usage.outputTokens} out tokens, ${pr.usage.requests} model requests; subjects: ${outcome.statement.subject.map((s) => s.name).join(', ')}\n` +
              (opts.workspace ? `  workspace: ${outcome.checkedPaths} recorded change(s) match\n` : ''),
          );
        }
      } catch (err) {
        ctx.fail(BastionError.from(err, 'INVALID_INPUT'), opts.json);
      }
    });
  withHelp(verify, {
    example: 'bastion verify run.provenance.json --pubkey bastion-provenance.pub --workspace .',
    exitCodes: [
      EXIT_CODES.ok.replace('the call succeeded', 'the record verifies'),
      '1    the record does not verify; the message names what differs (envelope, key or workspace file)',
      EXIT_CODES.usage,
      EXIT_CODES.refused,
    ],
    env: { XDG_CONFIG_HOME: "where this user's key is looked up when --pubkey is not given" },
  });
}

async function readText(path: string): Promise<string> {
  try {
    return await readFile(resolve(path), 'utf8');
  } catch (err) {
    throw new BastionError(
      'INVALID_INPUT',
      `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); check the path`,
      { cause: err },
    );
  }
}
