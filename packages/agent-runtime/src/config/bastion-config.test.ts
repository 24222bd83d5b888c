import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readBastionConfigFile } from './bastion-config';

describe('bastion config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-config-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("reads providers.cursor.agentPath and workspaceRoots, relative entries against the file's directory", () => {
    const file = join(dir, 'config.yaml');
    writeFileSync(
      file,
      'workspaceRoots: [/srv/work, projects]\nproviders:\n  cursor:\n    agentPath: /opt/cursor/cursor-agent\n',
    );
    expect(readBastionConfigFile(file)).toEqual({
      workspaceRoots: ['/srv/work', join(dir, 'projects')],
      providers: { cursor: { agentPath: '/opt/cursor/cursor-agent' } },
    });
  });

  it('rejects unknown keys, bad YAML and a missing file with INVALID_INPUT', () => {
    writeFileSync(join(dir, 'bad.yaml'), 'providers:\n  cursor:\n    agentpath: typo\n');
    writeFileSync(join(dir, 'broken.yaml'), 'a: [\n');
    expect(() => readBastionConfigFile(join(dir, 'bad.yaml'))).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', message: expect.stringContaining('agentpath') }),
    );
    expect(() => readBastionConfigFile(join(dir, 'broken.yaml'))).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT' }),
    );
    expect(() => readBastionConfigFile(join(dir, 'nope.yaml'))).toThrow(
      expect.objectContaining({ code: 'INVALID_INPUT', retryable: false }),
    );
  });
});
