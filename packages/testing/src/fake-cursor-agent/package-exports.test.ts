// eslint-disable-next-line @nx/enforce-module-boundaries -- this test checks the package's public surface as a user imports it
import * as testing from '@bastion/testing';

describe('@bastion/testing exports the test doubles', () => {
  it('exposes the fake Gemini API and the fake cursor-agent', () => {
    expect(typeof testing.startFakeGeminiApi).toBe('function');
    expect(testing.FAKE_GEMINI_API_BIN_PATH).toMatch(/bin\/fake-gemini-api\.cjs$/);
    expect(testing.FAKE_CURSOR_AGENT_PATH).toMatch(/bin\/cursor-agent$/);
    expect(typeof testing.fakeCursorScript).toBe('function');
    expect(typeof testing.FakeCursorScript.parse).toBe('function');
  });
});
