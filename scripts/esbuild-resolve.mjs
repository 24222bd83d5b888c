// esbuild plugin shared by the CLI bundle and the bench runner: each npm dependency is resolved
// from the package that imports it and kept external as an absolute require, so a package gets
// the version it declared (policy's yaml@2, not a yaml@1 hoisted next to the bundle).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { dirname, join, resolve } from 'node:path';

export function resolveDependenciesWhereImported() {
  return {
    name: 'resolve-where-imported',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (args.path.startsWith('@bastion/') || args.path.startsWith('node:')) return undefined;
        if (args.pluginData === 'bundled') return undefined; // bundleDependencies() asked esbuild to resolve it
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

/**
 * For the CLI bundle: npm packages carried inside the bundle (ESM sources, so esbuild drops what
 * is never used) instead of required from node_modules. zod is loaded by every command that
 * validates anything: required, it costs ~30 ms per call in module resolution and compiling
 * ~100 files; bundled, it shares the runner's one file and compile-cache entry. zod's
 * `locales` namespace (40 translations of its error messages, reachable only as `z.locales`,
 * which Bastion never reads; English is configured separately) becomes an empty module.
 * commander and pino are bundled for the same reason (~5 and ~17 ms per call). A bundled package
 * sees the bundle's __dirname: pino's transports (worker files found next to pino.js), which
 * Bastion does not use (its audit log writes to a pino.destination), would not work bundled.
 * Register it before resolveDependenciesWhereImported(), which would make them external.
 */
export function bundleDependencies(packages) {
  const inPackage = (importer, name) => importer.includes(`/node_modules/${name}/`);
  const bundled = new Set(packages);
  const entries = new Map(); // resolved entry file -> package name
  return {
    name: 'bundle-dependencies',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, async (args) => {
        const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
        if (args.pluginData === 'bundled' || args.path.startsWith('node:')) return undefined;
        // A bundled package's own dependencies come with it (pino's sonic-boom, and its atomic-sleep…).
        const fromBundled = [...bundled].some((p) => inPackage(args.importer, p)) && !isBuiltin(name);
        if (!packages.includes(name) && !fromBundled) return undefined;
        bundled.add(name);
        // Resolved by esbuild from the importer, as node would: each importer gets its declared version.
        const result = await b.resolve(args.path, {
          kind: args.kind,
          resolveDir: args.resolveDir,
          pluginData: 'bundled',
        });
        if (args.path === name && !result.external) entries.set(result.path, name);
        return result;
      });
      // Each bundled package's entry module notes its name in a global set when it runs, as
      // require() of a package from node_modules shows in node's module cache: what start-up tests
      // read to prove a command never initialises a package it does not need.
      b.onLoad({ filter: /\.[cm]?js$/ }, (args) => {
        const name = entries.get(args.path);
        if (name === undefined) return undefined;
        const marker = `;(globalThis[Symbol.for('bastion.bundled-packages')] ??= new Set()).add(${JSON.stringify(name)});\n`;
        return {
          contents: readFileSync(args.path, 'utf8') + '\n' + marker,
          loader: 'js',
          resolveDir: dirname(args.path),
        };
      });
      b.onResolve({ filter: /locales\/index\.js$/ }, (args) =>
        inPackage(args.importer, 'zod') ? { path: 'zod-locales', namespace: 'empty-module' } : undefined,
      );
      b.onLoad({ filter: /.*/, namespace: 'empty-module' }, () => ({ contents: 'export {};', loader: 'js' }));
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
      // Our sources only ever `new Dockerode()` inside functions (plus types), so the bwrap path,
      // --version and the daemon client need none of dockerode, docker-modem, readable-stream or
      // debug (~20-30 ms per call): their default import becomes a stand-in whose `default`
      // requires dockerode on first read (esbuild's __toESM copies it as a getter, not a value).
      b.onResolve({ filter: /^dockerode$/ }, (args) => {
        if (args.kind !== 'import-statement' || args.resolveDir.includes('/node_modules/')) return undefined;
        return { path: args.path, namespace: 'deferred-default', pluginData: args.resolveDir };
      });
      b.onLoad({ filter: /.*/, namespace: 'deferred-default' }, (args) => ({
        contents: `'use strict';\nlet real;\nmodule.exports = {\n  __esModule: true,\n  get default() {\n    return (real = real || require(${JSON.stringify(args.path)}));\n  },\n};\n`,
        loader: 'js',
        resolveDir: args.pluginData,
      }));
      b.onResolve({ filter: /^(dockerode|docker-modem)$/ }, (args) => {
        const req = createRequire(join(args.resolveDir, 'noop.js'));
        return { path: req.resolve(args.path) };
      });
      b.onResolve({ filter: /^\.\/(session|ssh)(\.js)?$/ }, (args) => {
        const target = resolve(args.resolveDir, args.path.endsWith('.js') ? args.path : `${args.path}.js`);
        if (!DEFERRED_FILES.some((suffix) => target.endsWith(suffix))) return undefined;
        return { path: target, namespace: 'deferred' };
      });
      // dockerode's util.js requires tar-fs (with tar-stream, ~10-20 ms) at load for image
      // builds from a context directory, which Bastion never does: an object stand-in.
      b.onResolve({ filter: /^tar-fs$/ }, (args) => {
        if (!args.importer.endsWith('/node_modules/dockerode/lib/util.js')) return undefined;
        return { path: createRequire(args.importer).resolve(args.path), namespace: 'deferred-object' };
      });
      b.onLoad({ filter: /.*/, namespace: 'deferred-object' }, (args) => ({
        contents: lazyModuleSource(args.path),
        loader: 'js',
      }));
      // docker-modem's http.js requires `https` at load for https:// engines (and with it tls and
      // crypto, ~10 ms); Bastion talks to the engine's unix socket over plain http. Its
      // follow-redirects wrapper only keeps a reference to the module until an https request.
      b.onResolve({ filter: /^https$/ }, (args) => {
        if (!args.importer.endsWith('/node_modules/docker-modem/lib/http.js')) return undefined;
        return { path: 'https', namespace: 'deferred-object' };
      });
      // modem.js requires http_duplex.js (and with it the readable-stream package, ~9 ms) at load
      // for the one call that streams stdin into a container: the same stand-in, whose first
      // `new HttpDuplex(req, res)` requires it.
      b.onResolve({ filter: /^\.\/http_duplex$/ }, (args) => {
        if (!args.importer.endsWith('/node_modules/docker-modem/lib/modem.js')) return undefined;
        return { path: resolve(args.resolveDir, 'http_duplex.js'), namespace: 'deferred' };
      });
      b.onResolve({ filter: /^https$/, namespace: 'deferred-object' }, () => ({ path: 'https', external: true }));
      // The stand-in's require of the real file stays a require, run on first call.
      b.onResolve({ filter: /^\//, namespace: 'deferred' }, (args) => ({ path: args.path, external: true }));
      b.onResolve({ filter: /^\//, namespace: 'deferred-object' }, (args) => ({ path: args.path, external: true }));
      // A function stand-in: called, it calls the real export; constructed (new), it constructs it.
      b.onLoad({ filter: /.*/, namespace: 'deferred' }, (args) => ({
        contents: `'use strict';\nlet real;\nmodule.exports = function deferred(...args) {\n  real = real || require(${JSON.stringify(args.path)});\n  return new.target ? new real(...args) : real.apply(this, args);\n};\n`,
        loader: 'js',
      }));
    },
  };
}

/**
 * For the CLI bundle: npm packages our sources import by name (`import { parse } from 'yaml'`)
 * and use only inside functions load on their first use instead of at start-up. esbuild keeps a
 * named import of an external package as `pkg.name` looked up at each use, so the external can
 * be a stand-in (written to `shimDir`) whose properties require the real package (resolved where
 * imported, as above) when first read. A package with a default import or used at module top
 * level gains nothing here and must not be listed.
 */
export function deferNamedImports(packages, shimDir) {
  return {
    name: 'defer-named-imports',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        if (
          !packages.includes(args.path) ||
          args.kind !== 'import-statement' ||
          args.resolveDir.includes('/node_modules/')
        )
          return undefined;
        const real = createRequire(join(args.resolveDir, 'noop.js')).resolve(args.path);
        const shim = join(
          shimDir,
          `${args.path.replace(/[^\w.-]/g, '_')}-${createHash('sha256').update(real).digest('hex').slice(0, 8)}.cjs`,
        );
        mkdirSync(shimDir, { recursive: true });
        writeFileSync(shim, lazyModuleSource(real));
        return { path: shim, external: true };
      });
    },
  };
}

function lazyModuleSource(real) {
  return `'use strict';
// Generated by scripts/esbuild-resolve.mjs: ${real} is required on first use.
let real;
const load = () => (real = real || require(${JSON.stringify(real)}));
module.exports = new Proxy({}, {
  get: (_, key) => load()[key],
  has: (_, key) => key in load(),
  ownKeys: () => Reflect.ownKeys(load()),
  getOwnPropertyDescriptor: (_, key) => {
    const d = Reflect.getOwnPropertyDescriptor(load(), key);
    return d && { ...d, configurable: true };
  },
});
`;
}

/**
 * Imports named from a workspace package (`import { a } from '@bastion/sandbox'`) are bundled from
 * the module that defines each name, not through the package's index. The CLI runner is lazy
 * (commands load on use), so esbuild initialises an index with every module it re-exports: one
 * `loadSettings` from @bastion/agent-runtime would start dockerode, pino and OpenFeature on every
 * command. Names the map cannot place keep their import from the index.
 * @param {string} root repository root
 */
export function importFromDefiningModule(root) {
  const texts = new Map();
  const read = (file) => {
    if (!texts.has(file)) texts.set(file, readFileSync(file, 'utf8'));
    return texts.get(file);
  };
  const resolveSpec = (from, spec) => {
    if (spec.startsWith('@bastion/')) return join(root, 'packages', spec.slice('@bastion/'.length), 'src/index.ts');
    const base = resolve(dirname(from), spec);
    return [`${base}.ts`, join(base, 'index.ts')].find((f) => existsSync(f));
  };
  const defining = (file, name, depth = 0) => {
    if (!file || depth > 8) return undefined;
    const text = read(file);
    if (
      new RegExp(
        `export\\s+(?:declare\\s+)?(?:async\\s+)?(?:abstract\\s+)?(?:function\\*?|const|let|var|class|enum)\\s+${name}\\b`,
      ).test(text)
    )
      return { file, name };
    // `import { x } from …; export { x };`: the name is this module's to give.
    for (const m of text.matchAll(/export\s*\{([^}]*)\}\s*;/g))
      if (m[1].split(',').some((p) => p.trim() === name)) return { file, name };
    for (const m of text.matchAll(/export\s*\{([^}]*)\}\s*from\s*'([^']+)'/g)) {
      for (const part of m[1].split(',')) {
        const [orig, alias = orig] = part
          .trim()
          .replace(/^type\s+/, '')
          .split(/\s+as\s+/);
        if (alias === name && !part.trim().startsWith('type '))
          return defining(resolveSpec(file, m[2]), orig, depth + 1);
      }
    }
    for (const m of text.matchAll(/export\s*\*\s*from\s*'([^']+)'/g)) {
      const found = defining(resolveSpec(file, m[1]), name, depth + 1);
      if (found) return found;
    }
    return undefined;
  };
  const statement = /(import|export)\s*\{([^}]*)\}\s*from\s*'(@bastion\/[a-z-]+)';?/g;
  return {
    name: 'import-from-defining-module',
    setup(b) {
      b.onLoad({ filter: /[\\/]packages[\\/][a-z-]+[\\/]src[\\/].*\.ts$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        const contents = text.replace(statement, (whole, kind, list, spec) => {
          const byFile = new Map();
          const rest = [];
          for (const raw of list
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)) {
            if (raw.startsWith('type ')) continue; // erased anyway
            const [orig, local = orig] = raw.split(/\s+as\s+/);
            const found = defining(resolveSpec(args.path, spec), orig);
            if (!found) rest.push(raw);
            else
              byFile.set(found.file, [
                ...(byFile.get(found.file) ?? []),
                found.name === local ? local : `${found.name} as ${local}`,
              ]);
          }
          const lines = [...byFile].map(
            ([file, names]) => `${kind} { ${names.join(', ')} } from ${JSON.stringify(file)};`,
          );
          if (rest.length > 0) lines.push(`${kind} { ${rest.join(', ')} } from '${spec}';`);
          return lines.join('\n');
        });
        return { contents, loader: 'ts', resolveDir: dirname(args.path) };
      });
    },
  };
}
