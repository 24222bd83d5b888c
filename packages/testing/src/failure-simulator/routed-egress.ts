import { SharedBudgets, createGatewayProvisioner } from '@bastion/gateway';
import { type AuditLog } from '@bastion/agent-runtime';
import { providerRegistry } from '@bastion/providers';
import { type EgressProvisioner, type SandboxAttachment } from '@bastion/sandbox';
import type { SecretStore } from '@bastion/security';

/**
 * The runtime's real gateway provisioner with two handles for fault injection:
 * the model API upstream can be chosen per correlation id (a call gets its own faulty fake),
 * and a live call's gateway can be torn down from outside (a network partition mid-call). As in
 * production, every call draws on one set of rate budgets and robots caches (one provisioner per
 * upstream, all sharing `budgets`), so a policy's API rate limit holds across the simulator's calls.
 */
export interface RoutedEgress extends EgressProvisioner {
  /** Sends this call's model API traffic (whichever registered upstream it names) to `upstream` instead of the default. */
  route(correlationId: string, upstream: string): void;
  unroute(correlationId: string): void;
  /** Resolves once the call's gateway is up. */
  attached(correlationId: string, timeoutMs?: number): Promise<void>;
  /** Closes the call's gateway while its sandbox still runs; true when there was one. */
  cut(correlationId: string): Promise<boolean>;
}

export function createRoutedEgress(options: {
  secrets: SecretStore;
  audit: AuditLog;
  /** Where calls go unless routed: one URL for every upstream API, or a URL per upstream name ('gemini', 'anthropic'). */
  defaultUpstream: string | Readonly<Record<string, string>>;
  budgets?: SharedBudgets;
}): RoutedEgress {
  const routes = new Map<string, string>();
  // Each upstream's base URL is read from its manifest's variable, so every registered provider is routable.
  const envFor = (pick: (apiName: string) => string | undefined): Record<string, string> =>
    Object.fromEntries(
      providerRegistry.upstreams.flatMap((api) => {
        const url = pick(api.name);
        return url === undefined ? [] : [[api.baseUrlEnv, url]];
      }),
    );
  const defaults = options.defaultUpstream;
  const defaultEnv = envFor((name) => (typeof defaults === 'string' ? defaults : defaults[name]));
  const budgets = options.budgets ?? new SharedBudgets();
  // The upstream is read from the provisioner's env, so a faulty fake gets its own provisioner;
  // the budgets they draw on are the same.
  const provisioners = new Map<string, EgressProvisioner>();
  const provisionerFor = (upstream: string | undefined): EgressProvisioner => {
    const key = upstream ?? '';
    let provisioner = provisioners.get(key);
    if (!provisioner) {
      provisioner = createGatewayProvisioner({
        secrets: options.secrets,
        env: upstream === undefined ? defaultEnv : envFor(() => upstream),
        logger: options.audit.logger,
        budgets,
      });
      provisioners.set(key, provisioner);
    }
    return provisioner;
  };
  const live = new Map<string, SandboxAttachment>();
  const waiters = new Map<string, (() => void)[]>();

  return {
    async attach(network, call) {
      const attachment = await provisionerFor(routes.get(call.correlationId)).attach(network, call);
      live.set(call.correlationId, attachment);
      for (const w of waiters.get(call.correlationId) ?? []) w();
      waiters.delete(call.correlationId);
      return {
        ...attachment,
        close: async () => {
          live.delete(call.correlationId);
          await attachment.close();
        },
      };
    },
    route: (correlationId, upstream) => void routes.set(correlationId, upstream),
    unroute: (correlationId) => void routes.delete(correlationId),
    attached(correlationId, timeoutMs = 60_000) {
      if (live.has(correlationId)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no gateway for call ${correlationId} after ${timeoutMs} ms`)),
          timeoutMs,
        );
        const list = waiters.get(correlationId) ?? [];
        list.push(() => {
          clearTimeout(timer);
          resolve();
        });
        waiters.set(correlationId, list);
      });
    },
    async cut(correlationId) {
      const attachment = live.get(correlationId);
      if (!attachment) return false;
      // The attachment stays registered with the pipeline, whose release() closes it again (idempotent).
      await attachment.close();
      return true;
    },
  };
}
