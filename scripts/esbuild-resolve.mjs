// esbuild plugin shared by the CLI bundle and the bench runner: each npm dependency is resolved
// from the package that imports it and kept external as an absolute require, so a package gets
// the version it declared (policy's yaml@2, not a yaml@1 hoisted next to the bundle).
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

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

// Files of dockerode and docker-modem that Bastion never runs: dockerode's BuildKit session
// (gRPC and protobufjs, for image builds with a session) and docker-modem's SSH transport (ssh2,
// for DOCKER_HOST=ssh://). Both are required when dockerode loads, ~150 ms of every sandboxed CLI
// call on a 2-core host. Each exports one function, so a stand-in that requires the real file on
// its first call keeps the behaviour and drops the cost.
const DEFERRED_FILES = ['/node_modules/dockerode/lib/session.js', '/node_modules/docker-modem/lib/ssh.js'];

/**
 * For the CLI bundle: carries dockerode and docker-modem inside the bundle (their own npm
 * dependencies stay external, resolved where imported) and defers DEFERRED_FILES to first use.
 * Register it before resolveDependenciesWhereImported().
 */
export function deferUnusedDockerTransports() {
  return {
    name: 'defer-unused-docker-transports',
    setup(b) {
      b.onResolve({ filter: /^(dockerode|docker-modem)$/ }, (args) => {
        const req = createRequire(join(args.resolveDir, 'noop.js'));
        return { path: req.resolve(args.path) };
      });
      b.onResolve({ filter: /^\.\/(session|ssh)(\.js)?$/ }, (args) => {
        const target = resolve(args.resolveDir, args.path.endsWith('.js') ? args.path : `${args.path}.js`);
        if (!DEFERRED_FILES.some((suffix) => target.endsWith(suffix))) return undefined;
        return { path: target, namespace: 'deferred' };
      });
      // The stand-in's require of the real file stays a require, run on first call.
      b.onResolve({ filter: /^\//, namespace: 'deferred' }, (args) => ({ path: args.path, external: true }));
      b.onLoad({ filter: /.*/, namespace: 'deferred' }, (args) => ({
        contents: `'use strict';\nlet real;\nmodule.exports = function () {\n  real = real || require(${JSON.stringify(args.path)});\n  return real.apply(this, arguments);\n};\n`,
        loader: 'js',
      }));
    },
  };
}
