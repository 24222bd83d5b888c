import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { BastionError } from '@bastion/core';
import type { Policy } from './policy-schema';
import { parsePolicyText, readPolicyText } from './policy-file';
import { DEFAULT_POLICY } from './default-policy';
import { applyEnvironmentTightening, type Environment } from './environment-tightening';

export interface PolicyWatcher {
  close(): void;
}

export interface WatchPolicyFileOptions {
  onChange(policy: Policy): void;
  onError(error: BastionError): void;
  /** Quiet time before a change is read, so an editor's several writes count once. Default 50 ms. */
  debounceMs?: number;
  /** The text already applied, so an event that changes nothing is not reported as a change. */
  initialText?: string;
}

/**
 * Watches a policy file. The directory is watched rather than the file, so an atomic replace
 * (write a temp file, rename it over the old one) is seen too. A valid new version is handed to
 * `onChange`; an invalid one goes to `onError` and nothing changes.
 */
export function watchPolicyFile(path: string, options: WatchPolicyFileOptions): PolicyWatcher {
  const file = resolve(path);
  const name = basename(file);
  const debounceMs = options.debounceMs ?? 50;
  let timer: NodeJS.Timeout | undefined;
  let lastText = options.initialText;
  let closed = false;

  const reload = async () => {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      // Mid-rename the name can be briefly missing; the rename's own event brings us back.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      if (!closed)
        options.onError(
          new BastionError('INVALID_INPUT', `cannot read the policy file ${file}`, {
            cause: err,
            details: { source: file },
          }),
        );
      return;
    }
    if (closed || text === lastText) return;
    lastText = text;
    let policy: Policy;
    try {
      policy = parsePolicyText(text, file);
    } catch (err) {
      options.onError(BastionError.from(err, 'INVALID_INPUT'));
      return;
    }
    options.onChange(policy);
  };

  const schedule = () => {
    if (closed) return;
    clearTimeout(timer);
    timer = setTimeout(() => void reload(), debounceMs);
  };

  const watcher: FSWatcher = watch(dirname(file), { persistent: false }, (_event, changed) => {
    if (changed === null || changed === name) schedule();
  });
  watcher.on('error', (err) => {
    if (!closed)
      options.onError(
        new BastionError('INVALID_INPUT', `stopped watching ${file}`, { cause: err, details: { source: file } }),
      );
  });

  return {
    close() {
      closed = true;
      clearTimeout(timer);
      watcher.close();
    },
  };
}

export interface PolicyStoreOptions {
  /** Policy file; without one the embedded DEFAULT_POLICY is used. */
  path?: string;
  /** Where the ops knobs are read from (CONTAINER_MEMORY_LIMIT, …, SANDBOX_ENABLED); usually process.env. */
  env?: Environment;
  /** Watch the file and apply valid changes to the next call. Default true when a path is given. */
  watch?: boolean;
  onReload?(policy: Policy): void;
  onError?(error: BastionError): void;
}

export interface PolicyStore {
  /** The policy for the next call: the latest valid file, tightened by the environment. */
  current(): Policy;
  close(): void;
}

/**
 * Holds the policy in force. Loading throws INVALID_INPUT when the file is bad at start-up; later an
 * invalid edit is reported through `onError` and the previous policy stays.
 */
export async function createPolicyStore(options: PolicyStoreOptions = {}): Promise<PolicyStore> {
  const env = options.env ?? {};
  let base = DEFAULT_POLICY;
  let initialText: string | undefined;
  if (options.path !== undefined) {
    initialText = await readPolicyText(options.path);
    base = parsePolicyText(initialText, options.path);
  }
  let policy = applyEnvironmentTightening(base, env);
  let watcher: PolicyWatcher | undefined;

  if (options.path !== undefined && options.watch !== false) {
    watcher = watchPolicyFile(options.path, {
      initialText,
      onChange(next) {
        let tightened: Policy;
        try {
          tightened = applyEnvironmentTightening(next, env);
        } catch (err) {
          options.onError?.(BastionError.from(err, 'INVALID_INPUT'));
          return;
        }
        policy = tightened;
        options.onReload?.(policy);
      },
      onError(err) {
        options.onError?.(err);
      },
    });
  }
  return {
    current: () => policy,
    close: () => watcher?.close(),
  };
}
