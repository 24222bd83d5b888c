import {
  FlagNotFoundError,
  OpenFeatureEventEmitter,
  StandardResolutionReasons,
  TypeMismatchError,
  type EvaluationContext,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from '@openfeature/server-sdk';
import { describeRaw, flagDefinition, parseFlagValue, type FlagValue } from './flag-catalogue';

export type FlagSource = 'file' | 'env' | 'default';

/** Custom OpenFeature reason: the source set the flag, but not to a value of its type. */
export const UNPARSEABLE_REASON = 'UNPARSEABLE';

export type RawLookup = (flag: string) => Promise<{ raw: unknown; where: string } | undefined>;

/**
 * An OpenFeature provider over a source of raw values (env strings, file scalars). It parses
 * with the flag catalogue; a value that does not parse resolves to the flag's default with reason
 * UNPARSEABLE and the raw value in the metadata, so the flag service can report it. Absent flags
 * throw FLAG_NOT_FOUND, which lets the multi-provider ask the next source.
 */
export abstract class RawValueProvider implements Provider {
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  abstract readonly metadata: { readonly name: string };
  protected abstract readonly source: Exclude<FlagSource, 'default'>;
  protected abstract lookup(flag: string): Promise<{ raw: unknown; where: string } | undefined>;

  resolveBooleanEvaluation(flag: string, defaultValue: boolean): Promise<ResolutionDetails<boolean>> {
    return this.resolve(flag, defaultValue, 'boolean');
  }
  resolveStringEvaluation(flag: string, defaultValue: string): Promise<ResolutionDetails<string>> {
    return this.resolve(flag, defaultValue, 'string');
  }
  resolveNumberEvaluation(flag: string, defaultValue: number): Promise<ResolutionDetails<number>> {
    return this.resolve(flag, defaultValue, 'number');
  }
  async resolveObjectEvaluation<T extends JsonValue>(flag: string): Promise<ResolutionDetails<T>> {
    throw new TypeMismatchError(`${flag} is not an object flag`);
  }

  private async resolve<T extends FlagValue>(
    flag: string,
    defaultValue: T,
    type: 'boolean' | 'string' | 'number',
    _context?: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    const def = flagDefinition(flag);
    const found = await this.lookup(flag);
    if (!found) throw new FlagNotFoundError(`${flag} is not set in ${this.metadata.name}`);
    const parsed = parseFlagValue(def, found.raw);
    const flagMetadata = { source: this.source, where: found.where, raw: describeRaw(found.raw) };
    if (!parsed.ok) {
      return {
        value: defaultValue,
        reason: UNPARSEABLE_REASON,
        variant: 'unparseable',
        errorMessage: parsed.problem,
        flagMetadata,
      };
    }
    if (typeof parsed.value !== type) throw new TypeMismatchError(`${flag} is a ${def.type} flag`);
    return {
      value: parsed.value as T,
      reason: StandardResolutionReasons.STATIC,
      variant: String(parsed.value),
      flagMetadata,
    };
  }
}

/**
 * The last source: every flag resolves to the default the client passed (the catalogue's). With it
 * at the end of the chain, a flag set nowhere is reported as "not set" rather than as the
 * multi-provider's aggregated FLAG_NOT_FOUND error.
 */
export class DefaultValueProvider implements Provider {
  readonly runsOn = 'server' as const;
  readonly events = new OpenFeatureEventEmitter();
  readonly metadata = { name: 'bastion-defaults' } as const;

  resolveBooleanEvaluation(_flag: string, defaultValue: boolean): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(this.fallback(defaultValue));
  }
  resolveStringEvaluation(_flag: string, defaultValue: string): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.fallback(defaultValue));
  }
  resolveNumberEvaluation(_flag: string, defaultValue: number): Promise<ResolutionDetails<number>> {
    return Promise.resolve(this.fallback(defaultValue));
  }
  async resolveObjectEvaluation<T extends JsonValue>(flag: string): Promise<ResolutionDetails<T>> {
    throw new TypeMismatchError(`${flag} is not an object flag`);
  }

  private fallback<T extends FlagValue>(value: T): ResolutionDetails<T> {
    return {
      value,
      reason: StandardResolutionReasons.DEFAULT,
      variant: 'default',
      flagMetadata: { source: 'default' },
    };
  }
}
