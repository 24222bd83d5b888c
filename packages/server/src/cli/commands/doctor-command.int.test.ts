import { describeWithDocker } from '@bastion/sandbox/test-support';
import { runCli } from '../main';
import type { Io } from '../output';

function capture(): Io & { out: string; err: string } {
  const io = { out: '', err: '', stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}

const env = { PATH: process.env.PATH, BASTION_NO_DAEMON: '1', BASTION_AUDIT_LOG: '/dev/null' };

describeWithDocker('bastion doctor --image (real engine)', () => {
  it('checks the image the operator gives `bastion exec --image`, and says how to get it when it is missing', async () => {
    const image = 'bastion-doctor-test/no-such-image:never-built';
    const io = capture();
    await runCli(['doctor', '--json', '--image', image], io, env);
    const { checks } = JSON.parse(io.out) as { checks: { name: string; status: string; detail: string }[] };
    expect(checks.find((c) => c.name === `image ${image}`)).toEqual({
      name: `image ${image}`,
      status: 'warn',
      detail: 'not built; exec cannot run until it is',
      fix: `build or tag ${image} (it is an operator override), or drop the override`,
    });
    // The default exec image is checked as before, and a built one given with --image reads ok.
    const again = capture();
    await runCli(['doctor', '--json', '--image', 'bastion/sandbox:latest'], again, env);
    const sandbox = (JSON.parse(again.out) as { checks: { name: string; status: string }[] }).checks.filter(
      (c) => c.name === 'image bastion/sandbox:latest',
    );
    expect(sandbox).toEqual([expect.objectContaining({ status: 'ok' })]);
  }, 60_000);
});
