import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadBastionConfig } from './bastion-config';

describe('bastion config file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bastion-config-'));

  it('is optional: no file, no settings', () => {
    expect(loadBastionConfig({}, dir)).toEqual({});
  });

  it('reads providers.cursor.agentPath from ./bastion.config.yaml', () => {
    writeFileSync(join(dir, 'bastion.config.yaml'), 'providers:\n  cursor:\n    agentPath: /opt/cursor/cursor-agent\n');
    expect(loadBastionConfig({}, dir).providers?.cursor?.agentPath).toBe('/opt/cursor/cursor-agent');
  });

  it('rejects unknown keys and a missing explicit file with INVALID_INPUT', () => {
    writeFileSync(join(dir, 'bad.yaml'), 'providers:\n  cursor:\n    agentpath: typo\n');
    expect(() => loadBastionConfig({ BASTION_CONFIG: 'bad.yaml' }, dir)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
    expect(() => loadBastionConfig({ BASTION_CONFIG: 'nope.yaml' }, dir)).toThrow(expect.objectContaining({ code: 'INVALID_INPUT' }));
  });
});
