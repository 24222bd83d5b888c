import { envAutofixFlag, parseAutofixValue } from './autofix-flag';

describe("a provider's autofix flag", () => {
  it.each(['1', 'true', 'TRUE', 'yes', 'On', ' on '])('%j turns autofix on', (raw) => {
    expect(parseAutofixValue('FF_CURSOR_AUTOFIX', raw)).toMatchObject({ enabled: true, raw });
  });

  it.each(['0', 'false', 'no', 'off', ''])('%j turns it off', (raw) => {
    expect(parseAutofixValue('FF_CURSOR_AUTOFIX', raw).enabled).toBe(false);
  });

  it.each(['maybe', '2', 'tru', 'enable', '{"on":true}'])(
    'unparseable %j stays off and says so, naming the flag',
    (raw) => {
      expect(parseAutofixValue('FF_CURSOR_AUTOFIX', raw)).toMatchObject({
        enabled: false,
        reason: expect.stringMatching(/^FF_CURSOR_AUTOFIX=.* is not a boolean/),
      });
    },
  );

  it('is read at call time, not when the binding is made', async () => {
    const env: NodeJS.ProcessEnv = {};
    const flag = envAutofixFlag(env);
    expect((await flag({ correlationId: 'c', provider: 'cursor', flag: 'FF_CURSOR_AUTOFIX' })).enabled).toBe(false);
    env.FF_CURSOR_AUTOFIX = 'yes';
    expect((await flag({ correlationId: 'c', provider: 'cursor', flag: 'FF_CURSOR_AUTOFIX' })).enabled).toBe(true);
  });

  it("reads the flag each provider declares, so one provider's switch never unlocks another", async () => {
    const flag = envAutofixFlag({ FF_CURSOR_AUTOFIX: '1' });
    expect((await flag({ correlationId: 'c', provider: 'cursor', flag: 'FF_CURSOR_AUTOFIX' })).enabled).toBe(true);
    expect(await flag({ correlationId: 'c', provider: 'claude-code', flag: 'FF_CLAUDE_CODE_AUTOFIX' })).toEqual({
      enabled: false,
      reason: 'FF_CLAUDE_CODE_AUTOFIX is not set: autofix is off (dry-run)',
    });
  });
});
