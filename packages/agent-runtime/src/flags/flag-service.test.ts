import { mkdtemp, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMemoryAuditLog } from '../audit/audit-log';
import { createFlagService, type FlagService } from './flag-service';
import { parseFlagValue, FLAG_CATALOGUE } from './flag-catalogue';
import { readFlagsFile, writeFlagsFileAtomic } from './flags-file';

describe('feature flags', () => {
  let dir: string;
  const services: FlagService[] = [];
  const make = (...args: Parameters<typeof createFlagService>) => {
    const s = createFlagService(...args);
    services.push(s);
    return s;
  };
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bastion-flags-'));
  });
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  it('lets the environment override a system flags file, and an explicit flags file override the environment', async () => {
    const system = join(dir, 'system-flags.yaml');
    const explicit = join(dir, 'ops-flags.yaml');
    await writeFile(system, 'FF_CURSOR_AUTOFIX: true\nFF_DEFAULT_BACKEND: bwrap\n');
    await writeFile(explicit, 'FF_DEFAULT_BACKEND: docker\n');
    const belowEnv = make({ env: { FF_CURSOR_AUTOFIX: '0' }, systemFlagsFile: system });
    expect(await belowEnv.evaluate('FF_CURSOR_AUTOFIX')).toEqual(
      expect.objectContaining({ value: false, source: 'env' }),
    );
    expect(await belowEnv.evaluate('FF_DEFAULT_BACKEND')).toEqual(
      expect.objectContaining({ value: 'bwrap', source: 'file', reason: `set in ${system}` }),
    );
    const both = make({ env: { FF_DEFAULT_BACKEND: 'bwrap' }, flagsFile: explicit, systemFlagsFile: system });
    expect(await both.evaluate('FF_DEFAULT_BACKEND')).toEqual(
      expect.objectContaining({ value: 'docker', source: 'file', reason: `set in ${explicit}` }),
    );
    expect((await both.autofix('cursor')).enabled).toBe(true);
  });

  it.each(['1', 'true', 'TRUE', 'Yes', 'on', ' ON '])('turns FF_CURSOR_AUTOFIX on for %p', async (raw) => {
    const flags = make({ env: { FF_CURSOR_AUTOFIX: raw } });
    const { enabled, evaluation } = await flags.autofix('cursor', { correlationId: 'c' });
    expect(enabled).toBe(true);
    expect(evaluation).toEqual(expect.objectContaining({ source: 'env', value: true }));
  });

  it.each(['0', 'false', 'off', 'no', ''])('keeps FF_CURSOR_AUTOFIX off for %p without a report', async (raw) => {
    const audit = createMemoryAuditLog();
    const flags = make({ env: { FF_CURSOR_AUTOFIX: raw }, audit });
    expect((await flags.autofix('cursor')).enabled).toBe(false);
    expect(audit.events.filter((e) => e.event === 'flags.unparseable')).toHaveLength(0);
  });

  it.each(['maybe', 'enable', '2', 'tru'])(
    'treats an unparseable FF_CURSOR_AUTOFIX=%p as off and reports it',
    async (raw) => {
      const audit = createMemoryAuditLog();
      const flags = make({ env: { FF_CURSOR_AUTOFIX: raw }, audit });
      const { enabled, evaluation } = await flags.autofix('cursor', { correlationId: 'c9' });
      expect(enabled).toBe(false);
      expect(evaluation).toEqual(expect.objectContaining({ unparseable: true, source: 'env', raw, value: false }));
      expect(evaluation.reason).toContain('unparseable');
      expect(audit.events).toContainEqual(
        expect.objectContaining({ event: 'flags.unparseable', flag: 'FF_CURSOR_AUTOFIX', raw, correlationId: 'c9' }),
      );
      expect(audit.events).toContainEqual(
        expect.objectContaining({ event: 'flags.write_locked', flag: 'FF_CURSOR_AUTOFIX' }),
      );
    },
  );

  it('is off by default, and providers are on by default', async () => {
    const flags = make({ env: {} });
    expect(await flags.evaluate('FF_CURSOR_AUTOFIX')).toEqual(
      expect.objectContaining({ value: false, source: 'default' }),
    );
    expect((await flags.providerEnabled('gemini-cli')).enabled).toBe(true);
    expect(await flags.evaluate('FF_DEFAULT_BACKEND')).toEqual(
      expect.objectContaining({ value: 'docker', source: 'default' }),
    );
    expect(await flags.evaluate('FF_POOL_SIZE_CURSOR')).toEqual(
      expect.objectContaining({ value: 2, source: 'default', reason: 'not set; default' }),
    );
  });

  it('reads the environment at evaluation time, not at start-up', async () => {
    const env: NodeJS.ProcessEnv = {};
    const flags = make({ env });
    expect((await flags.providerEnabled('cursor')).enabled).toBe(true);
    env.FF_PROVIDER_CURSOR = 'off';
    expect((await flags.providerEnabled('cursor')).enabled).toBe(false);
  });

  it('lets the flags file override the environment', async () => {
    const file = join(dir, 'bastion-flags.yaml');
    await writeFile(file, 'FF_CURSOR_AUTOFIX: false\nFF_DEFAULT_BACKEND: bwrap\nFF_POOL_SIZE_GEMINI_CLI: 3\n');
    const flags = make({ env: { FF_CURSOR_AUTOFIX: '1', FF_PROVIDER_CURSOR: '0' }, flagsFile: file });
    expect(await flags.evaluate('FF_CURSOR_AUTOFIX')).toEqual(
      expect.objectContaining({ value: false, source: 'file' }),
    );
    expect(await flags.evaluate('FF_PROVIDER_CURSOR')).toEqual(
      expect.objectContaining({ value: false, source: 'env' }),
    );
    expect(await flags.evaluate('FF_DEFAULT_BACKEND')).toEqual(
      expect.objectContaining({ value: 'bwrap', source: 'file' }),
    );
    expect(await flags.evaluate('FF_POOL_SIZE_GEMINI_CLI')).toEqual(
      expect.objectContaining({ value: 3, source: 'file' }),
    );
  });

  it('sees a flip of the flags file on the next evaluation, with both evaluations audited', async () => {
    const audit = createMemoryAuditLog();
    const file = join(dir, 'bastion-flags.yaml');
    await writeFlagsFileAtomic(file, { FF_CURSOR_AUTOFIX: false });
    const flags = make({ flagsFile: file, env: {}, audit });
    expect((await flags.autofix('cursor', { correlationId: 'before' })).enabled).toBe(false);
    await writeFlagsFileAtomic(file, { FF_CURSOR_AUTOFIX: true });
    expect((await flags.autofix('cursor', { correlationId: 'after' })).enabled).toBe(true);
    expect(audit.events).toContainEqual(
      expect.objectContaining({ event: 'flags.write_locked', correlationId: 'before', source: 'file' }),
    );
    expect(audit.events).toContainEqual(
      expect.objectContaining({ event: 'flags.write_unlocked', correlationId: 'after', source: 'file', value: true }),
    );
  });

  it('reloads on an atomic rename through the watcher', async () => {
    const audit = createMemoryAuditLog();
    const file = join(dir, 'flags.json');
    await writeFile(file, JSON.stringify({ FF_DEFAULT_BACKEND: 'docker' }));
    const flags = make({ flagsFile: file, env: {}, audit, debounceMs: 10 });
    expect((await flags.evaluate('FF_DEFAULT_BACKEND')).value).toBe('docker');
    const reloads = () => audit.events.filter((e) => e.event === 'flags.file_reloaded').length;
    const before = reloads();
    const temp = join(dir, 'tmp.json');
    await writeFile(temp, JSON.stringify({ FF_DEFAULT_BACKEND: 'bwrap' }));
    await rename(temp, file);
    const deadline = Date.now() + 3000;
    // The watcher reloads without anyone evaluating a flag.
    while (reloads() === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(reloads()).toBe(before + 1);
    expect((await flags.evaluate('FF_DEFAULT_BACKEND')).value).toBe('bwrap');
  });

  it('keeps the last good file in force when an edit breaks it, and reports the break', async () => {
    const audit = createMemoryAuditLog();
    const file = join(dir, 'bastion-flags.yaml');
    await writeFile(file, 'FF_PROVIDER_CURSOR: off\n');
    const flags = make({ flagsFile: file, env: {}, audit });
    expect((await flags.providerEnabled('cursor')).enabled).toBe(false);
    await writeFile(file, 'FF_PROVIDER_CURSOR: [oops\n');
    expect((await flags.providerEnabled('cursor')).enabled).toBe(false);
    expect(audit.events).toContainEqual(expect.objectContaining({ event: 'flags.file_invalid' }));
  });

  it('reports an unparseable value in the file as off, not falling through to the environment', async () => {
    const file = join(dir, 'bastion-flags.yaml');
    await writeFile(file, 'FF_CURSOR_AUTOFIX: sometimes\n');
    const flags = make({ flagsFile: file, env: { FF_CURSOR_AUTOFIX: 'true' } });
    const { enabled, evaluation } = await flags.autofix('cursor');
    expect(enabled).toBe(false);
    expect(evaluation).toEqual(expect.objectContaining({ source: 'file', unparseable: true, raw: 'sometimes' }));
  });

  it('gates providers for the router with the flag as the rule', async () => {
    const flags = make({ env: { FF_PROVIDER_GEMINI_CLI: 'no' } });
    const gate = await flags.gate('gemini-cli', { correlationId: 'c', task: { prompt: 'p', intent: 'analyze' } });
    expect(gate).toEqual(expect.objectContaining({ enabled: false, rule: 'flags.FF_PROVIDER_GEMINI_CLI' }));
  });

  it('rejects unknown flag names with INVALID_INPUT', async () => {
    const flags = make({ env: {} });
    await expect(flags.evaluate('FF_NOPE')).rejects.toMatchObject({ code: 'INVALID_INPUT' });
  });

  it("reads each provider's autofix flag by the name configured for it, audited as a write unlock", async () => {
    const audit = createMemoryAuditLog();
    const flags = make({
      env: { FF_CURSOR_AUTOFIX: '1', FF_EDITOR_X_AUTOFIX: 'on' },
      audit,
      autofixFlags: { cursor: 'FF_CURSOR_AUTOFIX', 'editor-x': 'FF_EDITOR_X_AUTOFIX' },
    });
    expect(await flags.autofix('editor-x', { correlationId: 'x1' })).toMatchObject({
      enabled: true,
      evaluation: { name: 'FF_EDITOR_X_AUTOFIX', source: 'env' },
    });
    expect(audit.events).toContainEqual(
      expect.objectContaining({ event: 'flags.write_unlocked', flag: 'FF_EDITOR_X_AUTOFIX', correlationId: 'x1' }),
    );
    expect((await flags.autofix('cursor')).enabled).toBe(true);
    expect(await flags.autofix('gemini-cli')).toMatchObject({
      enabled: false,
      evaluation: { reason: 'provider "gemini-cli" declares no autofix flag: its edits are never applied' },
    });
  });

  it("takes the autofix flag names from the registered providers' manifests by default (FF_CURSOR_AUTOFIX for cursor)", async () => {
    const flags = make({ env: { FF_CURSOR_AUTOFIX: 'yes' } });
    expect(await flags.autofix('cursor')).toMatchObject({ enabled: true, evaluation: { name: 'FF_CURSOR_AUTOFIX' } });
    expect(FLAG_CATALOGUE.FF_CURSOR_AUTOFIX).toMatchObject({ type: 'boolean', default: false, unlocksWrite: true });
  });

  it('lists every catalogue flag', async () => {
    const flags = make({ env: { FF_PROVIDER_CLAUDE: '0' } });
    const names = (await flags.list()).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining([...Object.keys(FLAG_CATALOGUE), 'FF_PROVIDER_CLAUDE']));
  });

  it('writes the flags file atomically, leaving no temporary file', async () => {
    const file = join(dir, 'sub', 'bastion-flags.yaml');
    await writeFlagsFileAtomic(file, { FF_PROVIDER_CURSOR: true, FF_CURSOR_AUTOFIX: false });
    expect(await readFlagsFile(file)).toEqual({ FF_CURSOR_AUTOFIX: false, FF_PROVIDER_CURSOR: true });
    expect(await readdir(join(dir, 'sub'))).toEqual(['bastion-flags.yaml']);
    expect(await readFile(file, 'utf8')).toBe('FF_CURSOR_AUTOFIX: false\nFF_PROVIDER_CURSOR: true\n');
  });

  it('parses ints and enums strictly', () => {
    expect(parseFlagValue(FLAG_CATALOGUE.FF_POOL_SIZE_CURSOR!, '4')).toEqual({ ok: true, value: 4 });
    expect(parseFlagValue(FLAG_CATALOGUE.FF_POOL_SIZE_CURSOR!, '-1').ok).toBe(false);
    expect(parseFlagValue(FLAG_CATALOGUE.FF_POOL_SIZE_CURSOR!, 65).ok).toBe(false);
    expect(parseFlagValue(FLAG_CATALOGUE.FF_DEFAULT_BACKEND!, 'BWRAP')).toEqual({ ok: true, value: 'bwrap' });
    expect(parseFlagValue(FLAG_CATALOGUE.FF_DEFAULT_BACKEND!, 'podman').ok).toBe(false);
  });
});
