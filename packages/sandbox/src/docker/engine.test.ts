import { engineClientOptions } from './engine';

describe('engineClientOptions', () => {
  it('gives a Unix-socket engine an IPv4 literal as Host, which spares node its IPv6 check', () => {
    for (const env of [{}, { DOCKER_HOST: '' }, { DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }])
      expect(engineClientOptions(env)).toEqual({ headers: { host: '127.0.0.1' } });
  });

  it('leaves the Host of a TCP, TLS or SSH engine to the client: a proxy or certificate may depend on it', () => {
    for (const DOCKER_HOST of ['tcp://docker.internal:2376', 'ssh://ci@builder', 'docker.internal:2375'])
      expect(engineClientOptions({ DOCKER_HOST })).toEqual({});
  });
});
