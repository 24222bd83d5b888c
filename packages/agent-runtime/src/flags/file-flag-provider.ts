import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { ProviderEvents } from '@openfeature/server-sdk';
import { BastionError } from '@bastion/core';
import { readFlagsFile, type FlagsFileDocument } from './flags-file';
import { RawValueProvider } from './raw-value-provider';

export interface FileFlagProviderOptions {
  /** Wait this long after the last change event before reloading (editors write in bursts). */
  debounceMs?: number;
  /** Told when a reload fails; the last good contents stay in force. */
  onInvalid?: (error: BastionError) => void;
  onReload?: (doc: FlagsFileDocument) => void;
}

interface Snapshot {
  readonly doc: FlagsFileDocument;
  /** Identity of the file the snapshot came from; a different one means it changed. */
  readonly stamp: string;
}

/**
 * Flags from a YAML/JSON file, reloaded when it changes. It watches the directory, not the file, so
 * an atomic replace (write temp + rename, as `bastion flags set` and most editors do) is seen; and
 * every evaluation re-checks the file's identity (inode, size, mtime), so the next call sees a
 * flip even before the debounced watcher fires. A file that fails to parse keeps the last good
 * contents in force (reported through `onInvalid`): a typo must not silently flip a flag.
 */
export class FileFlagProvider extends RawValueProvider {
  readonly metadata: { readonly name: string };
  protected readonly source = 'file' as const;
  readonly file: string;
  private snapshot: Snapshot = { doc: {}, stamp: 'none' };
  private lastError: BastionError | undefined;
  private watcher: FSWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;
  private closed = false;

  constructor(
    file: string,
    private readonly options: FileFlagProviderOptions = {},
  ) {
    super();
    this.file = resolve(file);
    this.metadata = { name: `bastion-file:${basename(this.file)}` };
  }

  async initialize(): Promise<void> {
    await this.refresh();
    this.startWatching();
  }

  /** The problem of the last reload, when the file in force is an older good one. */
  get problem(): BastionError | undefined {
    return this.lastError;
  }

  async contents(): Promise<FlagsFileDocument> {
    await this.refresh();
    return this.snapshot.doc;
  }

  protected async lookup(flag: string) {
    await this.refresh();
    const raw = this.snapshot.doc[flag];
    return raw === undefined || raw === null ? undefined : { raw, where: this.file };
  }

  /** Reloads when the file's identity changed since the snapshot. Concurrent callers share one load. */
  async refresh(): Promise<void> {
    const current = await this.stamp();
    if (current === this.snapshot.stamp) return;
    this.loading ??= this.load(current).finally(() => {
      this.loading = undefined;
    });
    await this.loading;
  }

  private async stamp(): Promise<string> {
    try {
      const s = await stat(this.file, { bigint: true });
      return `${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
      throw err;
    }
  }

  private async load(stamp: string): Promise<void> {
    try {
      const doc = stamp === 'none' ? {} : await readFlagsFile(this.file);
      this.snapshot = { doc, stamp };
      this.lastError = undefined;
      this.options.onReload?.(doc);
      this.events.emit(ProviderEvents.ConfigurationChanged, { message: `reloaded ${this.file}` });
    } catch (err) {
      const error = BastionError.from(err, 'INVALID_INPUT');
      // Remember the stamp so one bad version is reported once, not at every evaluation.
      this.snapshot = { doc: this.snapshot.doc, stamp };
      this.lastError = error;
      this.options.onInvalid?.(error);
    }
  }

  private startWatching(): void {
    if (this.closed || this.watcher) return;
    try {
      this.watcher = watch(dirname(this.file), { persistent: false }, (_event, name) => {
        if (name !== null && name !== basename(this.file)) return;
        clearTimeout(this.timer);
        this.timer = setTimeout(() => {
          this.refresh().catch((err: unknown) => this.options.onInvalid?.(BastionError.from(err, 'INVALID_INPUT')));
        }, this.options.debounceMs ?? 50);
        this.timer.unref();
      });
      this.watcher.on('error', (err) =>
        this.options.onInvalid?.(
          BastionError.from(
            err,
            'INVALID_INPUT',
            `watching ${this.file} failed; flags are still re-read at each evaluation`,
          ),
        ),
      );
    } catch (err) {
      // No directory to watch yet: evaluations still re-check the file, so flips are not missed.
      this.options.onInvalid?.(
        BastionError.from(
          err,
          'INVALID_INPUT',
          `cannot watch ${dirname(this.file)}; flags are still re-read at each evaluation`,
        ),
      );
    }
  }

  async onClose(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.watcher?.close();
    this.watcher = undefined;
  }
}
