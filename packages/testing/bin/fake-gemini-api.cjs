#!/usr/bin/env node
'use strict';
// Runs the fake Gemini API standalone (the offline demo backend, manual tests):
//   node packages/testing/bin/fake-gemini-api.cjs [--port N] [--host H] [--expected-api-key K]
//        [--answer TEXT] [--fault KIND] [--no-control] [--session demo]
// --session demo: the scripted agent session of demo-session.cjs (tool calls, then a summary).
// Prints one JSON line {"url","port"} on stdout once listening; stops on SIGINT/SIGTERM.
// The /__fake/* control endpoints are on by default here so another process can script it.
const { startFakeGeminiApi } = require('../src/fake-gemini-api/fake-gemini-api-server.cjs');

function parseArgs(argv) {
  const out = { control: true };
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
      out.session = next();
      if (out.session !== 'demo') throw new Error(`unknown session: ${out.session} (known: demo)`);
    }
    else if (arg === '--help' || arg === '-h') out.help = true;
    else throw new Error(`unknown argument: ${arg}`);
  }
  return out;
}

async function main() {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`fake-gemini-api: ${error.message}\n`);
    process.exit(2);
  }
  if (args.help) {
    process.stdout.write(
      'usage: fake-gemini-api [--port N] [--host H] [--expected-api-key K] [--answer TEXT] [--fault KIND] [--no-control] [--session demo]\n',
    );
    return;
  }
  const port = args.port ?? (process.env.FAKE_GEMINI_PORT ? Number(process.env.FAKE_GEMINI_PORT) : 0);
  const api = await startFakeGeminiApi({
    port,
    host: args.host,
    expectedApiKey: args.expectedApiKey,
    defaultAnswer: args.session === 'demo' ? require('../src/fake-gemini-api/demo-session.cjs').demoSessionAnswer : args.defaultAnswer,
    control: args.control,
  });
  if (args.fault) api.setFault(args.fault);
  process.stdout.write(`${JSON.stringify({ url: api.url, port: api.port })}\n`);
  const stop = () => {
    api.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error) => {
  process.stderr.write(`fake-gemini-api: ${error && error.message}\n`);
  process.exit(1);
});
