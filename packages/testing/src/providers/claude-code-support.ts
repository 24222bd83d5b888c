import { engineProblem } from '../suite/docker-suite';
import { SANDBOX_IMAGE } from '@bastion/sandbox';

/** The image the claude-code suites run (ops/docker/claude-code/build.sh builds it offline). */
export const CLAUDE_CODE_IMAGE = 'bastion/claude-code:latest';

/** Why the claude-code suites cannot run here, or undefined: the engine, the sandbox and the claude-code image. */
export const claudeCodeSuiteProblem = (): string | undefined => engineProblem([SANDBOX_IMAGE, CLAUDE_CODE_IMAGE]);

/** Looks real to every rule the sanitizer has, and is what the gateway sends upstream. */
export const REAL_ANTHROPIC_KEY =
  'sk-ant-api03-' + 'Zq8vR2mXk4Lp9Tn6Wc1Yb7Hd3Fg5Js0Ae2Ui8Oo4Ky6Mr1Nw9Qx3Vt7Bz5Cl2Ep8Gh4Ij6Aa';
