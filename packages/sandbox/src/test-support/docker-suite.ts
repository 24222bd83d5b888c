import { engineAvailable } from '../docker/engine';

export { engineAvailable, managedContainers } from '../docker/engine';

/**
 * Integration suites need real pieces (an engine, bubblewrap, cgroups). `problem` says what is
 * missing, or is null. Locally the suite then skips with a loud notice; under CI=true the missing
 * piece is a failing test instead, never a skip.
 */
export function describeWhenAvailable(name: string, problem: string | null, body: () => void): void {
  if (problem === null) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs its sandbox backend (CI=true: a missing piece is a failure, not a skip)', () => {
        throw new Error(problem);
      });
    });
    return;
  }
  console.warn(`\n!!! SKIPPING "${name}": ${problem}. Under CI=true this fails.\n`);
  describe.skip(name, body);
}

export function describeWithDocker(name: string, body: () => void): void {
  describeWhenAvailable(
    name,
    engineAvailable() ? null : 'no Docker engine reachable (run ops/docker/ensure-engine.sh)',
    body,
  );
}
