import { providerRegistry } from '@bastion/providers';
import { runCli } from '../main';
import type { Io } from '../output';

function capture(): Io & { out: string; err: string } {
  const io = { out: '', err: '', stdout: (t: string) => void (io.out += t), stderr: (t: string) => void (io.err += t) };
  return io;
}

const env = { PATH: process.env.PATH, BASTION_NO_DAEMON: '1', BASTION_AUDIT_LOG: '/dev/null' };

describe('bastion doctor --help', () => {
  it("names every registered provider's upstream key variable (and its _FILE) with the providers it serves", async () => {
    const io = capture();
    expect((await runCli(['doctor', '--help'], io, env)).exitCode).toBe(0);
    const environment = io.out.slice(io.out.indexOf('\nEnvironment:\n'));
    const upstreams = providerRegistry.manifests.flatMap((m) => m.upstreams.map((api) => ({ api, provider: m.id })));
    expect(upstreams.map((u) => u.api.apiKeyEnv)).toEqual(
      expect.arrayContaining(['GEMINI_API_KEY', 'ANTHROPIC_API_KEY']),
    );
    for (const { api, provider } of upstreams) {
      const line = environment.split('\n').find((l) => l.trimStart().startsWith(`${api.apiKeyEnv} `));
      expect(line).toContain(`${api.apiKeyEnv}_FILE`);
      expect(line).toContain(provider);
    }
  });

  it('names the keys passed into a sandbox too (CURSOR_API_KEY for cursor), from the manifests', async () => {
    const io = capture();
    expect((await runCli(['doctor', '--help'], io, env)).exitCode).toBe(0);
    const environment = io.out.slice(io.out.indexOf('\nEnvironment:\n'));
    const keys = providerRegistry.manifests.flatMap((m) =>
      (m.sandboxSecrets ?? []).map((k) => ({ k, provider: m.id })),
    );
    expect(keys.map(({ k }) => k.env)).toContain('CURSOR_API_KEY');
    for (const { k, provider } of keys) {
      const line = environment.split('\n').find((l) => l.trimStart().startsWith(`${k.env} `));
      expect(line).toContain(`${k.env}_FILE`);
      expect(line).toContain(`sandbox of ${provider}`);
    }
  });

  it('offers --image to check the image `bastion exec --image` would run in', async () => {
    const io = capture();
    expect((await runCli(['doctor', '--help'], io, env)).exitCode).toBe(0);
    expect(io.out).toMatch(/--image <image>/);
  });
});
