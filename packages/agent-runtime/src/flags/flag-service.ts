import { randomUUID } from 'node:crypto';
import {
  FirstMatchStrategy,
  MultiProvider,
  NOOP_PROVIDER,
  OpenFeature,
  type Client,
  type EvaluationContext,
  type EvaluationDetails,
} from '@openfeature/server-sdk';
import type { AuditLog } from '../audit/audit-log';
import type { ProviderGate } from './provider-gate';
import { EnvFlagProvider } from './env-flag-provider';
import { FileFlagProvider } from './file-flag-provider';
import {
  autofixFlagNames,
  FLAG_CATALOGUE,
  flagDefinition,
  PER_PROVIDER_FLAG,
  poolSizeFlagName,
  providerFlagName,
  type FlagValue,
} from './flag-catalogue';
import { DefaultValueProvider, UNPARSEABLE_REASON, type FlagSource } from './raw-value-provider';

export interface FlagEvaluation {
  readonly name: string;
  readonly value: FlagValue;
  /** Which source decided: an explicit flags file overrides the environment, which overrides a system flags file, then the default. */
  readonly source: FlagSource;
  /** Why the value is what it is, for people: where it was set, or why it fell back to the default. */
  readonly reason: string;
  /** The value as the source spelled it, when a source set one. */
  readonly raw?: string;
  /** A source set the flag to something that does not parse; the default is in force. */
  readonly unparseable?: boolean;
}

export interface FlagContext {
  readonly correlationId?: string;
}

export interface FlagServiceOptions {
  /** Default: process.env, read at each evaluation. */
  env?: NodeJS.ProcessEnv;
  /** The flags file ops pointed at (--flags-file, BASTION_FLAGS_FILE): it overrides the environment. */
  flagsFile?: string;
  /** A system flags file ($XDG_CONFIG_HOME/bastion/flags.yaml, /etc/bastion/flags.yaml): the environment overrides it. */
  systemFlagsFile?: string;
  audit?: AuditLog;
  debounceMs?: number;
  /**
   * provider id → the flag that unlocks applying its edits. Default: what each registered
   * provider's manifest declares (cursor: FF_CURSOR_AUTOFIX). A provider with none never applies.
   */
  autofixFlags?: Readonly<Record<string, string>>;
}

export interface FlagService extends AsyncDisposable {
  readonly flagsFile?: string;
  evaluate(name: string, context?: FlagContext): Promise<FlagEvaluation>;
  /**
   * The provider's autofix flag (its manifest's flags.autofix, e.g. FF_CURSOR_AUTOFIX): whether its
   * edits may be applied. Every evaluation is audited (flags.write_unlocked / flags.write_locked);
   * a provider that declares no such flag is always off.
   */
  autofix(providerId: string, context?: FlagContext): Promise<{ enabled: boolean; evaluation: FlagEvaluation }>;
  providerEnabled(providerId: string, context?: FlagContext): Promise<{ enabled: boolean; evaluation: FlagEvaluation }>;
  /** FF_POOL_SIZE_<PROVIDER>: warm sandboxes to keep ready for this provider's calls. */
  poolSize(providerId: string, context?: FlagContext): Promise<number>;
  /** FF_DEFAULT_BACKEND: the sandbox backend for calls that do not name one. */
  defaultBackend(context?: FlagContext): Promise<'docker' | 'bwrap'>;
  /** The router's gate: a provider switched off by its FF_PROVIDER_* flag is skipped. */
  readonly gate: ProviderGate;
  /** Every catalogue flag, plus provider switches set in a source. */
  list(context?: FlagContext): Promise<FlagEvaluation[]>;
  close(): Promise<void>;
}

/**
 * Feature flags through OpenFeature: a multi-provider asks the explicit flags file first, then the
 * environment, then a system flags file (below the environment: only a file ops point at may
 * override the operator's variables), then the catalogue default (first match wins), so ops can
 * flip a flag on a running service by editing the file they named even when the unit's
 * environment sets it. Nothing is cached at start-up: every evaluation asks
 * the providers, and the file provider re-checks the file.
 */
export function createFlagService(options: FlagServiceOptions = {}): FlagService {
  const env = options.env ?? process.env;
  const { audit } = options;
  const domain = `bastion-flags-${randomUUID()}`;
  const autofixFlags = options.autofixFlags ?? autofixFlagNames();
  const watchedFile = (file: string) => {
    const provider: FileFlagProvider = new FileFlagProvider(file, {
      ...(options.debounceMs !== undefined ? { debounceMs: options.debounceMs } : {}),
      onInvalid: (error) =>
        audit?.record({
          event: 'flags.file_invalid',
          correlationId: '-',
          stage: 'flags',
          file: provider.file,
          error: error.toInfo(),
        }),
      onReload: () =>
        audit?.record({ event: 'flags.file_reloaded', correlationId: '-', stage: 'flags', file: provider.file }),
    });
    return provider;
  };
  const fileProvider = options.flagsFile ? watchedFile(options.flagsFile) : undefined;
  const systemFileProvider = options.systemFlagsFile ? watchedFile(options.systemFlagsFile) : undefined;
  // Only a file ops named explicitly may beat the operator's environment; a system file is a
  // default the environment can still override.
  const sources = [
    ...(fileProvider ? [{ provider: fileProvider, name: 'file' }] : []),
    { provider: new EnvFlagProvider(env), name: 'env' },
    ...(systemFileProvider ? [{ provider: systemFileProvider, name: 'system-file' }] : []),
    { provider: new DefaultValueProvider(), name: 'default' },
  ];
  const fileProviders = [fileProvider, systemFileProvider].filter((p): p is FileFlagProvider => p !== undefined);
  const ready = OpenFeature.setProviderAndWait(domain, new MultiProvider(sources, new FirstMatchStrategy()));
  const client: Client = OpenFeature.getClient(domain);
  let closing: Promise<void> | undefined;

  async function evaluate(name: string, context: FlagContext = {}): Promise<FlagEvaluation> {
    const def = flagDefinition(name);
    await ready;
    const ctx: EvaluationContext = context.correlationId ? { targetingKey: context.correlationId } : {};
    let details: EvaluationDetails<FlagValue>;
    if (def.type === 'boolean') details = await client.getBooleanDetails(name, def.default, ctx);
    else if (def.type === 'int') details = await client.getNumberDetails(name, def.default, ctx);
    else details = await client.getStringDetails(name, def.default, ctx);
    const evaluation = toEvaluation(name, details, def.default);
    const correlationId = context.correlationId ?? '-';
    if (evaluation.unparseable) {
      audit?.record({
        event: 'flags.unparseable',
        correlationId,
        stage: 'flags',
        flag: name,
        source: evaluation.source,
        raw: evaluation.raw,
        value: evaluation.value,
        reason: evaluation.reason,
      });
    }
    if (def.type === 'boolean' && def.unlocksWrite) {
      audit?.record({
        event: evaluation.value === true ? 'flags.write_unlocked' : 'flags.write_locked',
        correlationId,
        stage: 'flags',
        flag: name,
        value: evaluation.value,
        source: evaluation.source,
        reason: evaluation.reason,
      });
    }
    return evaluation;
  }

  async function boolFlag(name: string, context?: FlagContext) {
    const evaluation = await evaluate(name, context);
    return { enabled: evaluation.value === true, evaluation };
  }

  const service: FlagService = {
    ...(fileProvider ? { flagsFile: fileProvider.file } : {}),
    evaluate,
    autofix: async (providerId, context) => {
      const name = autofixFlags[providerId];
      if (name === undefined) {
        const reason = `provider "${providerId}" declares no autofix flag: its edits are never applied`;
        return { enabled: false, evaluation: { name: '(none)', value: false, source: 'default', reason } };
      }
      return boolFlag(name, context);
    },
    providerEnabled: (providerId, context) => boolFlag(providerFlagName(providerId), context),
    poolSize: async (providerId, context) => (await evaluate(poolSizeFlagName(providerId), context)).value as number,
    defaultBackend: async (context) =>
      (await evaluate('FF_DEFAULT_BACKEND', context)).value === 'bwrap' ? 'bwrap' : 'docker',
    gate: async (providerId, { correlationId }) => {
      const { enabled, evaluation } = await boolFlag(providerFlagName(providerId), { correlationId });
      return { enabled, rule: `flags.${evaluation.name}`, reason: `${evaluation.name} is off (${evaluation.reason})` };
    },
    async list(context) {
      const names = new Set<string>([...Object.keys(FLAG_CATALOGUE), ...Object.values(autofixFlags)]);
      for (const key of Object.keys(env)) if (PER_PROVIDER_FLAG.test(key)) names.add(key);
      for (const provider of fileProviders)
        for (const key of Object.keys(await provider.contents())) if (PER_PROVIDER_FLAG.test(key)) names.add(key);
      const out: FlagEvaluation[] = [];
      for (const name of [...names].sort()) out.push(await evaluate(name, context));
      return out;
    },
    close() {
      closing ??= (async () => {
        await ready.catch(() => undefined);
        // Replacing the domain's provider closes the old one (and the file watcher with it).
        await OpenFeature.setProviderAndWait(domain, NOOP_PROVIDER);
        for (const provider of fileProviders) await provider.onClose();
      })();
      return closing;
    },
    [Symbol.asyncDispose]: () => service.close(),
  };
  return service;
}

function toEvaluation(name: string, details: EvaluationDetails<FlagValue>, fallback: FlagValue): FlagEvaluation {
  const meta = details.flagMetadata as Record<string, unknown>;
  const source = meta.source === 'file' || meta.source === 'env' ? meta.source : 'default';
  const where = typeof meta.where === 'string' ? meta.where : undefined;
  const raw = typeof meta.raw === 'string' ? meta.raw : undefined;
  if (source === 'default') {
    const why =
      details.errorCode && details.errorCode !== 'FLAG_NOT_FOUND'
        ? `evaluation failed (${details.errorCode}); default`
        : 'not set; default';
    return { name, value: details.errorCode ? fallback : details.value, source, reason: why };
  }
  if (details.reason === UNPARSEABLE_REASON) {
    return {
      name,
      value: fallback,
      source,
      reason: `unparseable value ${JSON.stringify(raw)} in ${where}: ${details.errorMessage ?? 'invalid'}; using the default (${String(fallback)})`,
      ...(raw !== undefined ? { raw } : {}),
      unparseable: true,
    };
  }
  return { name, value: details.value, source, reason: `set in ${where}`, ...(raw !== undefined ? { raw } : {}) };
}
