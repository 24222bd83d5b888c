import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

// The bwrap backend's python helpers (python because libseccomp's binding and ctypes need no
// native Node addon); this keeps them checked like the TypeScript around them.
describe.each(['libseccomp-compiler.py', '../test-support/seccomp-filter-dump.py'])('%s', (file) => {
  it('compiles with python3', () => {
    // compile() only: py_compile would leave a __pycache__ in the source tree.
    const check = 'import sys; compile(open(sys.argv[1]).read(), sys.argv[1], "exec")';
    const run = spawnSync('python3', ['-I', '-c', check, join(__dirname, file)], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
  });
});
