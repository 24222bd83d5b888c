import { RawValueProvider } from './raw-value-provider';

/** Flags from environment variables (`FF_*`), read at each evaluation, never copied at start-up. */
export class EnvFlagProvider extends RawValueProvider {
  readonly metadata = { name: 'bastion-env' } as const;
  protected readonly source = 'env' as const;
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {
    super();
  }
  protected async lookup(flag: string) {
    const raw = this.env[flag];
    return raw === undefined ? undefined : { raw, where: `environment variable ${flag}` };
  }
}
