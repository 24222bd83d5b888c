import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A model API that takes every request and never answers: the call's own deadline has to end it. */
export interface StalledUpstream extends AsyncDisposable {
  readonly url: string;
  /** Requests that arrived (and are still waiting). */
  readonly received: () => number;
  close(): Promise<void>;
}

export async function startStallingUpstream(): Promise<StalledUpstream> {
  let received = 0;
  const server = http.createServer((req) => {
    received += 1;
    // Read the body so the client sees its request accepted, then say nothing.
    req.resume();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
    return closing;
  };
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: () => received,
    close,
    [Symbol.asyncDispose]: close,
  };
}
