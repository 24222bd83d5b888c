import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemConfigDirs } from './config-locations';
import { describeSettings, loadSettings } from './settings';

describe('settings (read once at the edge)', () => {
  const base = mkdtempSync(join(tmpdir(), 'bastion-settings-'));
  afterAll(() => rmSync(base, { recursive: true, force: true }));
  // A repository being worked on, with the files that used to configure Bastion from the cwd.
  const repo = join(base, 'repo');
  const userDir = join(base, 'xdg', 'bastion');
  const etcDir = join(base, 'etc', 'bastion');
  const opsDir = join(base, 'ops');
  for (const d of [repo, userDir, etcDir, opsDir]) mkdirSync(d, { recursive: true });
  writeFileSync(join(repo, 'bastion-flags.yaml'), 'FF_CURSOR_AUTOFIX: "true"\n');
  writeFileSync(
    join(repo, 'bastion.config.yaml'),
    `providers:\n  cursor:\n    agentPath: ${join(repo, 'evil-agent')}\n`,
  );
  writeFileSync(join(repo, 'config.yaml'), `workspaceRoots: [/]\n`);
  writeFileSync(
    join(etcDir, 'config.yaml'),
    'workspaceRoots: [/srv/etc-root]\nproviders:\n  cursor:\n    agentPath: /opt/etc/cursor-agent\n',
  );
  writeFileSync(join(etcDir, 'flags.yaml'), 'FF_DEFAULT_BACKEND: bwrap\n');
  writeFileSync(
    join(opsDir, 'bastion.yaml'),
    'workspaceRoots: [/srv/ops-root]\nproviders:\n  cursor:\n    agentPath: /opt/ops/cursor-agent\n',
  );
  const systemDirs = [userDir, etcDir];

  it('reads nothing from the working directory: its flags file, config file and config.yaml change nothing', () => {
    const s = loadSettings({ env: {}, cwd: repo, systemDirs: [] });
    expect(s.flagsFile).toBeUndefined();
    expect(s.configFile).toBeUndefined();
    expect(s.systemFlagsFile).toBeUndefined();
    expect(s.cursorAgentPath).toBeUndefined();
    expect(s.workspaceRoots).toBeUndefined();
  });

  it('takes a system file when nothing else sets a value, and the environment over it', () => {
    const s = loadSettings({ env: {}, cwd: repo, systemDirs });
    expect(s.systemConfigFile).toBe(join(etcDir, 'config.yaml'));
    expect(s.systemFlagsFile).toBe(join(etcDir, 'flags.yaml'));
    expect(s.workspaceRoots).toEqual({
      value: ['/srv/etc-root'],
      source: 'system-file',
      from: join(etcDir, 'config.yaml'),
    });
    const withEnv = loadSettings({
      env: { BASTION_WORKSPACE_ROOTS: '/srv/a:/srv/b', BASTION_CURSOR_AGENT: '/opt/env/cursor-agent' },
      cwd: repo,
      systemDirs,
    });
    expect(withEnv.workspaceRoots).toEqual({
      value: ['/srv/a', '/srv/b'],
      source: 'env',
      from: 'BASTION_WORKSPACE_ROOTS',
    });
    expect(withEnv.cursorAgentPath).toEqual({
      value: '/opt/env/cursor-agent',
      source: 'env',
      from: 'BASTION_CURSOR_AGENT',
    });
  });

  it('lets an explicit config file beat the environment, and a flag beat everything', () => {
    const env = {
      BASTION_CONFIG: join(opsDir, 'bastion.yaml'),
      BASTION_WORKSPACE_ROOTS: '/srv/env-root',
      BASTION_CURSOR_AGENT: '/opt/env/cursor-agent',
    };
    const s = loadSettings({ env, cwd: repo, systemDirs });
    expect(s.configFile).toEqual({ value: join(opsDir, 'bastion.yaml'), source: 'env', from: 'BASTION_CONFIG' });
    expect(s.workspaceRoots).toMatchObject({ value: ['/srv/ops-root'], source: 'explicit-file' });
    expect(s.cursorAgentPath).toMatchObject({ value: '/opt/ops/cursor-agent', source: 'explicit-file' });
    const flagged = loadSettings({
      env,
      cwd: repo,
      systemDirs,
      commandLine: { workspaceRoots: ['/srv/flag-root', 'rel'], agentPath: '/opt/flag/agent' },
    });
    expect(flagged.workspaceRoots).toEqual({
      value: ['/srv/flag-root', join(repo, 'rel')],
      source: 'flag',
      from: '--workspace-root',
    });
    expect(flagged.cursorAgentPath).toMatchObject({ value: '/opt/flag/agent', source: 'flag' });
  });

  it('uses a flags file only when ops name it, resolving a relative name against the working directory', () => {
    const s = loadSettings({ env: { BASTION_FLAGS_FILE: 'bastion-flags.yaml' }, cwd: repo, systemDirs: [] });
    expect(s.flagsFile).toEqual({ value: join(repo, 'bastion-flags.yaml'), source: 'env', from: 'BASTION_FLAGS_FILE' });
    const flag = loadSettings({
      env: { BASTION_FLAGS_FILE: '/x.yaml' },
      cwd: repo,
      systemDirs: [],
      commandLine: { flagsFile: '/ops/flags.yaml' },
    });
    expect(flag.flagsFile).toMatchObject({ value: '/ops/flags.yaml', source: 'flag' });
  });

  it('is frozen, and says where each value came from', () => {
    const s = loadSettings({ env: {}, cwd: repo, systemDirs });
    expect(Object.isFrozen(s)).toBe(true);
    expect(Object.isFrozen(s.workspaceRoots?.value)).toBe(true);
    expect(describeSettings(s).workspaceRoots).toMatchObject({ source: 'system-file' });
    expect(describeSettings(loadSettings({ env: {}, cwd: repo, systemDirs: [] })).workspaceRoots).toEqual({
      value: [],
      source: 'default',
      from: 'none configured',
    });
  });

  it('reads the token file, the fallback backend and the audit destination once, flag over variable', () => {
    const s = loadSettings({
      env: { BASTION_TOKEN_FILE: 'tok', BASTION_BACKEND: 'bwrap', BASTION_AUDIT_LOG: '/var/log/bastion.jsonl' },
      cwd: repo,
      systemDirs: [],
    });
    expect(s.tokenFile).toEqual({ value: join(repo, 'tok'), source: 'env', from: 'BASTION_TOKEN_FILE' });
    expect(s.backend).toEqual({ value: 'bwrap', source: 'env', from: 'BASTION_BACKEND' });
    expect(s.audit).toEqual({ destination: '/var/log/bastion.jsonl', level: 'info' });
    expect(
      loadSettings({
        env: { BASTION_TOKEN_FILE: 'tok' },
        cwd: repo,
        systemDirs: [],
        commandLine: { tokenFile: '/etc/bastion/token' },
      }).tokenFile,
    ).toMatchObject({ value: '/etc/bastion/token', source: 'flag' });
    expect(loadSettings({ env: { BASTION_AUDIT_LOG: '-' }, cwd: repo, systemDirs: [] }).audit).toEqual({
      destination: 'stderr',
      level: 'warn',
    });
  });

  it('refuses a missing explicit config file with INVALID_INPUT', () => {
    expect(() =>
      loadSettings({ env: { BASTION_CONFIG: join(base, 'missing.yaml') }, cwd: repo, systemDirs: [] }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });

  it('looks in $XDG_CONFIG_HOME/bastion (or ~/.config/bastion), then /etc/bastion', () => {
    expect(systemConfigDirs({ XDG_CONFIG_HOME: '/cfg', HOME: '/home/u' })).toEqual(['/cfg/bastion', '/etc/bastion']);
    expect(systemConfigDirs({ HOME: '/home/u' })).toEqual(['/home/u/.config/bastion', '/etc/bastion']);
    expect(systemConfigDirs({ XDG_CONFIG_HOME: 'relative' })).toEqual(['/etc/bastion']);
  });
});
