// esbuild plugin shared by the CLI bundle and the bench runner: each npm dependency is resolved
// from the package that imports it and kept external as an absolute require, so a package gets
// the version it declared (policy's yaml@2, not a yaml@1 hoisted next to the bundle).
import { createRequire } from 'node:module';
import { join } from 'node:path';

export function resolveDependenciesWhereImported() {
  return {
    name: 'resolve-where-imported',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('@bastion/') || args.path.startsWith('node:')) return undefined;
        const req = createRequire(join(args.resolveDir, 'noop.js'));
        try {
          return { path: req.resolve(args.path), external: true };
        } catch {
          // Node built-ins without the node: prefix, or optional deps that are absent.
          return { path: args.path, external: true };
        }
      });
    },
  };
}
