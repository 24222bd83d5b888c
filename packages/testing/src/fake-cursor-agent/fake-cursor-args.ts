// The fake cursor-agent's command line: the real CLI's options and its error texts for misuse.

export class UsageError extends Error {}

export const HELP = `Usage: cursor-agent [options] [command] [prompt...]

Start the Cursor Agent

Arguments:
  prompt                       Initial prompt for the agent

Options:
  -v, --version                Output the version number
  --api-key <key>              API key for authentication (can also use CURSOR_API_KEY env var)
  -H, --header <header>        Add custom header to agent requests (format: 'Name: Value', can be used multiple times)
  -p, --print                  Print responses to console (for scripts or non-interactive use). Has access to all tools, including write and shell.
  --output-format <format>     Output format (only works with --print): text | json | stream-json (default: "text")
  --stream-partial-output      Stream partial output as individual text deltas (only works with --print and stream-json format) (default: false)
  -c, --cloud                  Start in cloud mode (open composer picker on launch)
  --resume [chatId]            Resume a chat session.
  --continue                   Continue previous session
  --model <model>              Model to use (e.g., gpt-5, sonnet-4, sonnet-4-thinking)
  --mode <mode>                Start in the given execution mode. plan: read-only/planning. ask: Q&A style for explanations and questions (read-only).
  --list-models                List available models and exit (default: false)
  -f, --force                  Force allow commands unless explicitly denied (default: false)
  --yolo                       Alias for --force (Run Everything) (default: false)
  --sandbox <mode>             Explicitly enable or disable sandbox mode (overrides config)
  --approve-mcps               Automatically approve all MCP servers (default: false)
  --trust                      Trust the current workspace without prompting (default: false)
  --workspace <path>           Workspace directory to use (defaults to current working directory)
  -h, --help                   Display help for command

Commands:
  login                        Authenticate with Cursor
  logout                       Sign out and clear stored authentication
  status|whoami                View authentication status

(Bastion's fake: script it with a \`\`\`bastion-fake-script block in the prompt,
FAKE_CURSOR_SCRIPT or FAKE_CURSOR_SCRIPT_FILE.)
`;

export interface Options {
  print: boolean;
  outputFormat: string;
  streamPartialOutput: boolean;
  model?: string;
  mode?: string;
  force: boolean;
  trust: boolean;
  workspace?: string;
  apiKey?: string;
  headers: string[];
  resume?: string | true;
  continue: boolean;
  sandbox?: string;
  approveMcps: boolean;
  version: boolean;
  help: boolean;
  listModels: boolean;
  command?: string;
  prompt: string[];
}

export function parseArgs(argv: string[]): Options {
  const opts: Options = {
    print: false,
    outputFormat: 'text',
    streamPartialOutput: false,
    model: undefined,
    mode: undefined,
    force: false,
    trust: false,
    workspace: undefined,
    apiKey: undefined,
    headers: [],
    resume: undefined,
    continue: false,
    sandbox: undefined,
    approveMcps: false,
    version: false,
    help: false,
    listModels: false,
    command: undefined,
    prompt: [],
  };
  const takesValue = new Map<string, 'outputFormat' | 'model' | 'mode' | 'workspace' | 'apiKey' | 'sandbox'>([
    ['--output-format', 'outputFormat'],
    ['--model', 'model'],
    ['-m', 'model'],
    ['--mode', 'mode'],
    ['--workspace', 'workspace'],
    ['--api-key', 'apiKey'],
    ['--sandbox', 'sandbox'],
  ]);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      opts.prompt.push(...argv.slice(i + 1));
      break;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const name = eq > 0 ? arg.slice(0, eq) : arg;
    if (takesValue.has(name)) {
      const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
      if (value === undefined) throw new UsageError(`error: option '${name} <value>' argument missing`);
      opts[takesValue.get(name)!] = value;
      continue;
    }
    switch (name) {
      case '-p':
      case '--print':
        opts.print = true;
        break;
      case '--stream-partial-output':
        opts.streamPartialOutput = true;
        break;
      case '-f':
      case '--force':
      case '--yolo':
        opts.force = true;
        break;
      case '--trust':
        opts.trust = true;
        break;
      case '--approve-mcps':
        opts.approveMcps = true;
        break;
      case '--continue':
        opts.continue = true;
        break;
      case '-H':
      case '--header': {
        const value = argv[++i];
        if (value === undefined) throw new UsageError(`error: option '${name} <header>' argument missing`);
        opts.headers.push(value);
        break;
      }
      case '--resume':
        if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('-')) opts.resume = argv[++i];
        else opts.resume = true;
        break;
      case '-v':
      case '--version':
        opts.version = true;
        break;
      case '-h':
      case '--help':
        opts.help = true;
        break;
      case '--list-models':
        opts.listModels = true;
        break;
      default:
        if (arg.startsWith('-') && arg.length > 1) throw new UsageError(`error: unknown option '${arg}'`);
        if (
          opts.prompt.length === 0 &&
          opts.command === undefined &&
          ['login', 'logout', 'status', 'whoami'].includes(arg)
        ) {
          opts.command = arg;
        } else {
          opts.prompt.push(arg);
        }
    }
  }
  if (!['text', 'json', 'stream-json'].includes(opts.outputFormat)) {
    throw new UsageError(
      `error: option '--output-format <format>' argument '${opts.outputFormat}' is invalid. Allowed choices are text, json, stream-json.`,
    );
  }
  if (opts.mode !== undefined && !['plan', 'ask'].includes(opts.mode)) {
    throw new UsageError(
      `error: option '--mode <mode>' argument '${opts.mode}' is invalid. Allowed choices are plan, ask.`,
    );
  }
  return opts;
}
