import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const REPO = join(__dirname, '../../../..');

describe('standalone bundles', () => {
  // The supervisor, relay, watchdog, tmpfs mounter and the fakes' command lines ship as generated
  // files; a source edited without regenerating them would test and ship the old code.
  it('are what their TypeScript (and perl) sources bundle to now: run node scripts/standalone-bundles.mjs after editing one', () => {
    const run = spawnSync(process.execPath, [join(REPO, 'scripts/standalone-bundles.mjs'), '--check'], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
