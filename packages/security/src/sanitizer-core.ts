import type { Detector } from './engine/detector';
import type { Rule } from './rules/rule';

/** Everything a sanitizer needs at run time; shared by one-shot calls and every stream. */
export interface SanitizerCore {
  readonly rules: readonly Rule[];
  readonly detector: Detector;
  readonly stripControls: boolean;
}
