import { scrubResponseHeaders } from './response-headers';

const KEY = 'AIzaSy-real-key-0123456789abcdefghijkl';

describe('scrubResponseHeaders', () => {
  it('drops credential headers, upstream cookies and anything carrying a known secret', () => {
    const { headers, dropped } = scrubResponseHeaders(
      {
        'content-type': 'application/json',
        'x-goog-api-key': KEY,
        authorization: 'Bearer x',
        'set-cookie': ['a=b', 'c=d'],
        'x-echo': `key=${KEY}`,
        'x-echo-lower': KEY.toLowerCase(),
        [`x-${KEY.toLowerCase()}`]: '1',
        connection: 'keep-alive',
        'transfer-encoding': 'chunked',
      },
      [KEY],
      { dropCredentials: true },
    );
    expect(headers).toEqual({ 'content-type': 'application/json' });
    expect(dropped.sort()).toEqual(
      [
        '(a header named after a secret)',
        'authorization',
        'set-cookie',
        'x-echo',
        'x-echo-lower',
        'x-goog-api-key',
      ].sort(),
    );
    expect(JSON.stringify(dropped).toLowerCase()).not.toContain(KEY.toLowerCase());
  });

  it('keeps a site its own cookies when only secrets are scrubbed', () => {
    const { headers } = scrubResponseHeaders({ 'set-cookie': ['s=1'], 'x-leak': KEY }, [KEY], {
      dropCredentials: false,
    });
    expect(headers).toEqual({ 'set-cookie': ['s=1'] });
  });
});
