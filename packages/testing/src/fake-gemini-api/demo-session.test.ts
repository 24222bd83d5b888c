import { demoSessionAnswer } from './fake-gemini-api';

const turn = (name: string, response: Record<string, unknown>) => ({
  role: 'user',
  parts: [{ functionResponse: { name, response } }],
});

describe('demo session (the fake model of npm run demo)', () => {
  it('has the CLI list the workspace, read the README it listed, try a web fetch, then summarise what it read', () => {
    const contents: unknown[] = [{ role: 'user', parts: [{ text: 'go' }] }];
    expect(demoSessionAnswer('go', { contents })).toEqual({
      parts: [{ functionCall: { name: 'list_directory', args: { dir_path: '/workspace' } } }],
    });
    contents.push(
      turn('list_directory', { output: 'Directory listing for /workspace:\n[DIR] src\nREADME.md (80 bytes)' }),
    );
    expect(demoSessionAnswer('go', { contents })).toMatchObject({
      parts: [{ functionCall: { name: 'read_file', args: { absolute_path: '/workspace/README.md' } } }],
    });
    contents.push(turn('read_file', { output: '# Greeter\n\nGreets users.\nDeploy token: ghp_x\n' }));
    expect(demoSessionAnswer('go', { contents })).toMatchObject({ parts: [{ functionCall: { name: 'web_fetch' } }] });
    contents.push(turn('web_fetch', { error: 'All requested URLs were skipped: [Blocked Host] https://example.com/' }));
    const summary = demoSessionAnswer('go', { contents }) as { text: string };
    expect(summary.text).toContain('2 entries: src, README.md');
    expect(summary.text).toContain('"Greeter"');
    expect(summary.text).toContain('[Blocked Host] https://example.com/');
    expect(summary.text).toContain('Deploy token: ghp_x');
  });

  it("answers the CLI's own URL-context request without a tool call, so the fetch falls to the sandbox", () => {
    expect(demoSessionAnswer('x', { contents: [], tools: [{ urlContext: {} }] })).toEqual({
      text: 'The URL could not be fetched.',
    });
  });
});
