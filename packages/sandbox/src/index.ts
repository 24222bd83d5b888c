export type { EgressProvisioner, WorkspaceProvisioner, SandboxAttachment } from './sandbox-extensions';
export type { Executor, ExecutorRequest, ExecutorHooks, ExecutorOutcome, Mount, BackendName } from './executor';
export { createDockerExecutor, type DockerExecutorOptions } from './docker/docker-executor';
export { containerCreateOptions, SANDBOX_USER } from './docker/container-config';
export { SANDBOX_UID } from './sandbox-user';
export { LABELS, containerLabels, newSessionIdentity, type SessionIdentity } from './labels';
export { SANDBOX_IMAGE, SANDBOX_RECIPE, imageOf, providerImage, type ImageOverrides } from './images';
export { createWarmPoolExecutor, type WarmPoolExecutor, type WarmPoolOptions } from './docker/warm-pool';
export {
  createBwrapExecutor,
  bwrapAvailability,
  type BwrapExecutor,
  type BwrapExecutorOptions,
} from './bwrap/bwrap-executor';
export { compileWithLibseccomp, type CompiledSeccomp } from './bwrap/libseccomp-compiler';
export { seccompProgram, type SeccompCacheOptions } from './bwrap/seccomp-program-cache';
export { SECCOMP_PROFILE, seccompProfileSchema, type SeccompProfile } from './seccomp-profile';
export { resolveRootfs, DEFAULT_ROOTFS_DIR, type Rootfs } from './bwrap/rootfs';
export { detectCgroupLayout, listCallGroups, type CgroupLayout, type CallGroupEntry } from './bwrap/cgroups';
export { listCallTmpfs, type CallTmpfsEntry } from './bwrap/call-tmpfs';
export {
  startReaper,
  reapExpired,
  type ReaperOptions,
  type StartedReaper,
  type ReapExpiredOptions,
  type ReapReport,
} from './reaper/reaper';
export { dockerClient, engineAvailable, managedContainers } from './docker/engine';
export {
  openRuntimeDir,
  sharedRuntimeDir,
  sweepStaleCallDirs,
  verifyRuntimeRoot,
  defaultRuntimeRoot,
  DEFAULT_SANDBOX_OWNER,
  type RuntimeDir,
  type CallDir,
  type RuntimeDirOptions,
} from './runtime-dir/runtime-dir';
export { createCallCgroup, ensureSessionCgroup, removeSessionDirs } from './bwrap/cgroups';
export { libseccompProblem } from './bwrap/libseccomp-compiler';
export { DEFAULT_TMPFS_ROOT } from './bwrap/call-tmpfs';
export { type RateLimitCause } from './sandbox-extensions';
export { processStartTime } from './runtime-dir/runtime-dir';
export { SANDBOX_GATEWAY } from './gateway-mount';
