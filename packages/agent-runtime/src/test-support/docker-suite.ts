import { engineAvailable } from '../executor/docker/engine';

export { engineAvailable, managedContainers } from '../executor/docker/engine';

/**
 * Integration suites need a real engine. Locally they skip with a loud notice when there is none;
 * under CI=true a missing engine fails the suite instead.
 */
export function describeWithDocker(name: string, body: () => void): void {
  if (engineAvailable()) {
    describe(name, body);
    return;
  }
  if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs a Docker engine (CI=true: a missing engine is a failure, not a skip)', () => {
        throw new Error('no Docker engine reachable; run ops/docker/ensure-engine.sh');
      });
    });
    return;
  }
  console.warn(`\n!!! SKIPPING "${name}": no Docker engine reachable (run ops/docker/ensure-engine.sh). Under CI=true this fails.\n`);
  describe.skip(name, body);
}
