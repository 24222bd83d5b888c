import { execFileSync } from 'node:child_process';
import { SANDBOX_IMAGE } from '@bastion/sandbox';

export { engineAvailable, managedContainers } from '@bastion/sandbox';

/** The images the provider and failure suites run; ops/docker/build.sh builds them offline. */
export const SANDBOX_IMAGES = { sandbox: SANDBOX_IMAGE, geminiCli: 'bastion/gemini-cli:latest' } as const;

/** Why the suites cannot run here (no engine, an image missing), or undefined when they can. */
export function engineProblem(images: readonly string[] = Object.values(SANDBOX_IMAGES)): string | undefined {
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
 * `describe` for suites that need a real Docker engine and the sandbox images: locally a missing
 * piece skips with a loud notice; under CI=true it is a failing test, never a skip.
 */
export function describeWithEngine(name: string, body: () => void): void {
  describeWhenReady(name, engineProblem(), body);
}

/** `describe` when `problem` is undefined; else a loud skip locally, a failing test under CI=true. */
export function describeWhenReady(name: string, problem: string | undefined, body: () => void): void {
  if (problem === undefined) return describe(name, body);
  if (process.env.CI === 'true') {
    return describe(name, () => {
      it('needs what this suite runs on (CI=true: missing is a failure, not a skip)', () => {
        throw new Error(problem);
      });
    });
  }
  console.warn(`\n!!! SKIPPING "${name}": ${problem}. Under CI=true this fails.\n`);
  describe.skip(name, body);
}
