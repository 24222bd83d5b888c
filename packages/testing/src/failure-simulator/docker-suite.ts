import { execFileSync } from 'node:child_process';

/** The images every failure suite runs; ops/docker/build.sh builds them offline. */
export const FAILURE_SUITE_IMAGES = { sandbox: 'bastion/sandbox:latest', geminiCli: 'bastion/gemini-cli:latest' } as const;

/** Why the suites cannot run here (no engine, an image missing), or undefined when they can. */
export function engineProblem(images: readonly string[] = Object.values(FAILURE_SUITE_IMAGES)): string | undefined {
  try {
    execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'ignore', timeout: 10_000 });
  } catch {
    return 'no Docker engine answers (run ops/docker/ensure-engine.sh)';
  }
  for (const image of images) {
    try {
      execFileSync('docker', ['image', 'inspect', image], { stdio: 'ignore', timeout: 10_000 });
    } catch {
      return `image ${image} is missing (run ops/docker/build.sh all)`;
    }
  }
  return undefined;
}

/**
 * describeWithDocker of @bastion/agent-runtime's test support (which that package does not
 * export), plus the images: locally a missing engine skips loudly; under CI=true it fails.
 */
export function describeWithDocker(name: string, body: () => void): void {
  const problem = engineProblem();
  if (problem === undefined) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs a Docker engine and the sandbox images (CI=true: missing is a failure, not a skip)', () => {
        throw new Error(problem);
      });
    });
    return;
  }
  console.warn(`\n!!! SKIPPING "${name}": ${problem}. Under CI=true this fails.\n`);
  describe.skip(name, body);
}
