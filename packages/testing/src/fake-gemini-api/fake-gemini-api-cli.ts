import { demoSessionAnswer } from './demo-session';
import { startFakeGeminiApi } from './fake-gemini-api-server';
import type { FakeGeminiFaultKind } from './fake-gemini-api-types';

/**
 * The fake Gemini API as a process (the offline demo's backend, manual tests). Bundled by
 * scripts/standalone-bundles.mjs into packages/testing/bin/fake-gemini-api.cjs, run with plain node:
 *   node packages/testing/bin/fake-gemini-api.cjs [--port N] [--host H] [--expected-api-key K]
 *        [--answer TEXT] [--fault KIND] [--no-control] [--session demo]
 * --session demo: the scripted agent session of demo-session.ts (tool calls, then a summary).
 * Prints one JSON line {"url","port"} on stdout once listening; stops on SIGINT/SIGTERM.
 * The /__fake/* control endpoints are on by default here so another process can script it.
 */
export interface FakeGeminiApiCliArgs {
  port?: number;
  host?: string;
  expectedApiKey?: string;
  defaultAnswer?: string;
  fault?: string;
  control: boolean;
  session?: 'demo';
  help?: boolean;
}

const USAGE =
  'usage: fake-gemini-api [--port N] [--host H] [--expected-api-key K] [--answer TEXT] [--fault KIND] [--no-control] [--session demo]\n';

/** The command line, or an Error saying what is wrong with it. */
export function parseFakeGeminiApiArgs(argv: readonly string[]): FakeGeminiApiCliArgs {
  const out: FakeGeminiApiCliArgs = { control: true };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const next = () => {
      const value = argv[++i];
      if (value === undefined) throw new Error(`${arg} needs a value`);
      return value;
    };
    if (arg === '--port') out.port = Number(next());
    else if (arg === '--host') out.host = next();
    else if (arg === '--expected-api-key') out.expectedApiKey = next();
    else if (arg === '--answer') out.defaultAnswer = next();
    else if (arg === '--fault') out.fault = next();
    else if (arg === '--no-control') out.control = false;
    else if (arg === '--session') {
      const session = next();
      if (session !== 'demo') throw new Error(`unknown session: ${session} (known: demo)`);
      out.session = session;
    } else if (arg === '--help' || arg === '-h') out.help = true;
    else throw new Error(`unknown argument: ${arg}`);
  }
  return out;
}

export async function runFakeGeminiApiCli(argv: readonly string[]): Promise<void> {
  let args: FakeGeminiApiCliArgs;
  try {
    args = parseFakeGeminiApiArgs(argv);
  } catch (error) {
    process.stderr.write(`fake-gemini-api: ${(error as Error).message}\n${USAGE}`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return;
  }
  try {
    const port = args.port ?? (process.env.FAKE_GEMINI_PORT ? Number(process.env.FAKE_GEMINI_PORT) : 0);
    const api = await startFakeGeminiApi({
      port,
      host: args.host,
      expectedApiKey: args.expectedApiKey,
      defaultAnswer: args.session === 'demo' ? demoSessionAnswer : args.defaultAnswer,
      control: args.control,
    });
    if (args.fault) api.setFault(args.fault as FakeGeminiFaultKind);
    process.stdout.write(`${JSON.stringify({ url: api.url, port: api.port })}\n`);
    const stop = () => void api.close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  } catch (error) {
    process.stderr.write(`fake-gemini-api: ${(error as Error).message}\n`);
    process.exit(1);
  }
}
