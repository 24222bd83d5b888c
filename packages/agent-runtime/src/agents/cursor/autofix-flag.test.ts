import { envAutofixFlag, parseAutofixValue } from './autofix-flag';

describe('FF_CURSOR_AUTOFIX', () => {
  it.each(['1', 'true', 'TRUE', 'yes', 'On', ' on '])('%j turns autofix on', (raw) => {
    expect(parseAutofixValue(raw)).toMatchObject({ enabled: true, raw });
  });

  it.each(['0', 'false', 'no', 'off', ''])('%j turns it off', (raw) => {
    expect(parseAutofixValue(raw).enabled).toBe(false);
  });

  it.each(['maybe', '2', 'tru', 'enable', '{"on":true}'])('unparseable %j stays off and says so', (raw) => {
    expect(parseAutofixValue(raw)).toMatchObject({ enabled: false, reason: expect.stringContaining('not a boolean') });
  });

  it('is read at call time, not when the binding is made', async () => {
    const env: NodeJS.ProcessEnv = {};
    const flag = envAutofixFlag(env);
    expect((await flag({ correlationId: 'c', provider: 'cursor' })).enabled).toBe(false);
    env.FF_CURSOR_AUTOFIX = 'yes';
    expect((await flag({ correlationId: 'c', provider: 'cursor' })).enabled).toBe(true);
  });
});
