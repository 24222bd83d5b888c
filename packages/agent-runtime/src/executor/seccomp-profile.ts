// The profile is ops/docker's (DESIGN.md keeps sandbox definitions there); esbuild and jest embed
// the JSON, so the CLI bundle carries it wherever it runs.
// eslint-disable-next-line @nx/enforce-module-boundaries -- a data file of ops/docker, not code of another project
import profile from '../../../../ops/docker/seccomp.json';

export const SECCOMP_PROFILE = profile;
