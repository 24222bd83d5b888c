// Test-only helpers, imported as @bastion/sandbox/test-support; never part of the package's public index.
export * from './bpf-simulator';
export * from './bwrap-suite';
export * from './docker-suite';
export * from './seccomp-filter-dump';
export * from './seccomp-reference';
export * from './bwrap-raw';
export * from './engine-floor';
