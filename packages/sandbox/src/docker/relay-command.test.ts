import { SANDBOX_GATEWAY } from '../gateway-mount';
import { unwrapRelay } from './relay-command';

describe('relay command', () => {
  const relay = SANDBOX_GATEWAY.relay;

  it('turns a relay-wrapped command into the relay the supervisor runs and the command itself', () => {
    expect(
      unwrapRelay([relay, '--listen', '127.0.0.1:8080', '--socket', '/run/bastion/g.sock', '--', 'gemini', '-p']),
    ).toEqual({
      relay: { host: '127.0.0.1', port: 8080, socket: '/run/bastion/g.sock' },
      command: ['gemini', '-p'],
    });
  });

  it('leaves a plain command, a malformed address or a relay without a command unchanged', () => {
    const plain = ['echo', 'hi'];
    expect(unwrapRelay(plain)).toEqual({ command: plain });
    const noPort = [relay, '--listen', 'localhost', '--socket', '/s', '--', 'x'];
    expect(unwrapRelay(noPort)).toEqual({ command: noPort });
    const noCommand = [relay, '--listen', 'h:1', '--socket', '/s', '--'];
    expect(unwrapRelay(noCommand)).toEqual({ command: noCommand });
  });
});
