import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, resolve } from 'node:path';
import type { RuntimeStateLocations } from '../workspace-access/forbidden-paths';
import { readBastionConfigFile, type BastionConfig } from './bastion-config';
import { CONFIG_FILE_NAME, FLAGS_FILE_NAME, firstExisting, systemConfigDirs } from './config-locations';

/** Where a setting came from, in precedence order: flag > explicit file > environment > system file > default. */
export type SettingSource = 'flag' | 'explicit-file' | 'env' | 'system-file' | 'default';

export interface Sourced<T> {
  readonly value: T;
  readonly source: SettingSource;
  /** The flag, variable or file that set it, for `doctor`, logs and error messages. */
  readonly from: string;
}

/** What the command line said (only the options this command has). */
export interface CommandLineSettings {
  readonly config?: string | undefined;
  readonly flagsFile?: string | undefined;
  readonly workspaceRoots?: readonly string[] | undefined;
  readonly agentPath?: string | undefined;
  readonly tokenFile?: string | undefined;
}

/** The environment variables settings are read from; nothing below the edge reads env for these. */
export interface SettingsEnv {
  readonly BASTION_CONFIG?: string | undefined;
  readonly BASTION_FLAGS_FILE?: string | undefined;
  readonly BASTION_WORKSPACE_ROOTS?: string | undefined;
  readonly BASTION_CURSOR_AGENT?: string | undefined;
  readonly XDG_CONFIG_HOME?: string | undefined;
  readonly HOME?: string | undefined;
  readonly XDG_RUNTIME_DIR?: string | undefined;
  readonly BASTION_ROOTFS_DIR?: string | undefined;
  readonly BASTION_BWRAP_TMP_DIR?: string | undefined;
  readonly BASTION_TOKEN_FILE?: string | undefined;
  readonly BASTION_BACKEND?: string | undefined;
  readonly BASTION_AUDIT_LOG?: string | undefined;
  readonly BASTION_AUDIT_LEVEL?: string | undefined;
}

/** The host settings of one command, read once at the edge and frozen. */
export interface Settings {
  /** The config file ops pointed at (--config, BASTION_CONFIG): its values beat the environment. */
  readonly configFile?: Sourced<string>;
  /** The first system config file found ($XDG_CONFIG_HOME/bastion, /etc/bastion): below the environment. */
  readonly systemConfigFile?: string;
  /** The flags file ops pointed at (--flags-file, BASTION_FLAGS_FILE): it overrides FF_* variables. */
  readonly flagsFile?: Sourced<string>;
  /** The first system flags file found: FF_* variables override it. */
  readonly systemFlagsFile?: string;
  /** Where serve and mcp accept workspaces; absent: none configured, so they accept no workspace. */
  readonly workspaceRoots?: Sourced<readonly string[]>;
  readonly cursorAgentPath?: Sourced<string>;
  /** serve's bearer token file: --token-file, else BASTION_TOKEN_FILE. */
  readonly tokenFile?: Sourced<string>;
  /** BASTION_BACKEND: the backend when neither --backend nor FF_DEFAULT_BACKEND names one. */
  readonly backend?: Sourced<string>;
  /** Where the JSON-lines audit goes: a file, or stderr (warnings only unless a level is set). */
  readonly audit: { readonly destination: string; readonly level: string };
  /** Where the runtime keeps its state (never a workspace). */
  readonly state: RuntimeStateLocations;
}

export interface LoadSettingsOptions {
  readonly commandLine?: CommandLineSettings;
  readonly env: SettingsEnv;
  /** Only explicit relative paths (flags, BASTION_* variables) are resolved against it; nothing is looked up in it. */
  readonly cwd?: string;
  /** Default: systemConfigDirs(env). */
  readonly systemDirs?: readonly string[];
  readonly exists?: (path: string) => boolean;
  readonly uid?: number;
}

/**
 * Reads the command line, the environment and the config files into one frozen object. The
 * working directory is never searched: a repository's own `bastion.config.yaml` or
 * `bastion-flags.yaml` configures nothing unless ops name it.
 */
export function loadSettings(options: LoadSettingsOptions): Settings {
  const { env } = options;
  const cli = options.commandLine ?? {};
  const cwd = options.cwd ?? process.cwd();
  const exists = options.exists ?? existsSync;
  const dirs = options.systemDirs ?? systemConfigDirs(env);
  const explicitPath = (value: string) => resolve(cwd, value);

  const configFile = pick<string>([
    [cli.config, 'flag', '--config'],
    [env.BASTION_CONFIG, 'env', 'BASTION_CONFIG'],
  ]);
  const explicitConfig: BastionConfig = configFile ? readBastionConfigFile(explicitPath(configFile.value)) : {};
  const systemConfigFile = firstExisting(dirs, CONFIG_FILE_NAME, exists);
  const systemConfig: BastionConfig = systemConfigFile ? readBastionConfigFile(systemConfigFile) : {};
  const explicitConfigPath = configFile ? explicitPath(configFile.value) : undefined;

  const flagsFile = pick<string>([
    [cli.flagsFile, 'flag', '--flags-file'],
    [env.BASTION_FLAGS_FILE, 'env', 'BASTION_FLAGS_FILE'],
  ]);
  const systemFlagsFile = firstExisting(dirs, FLAGS_FILE_NAME, exists);

  const envRoots = env.BASTION_WORKSPACE_ROOTS?.split(delimiter).filter((p) => p.length > 0);
  const workspaceRoots = pick<readonly string[]>([
    [
      cli.workspaceRoots && cli.workspaceRoots.length > 0 ? cli.workspaceRoots.map(explicitPath) : undefined,
      'flag',
      '--workspace-root',
    ],
    [explicitConfig.workspaceRoots, 'explicit-file', explicitConfigPath ?? ''],
    // Relative entries in the variable stay relative, so workspace access refuses them by name.
    [envRoots && envRoots.length > 0 ? envRoots : undefined, 'env', 'BASTION_WORKSPACE_ROOTS'],
    [systemConfig.workspaceRoots, 'system-file', systemConfigFile ?? ''],
  ]);

  const cursorAgentPath = pick<string>([
    [cli.agentPath ? explicitPath(cli.agentPath) : undefined, 'flag', '--agent-path'],
    [explicitConfig.providers?.cursor?.agentPath, 'explicit-file', explicitConfigPath ?? ''],
    [env.BASTION_CURSOR_AGENT?.trim() || undefined, 'env', 'BASTION_CURSOR_AGENT'],
    [systemConfig.providers?.cursor?.agentPath, 'system-file', systemConfigFile ?? ''],
  ]);

  const tokenFile = pick<string>([
    [cli.tokenFile ? explicitPath(cli.tokenFile) : undefined, 'flag', '--token-file'],
    [env.BASTION_TOKEN_FILE ? explicitPath(env.BASTION_TOKEN_FILE) : undefined, 'env', 'BASTION_TOKEN_FILE'],
  ]);
  const backend = pick<string>([[env.BASTION_BACKEND, 'env', 'BASTION_BACKEND']]);
  const auditDest = env.BASTION_AUDIT_LOG && env.BASTION_AUDIT_LOG !== '-' ? env.BASTION_AUDIT_LOG : 'stderr';

  const settings: Settings = {
    ...(configFile && explicitConfigPath ? { configFile: { ...configFile, value: explicitConfigPath } } : {}),
    ...(systemConfigFile ? { systemConfigFile } : {}),
    ...(flagsFile ? { flagsFile: { ...flagsFile, value: explicitPath(flagsFile.value) } } : {}),
    ...(systemFlagsFile ? { systemFlagsFile } : {}),
    ...(workspaceRoots ? { workspaceRoots } : {}),
    ...(cursorAgentPath ? { cursorAgentPath } : {}),
    ...(tokenFile ? { tokenFile } : {}),
    ...(backend ? { backend } : {}),
    audit: { destination: auditDest, level: env.BASTION_AUDIT_LEVEL ?? (auditDest === 'stderr' ? 'warn' : 'info') },
    state: {
      uid: options.uid ?? process.getuid?.() ?? 0,
      tmpdir: tmpdir(),
      xdgRuntimeDir: env.XDG_RUNTIME_DIR,
      rootfsDir: env.BASTION_ROOTFS_DIR,
      bwrapTmpDir: env.BASTION_BWRAP_TMP_DIR,
    },
  };
  return deepFreeze(settings);
}

/** The settings as plain data with where each came from (for `bastion doctor` and logs). */
export function describeSettings(
  settings: Settings,
): Record<string, { value: unknown; source: SettingSource; from: string }> {
  const out: Record<string, { value: unknown; source: SettingSource; from: string }> = {};
  if (settings.configFile) out.configFile = settings.configFile;
  if (settings.systemConfigFile)
    out.systemConfigFile = { value: settings.systemConfigFile, source: 'system-file', from: settings.systemConfigFile };
  if (settings.flagsFile) out.flagsFile = settings.flagsFile;
  if (settings.systemFlagsFile)
    out.systemFlagsFile = { value: settings.systemFlagsFile, source: 'system-file', from: settings.systemFlagsFile };
  out.workspaceRoots = settings.workspaceRoots ?? { value: [], source: 'default', from: 'none configured' };
  if (settings.cursorAgentPath) out.cursorAgentPath = settings.cursorAgentPath;
  if (settings.tokenFile) out.tokenFile = settings.tokenFile;
  if (settings.backend) out.backend = settings.backend;
  return out;
}

function pick<T>(candidates: readonly [T | undefined, SettingSource, string][]): Sourced<T> | undefined {
  for (const [value, source, from] of candidates) {
    if (value === undefined || value === '') continue;
    return { value, source, from };
  }
  return undefined;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
