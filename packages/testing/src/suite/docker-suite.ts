import { engineAvailable } from '@bastion/agent-runtime';

export { engineAvailable, managedContainers } from '@bastion/agent-runtime';

/**
 * `describe` for suites that need a real Docker engine: locally it skips with a loud notice when
 * there is none; under CI=true a missing engine is a failing test, never a skip.
 */
export function describeWithEngine(name: string, body: () => void): void {
  if (engineAvailable()) return describe(name, body);
  if (process.env.CI === 'true') {
    return describe(name, () => {
      it('needs a Docker engine (CI=true: a missing engine is a failure, not a skip)', () => {
        throw new Error('no Docker engine reachable; run ops/docker/ensure-engine.sh');
      });
    });
  }
  console.warn(`\n!!! SKIPPING "${name}": no Docker engine reachable (run ops/docker/ensure-engine.sh). Under CI=true this fails.\n`);
  describe.skip(name, body);
}
