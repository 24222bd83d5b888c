import type { SandboxAttachment } from '@bastion/sandbox';

/** The per-call attachments (workspace copy, gateway) of one run, closed together exactly once. */
export class SandboxAttachments {
  readonly #open: SandboxAttachment[] = [];

  add<T extends SandboxAttachment>(attachment: T): T {
    this.#open.push(attachment);
    return attachment;
  }

  /** Closes what is open; later calls (and the run's own `release()`) find nothing left to close. */
  readonly release = async (): Promise<void> => {
    const pending = this.#open.splice(0);
    await Promise.all(pending.map((a) => a.close()));
  };
}
