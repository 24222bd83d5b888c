import net from 'node:net';
import fc from 'fast-check';

/**
 * Raw request bytes an attacker inside the sandbox can send the egress gateway: CONNECT targets
 * with ports outside 1-65535 and hosts that are not hosts, absolute and origin-form targets with
 * garbage, methods Node accepts and ones it does not, heads that are too big, too many lines,
 * invalid bytes, missing terminators and lying framing. `sitePort` is a harmless local site, the
 * only real destination a generated request may reach.
 */
export function malformedRequest(sitePort: number): fc.Arbitrary<Buffer> {
  const port = fc.oneof(
    fc.constantFrom('0', '65536', '99999', '-1', '', '1e3', '0x50', '443 ', '4294967297', String(sitePort)),
    fc.integer({ min: -70_000, max: 200_000 }).map(String),
    fc.string({ maxLength: 8 }),
  );
  const host = fc.oneof(
    fc.constantFrom(
      '127.0.0.1',
      'allowed.test',
      'denied.test',
      '[::1]',
      '[zz',
      '',
      'a..b',
      '-x.test',
      'x'.repeat(300),
      'user@allowed.test',
      '%00',
      '\u0000',
    ),
    fc.domain(),
    fc.string({ maxLength: 30 }),
    fc.string({ unit: 'binary', maxLength: 20 }),
  );
  const method = fc.oneof(
    fc.constantFrom(
      'GET',
      'POST',
      'CONNECT',
      'TRACE',
      'PUT',
      'DELETE',
      'OPTIONS',
      'PATCH',
      'HEAD',
      'PROPFIND',
      'G ET',
      '',
      'get',
    ),
    fc.string({ maxLength: 10 }),
  );
  const target = fc.oneof(
    fc.tuple(host, port).map(([h, p]) => `${h}:${p}`),
    fc
      .tuple(fc.constantFrom('http', 'https', 'ftp', 'gopher', 'file', ''), host, port, fc.string({ maxLength: 30 }))
      .map(([s, h, p, path]) => `${s}://${h}:${p}/${path}`),
    fc
      .tuple(
        fc.constantFrom('/v1beta/models/', '/v1/', '/', '//', '/upload/v1beta/', '/../'),
        fc.string({ maxLength: 40 }),
      )
      .map(([a, b]) => a + b),
    fc.string({ unit: 'binary', maxLength: 60 }),
  );
  const header = fc.oneof(
    fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 40 })).map(([k, v]) => `${k}: ${v}`),
    fc.constantFrom(
      'host: 127.0.0.1',
      'content-length: 5',
      'content-length: -1',
      'content-length: 99999999999',
      'transfer-encoding: chunked',
      'transfer-encoding: gzip, chunked',
      'connection: upgrade',
      'upgrade: websocket',
      'expect: 100-continue',
      'x-goog-api-key: x',
    ),
    fc.constant(`x-big: ${'a'.repeat(17_000)}`),
    fc.string({ unit: 'binary', maxLength: 40 }),
  );
  const headers = fc.oneof(
    fc.array(header, { maxLength: 8 }),
    fc.constant(Array.from({ length: 150 }, (_, i) => `x-${i}: ${i}`)),
  );
  const ending = fc.constantFrom(
    '\r\n\r\n',
    '\r\n',
    '',
    '\n\n',
    '\r\n\r\nhello',
    '\r\n\r\n0\r\n\r\n',
    '\r\n\r\nzz\r\n',
  );
  const version = fc.constantFrom('HTTP/1.1', 'HTTP/1.0', 'HTTP/2.0', 'HTTP/9', '', 'http/1.1');
  const request = fc
    .tuple(method, target, version, headers, ending)
    .map(([m, t, v, hs, end]) => Buffer.from(`${m} ${t} ${v}\r\n${hs.join('\r\n')}${end}`, 'utf8'));
  return fc.oneof(
    { weight: 8, arbitrary: request },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 200 }).map((a) => Buffer.from(a)) },
  );
}

/**
 * Writes `bytes` to the socket, half-closes, and resolves with whatever came back once the server
 * closed (or after `timeoutMs`, when the connection is cut: a gateway that holds it open is not a
 * failure, one that crashes is).
 */
export function sendRaw(socketPath: string, bytes: Buffer, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const socket = net.connect(socketPath);
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, timeoutMs);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', done);
    socket.on('close', done);
    socket.end(bytes);
  });
}
