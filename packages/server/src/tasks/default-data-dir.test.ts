import { resolveDataDir, embeddedDatabaseFor } from './default-data-dir';

describe('the data directory of bastion serve without --database', () => {
  const home = () => '/home/ops';

  it('follows the documented precedence: --data-dir, then BASTION_DATA_DIR, then XDG_STATE_HOME, then ~/.local/state', () => {
    const env = { BASTION_DATA_DIR: '/srv/bastion', XDG_STATE_HOME: '/xdg/state' };
    expect(resolveDataDir('/flag/dir', env, home)).toEqual({ dir: '/flag/dir', source: '--data-dir' });
    expect(resolveDataDir(undefined, env, home)).toEqual({ dir: '/srv/bastion', source: 'BASTION_DATA_DIR' });
    expect(resolveDataDir(undefined, { XDG_STATE_HOME: '/xdg/state' }, home)).toEqual({
      dir: '/xdg/state/bastion',
      source: 'XDG_STATE_HOME',
    });
    expect(resolveDataDir(undefined, {}, home)).toEqual({ dir: '/home/ops/.local/state/bastion', source: 'default' });
  });

  it('ignores a relative XDG_STATE_HOME, as the XDG spec says, instead of writing below the current directory', () => {
    expect(resolveDataDir(undefined, { XDG_STATE_HOME: 'state' }, home).dir).toBe('/home/ops/.local/state/bastion');
  });

  it('resolves a relative --data-dir once, at start, so a later chdir cannot move the store', () => {
    expect(resolveDataDir('rel/dir', {}, home).dir).toBe(`${process.cwd()}/rel/dir`);
  });

  it('without any home directory says which option sets one instead of guessing', () => {
    expect(() => resolveDataDir(undefined, {}, () => '')).toThrow(/--data-dir/);
  });

  it('keeps the tasks in a directory of their own inside the data directory', () => {
    expect(embeddedDatabaseFor({ dir: '/srv/bastion', source: 'BASTION_DATA_DIR' })).toBe('pglite:/srv/bastion/tasks');
  });
});
