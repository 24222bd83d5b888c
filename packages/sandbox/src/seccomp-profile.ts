// The profile is ops/docker's (DESIGN.md keeps sandbox definitions there); esbuild and jest embed
// the JSON, so the CLI bundle carries it wherever it runs. Docker loads it as is; the bwrap
// backend compiles the same file with libseccomp (executor/bwrap/libseccomp-compiler.ts).
// eslint-disable-next-line @nx/enforce-module-boundaries -- a data file of ops/docker, not code of another project
import profile from '../../../ops/docker/seccomp.json';
import { z } from 'zod';

/** The profile's schema: built only when asked for (tests, tools), not by every CLI start. */
function buildSchemas() {
  const Conditions = z
    .object({
      arches: z.array(z.string()).nullish(),
      caps: z.array(z.string()).nullish(),
      minKernel: z.string().nullish(),
    })
    .nullish();

  const SeccompArg = z.object({
    index: z.number().int().min(0).max(5),
    value: z.number().int().min(0),
    valueTwo: z.number().int().min(0).optional(),
    op: z.enum([
      'SCMP_CMP_NE',
      'SCMP_CMP_LT',
      'SCMP_CMP_LE',
      'SCMP_CMP_EQ',
      'SCMP_CMP_GE',
      'SCMP_CMP_GT',
      'SCMP_CMP_MASKED_EQ',
    ]),
  });

  const Action = z.enum([
    'SCMP_ACT_ALLOW',
    'SCMP_ACT_ERRNO',
    'SCMP_ACT_KILL',
    'SCMP_ACT_KILL_THREAD',
    'SCMP_ACT_KILL_PROCESS',
    'SCMP_ACT_TRAP',
    'SCMP_ACT_LOG',
  ]);

  const SeccompRule = z.object({
    names: z.array(z.string()).min(1),
    action: Action,
    errnoRet: z.number().int().min(0).optional(),
    args: z.array(SeccompArg).nullish(),
    includes: Conditions,
    excludes: Conditions,
    comment: z.string().optional(),
  });

  const SeccompProfile = z.object({
    defaultAction: Action,
    defaultErrnoRet: z.number().int().min(0).optional(),
    archMap: z.array(z.object({ architecture: z.string(), subArchitectures: z.array(z.string()).nullish() })).nullish(),
    syscalls: z.array(SeccompRule),
  });
  return { SeccompArg, SeccompRule, SeccompProfile };
}
type Schemas = ReturnType<typeof buildSchemas>;
let schemas: Schemas | undefined;

export type SeccompArg = z.infer<Schemas['SeccompArg']>;
export type SeccompRule = z.infer<Schemas['SeccompRule']>;
/** A Docker-format seccomp profile: the subset of moby's format this project writes and compiles. */
export type SeccompProfile = z.infer<Schemas['SeccompProfile']>;

/** The schema of SeccompProfile: it refuses a field neither Docker nor the compiler would read the same way. */
export function seccompProfileSchema(): Schemas['SeccompProfile'] {
  return (schemas ??= buildSchemas()).SeccompProfile;
}

/**
 * What both backends enforce: Docker is handed this object (`seccomp=` security option), bwrap the
 * BPF libseccomp makes of it. The JSON is embedded at build time and used without a zod parse at
 * every start (~2 ms): only its errno names are dropped (`defaultErrno`, each rule's `errno`; the
 * numbers in errnoRet say the same), which is all the schema would strip. A unit test checks that
 * seccompProfileSchema accepts the JSON and returns exactly this object.
 */
export const SECCOMP_PROFILE: SeccompProfile = withoutErrnoNames(profile);

function withoutErrnoNames(json: typeof profile): SeccompProfile {
  const { defaultErrno: _defaultErrno, syscalls, ...rest } = json;
  return {
    ...rest,
    syscalls: syscalls.map(({ errno: _errno, ...rule }: { errno?: string }) => rule),
  } as SeccompProfile;
}
