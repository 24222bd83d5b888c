/**
 * Until bwrap reports the sandbox's pid on its status fd, what arrives on stderr may be bwrap's own
 * complaint, not the command's: it is held back, and released to the command's stderr the moment
 * the sandbox is known to have started. If it never starts, the held text says why.
 */
export class StartupGate {
  #started = false;
  #status = '';
  readonly #early: Buffer[] = [];

  constructor(
    private readonly onStart: () => void,
    private readonly forwardStderr: (chunk: Buffer) => void,
  ) {}

  get started(): boolean {
    return this.#started;
  }

  /** A chunk of bwrap's --json-status-fd output. */
  status(chunk: Buffer): void {
    this.#status += chunk.toString('utf8');
    if (this.#started || !/"child-pid"/.test(this.#status)) return;
    this.#started = true;
    this.onStart();
    for (const b of this.#early.splice(0)) this.forwardStderr(b);
  }

  stderr(chunk: Buffer): void {
    if (this.#started) this.forwardStderr(chunk);
    else this.#early.push(chunk);
  }

  /** The first line bwrap wrote before the sandbox started: the reason it did not. */
  earlyReason(): string {
    return Buffer.concat(this.#early).toString('utf8').trim().split('\n')[0] ?? '';
  }
}
