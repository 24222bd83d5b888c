/**
 * What a provider declares about itself, as data the runtime reads: the image it runs in, the
 * model APIs it reaches through the gateway, what it can do, its flag names and the host binary it
 * needs. Everything provider-specific lives in the provider's folder behind this shape, so the
 * runtime, the gateway and the policy never name a provider or a vendor.
 */

/**
 * Where an upstream API names the model a request uses, so the gateway can hold it to the
 * policy's `providers[].models`.
 * - `path`: in the URL (Gemini: `/v1beta/models/{model}:generateContent`). `pattern` matches the
 *   whole pathname and captures the (percent-encoded) model in its first group; `listing` matches
 *   paths that list models and name none (allowed). Any other API path is refused while an
 *   allowlist is in force, since its body or a stored object could pick the model.
 * - `body`: in a top-level string field of the JSON request body (Anthropic: `model` of
 *   `POST /v1/messages`). While an allowlist is in force every request that carries a body must be
 *   JSON naming an allowed model in `field`; requests without a body (GET) name none.
 */
export type ModelLocation =
  | { readonly in: 'path'; readonly pattern: RegExp; readonly listing?: RegExp }
  | { readonly in: 'body'; readonly field: string };

/** Error bodies in the upstream's own format, so the agent's client reads a gateway refusal as it would the API's. */
export interface UpstreamErrorFormat {
  /** JSON body of a 403: the policy or the budget refuses this request (`model` is the one it named). */
  forbidden(message: string, model: string): string;
  /** JSON body of a 429 from the gateway's own rate limit, with the wait in the API's own terms. */
  rateLimited(message: string, retryAfterMs: number): string;
}

/**
 * A model API the agent reaches through the gateway's reverse proxy. The real key stays on the
 * host (the secret store); the sandbox sees only a placeholder in `apiKeyEnv` and the gateway's
 * relay in `baseUrlEnv`.
 */
export interface UpstreamApi {
  /** The name the execution spec (`network.api`) and the policy use: lower case, `[a-z][a-z0-9-]*`. E.g. 'gemini', 'anthropic'. */
  readonly name: string;
  /** The real API's origin, e.g. https://generativelanguage.googleapis.com. */
  readonly defaultBaseUrl: string;
  /** Environment variable the agent reads the API's base URL from (GOOGLE_GEMINI_BASE_URL, ANTHROPIC_BASE_URL). In the sandbox it points at the gateway relay; on the host it overrides `defaultBaseUrl` (tests point it at a fake). */
  readonly baseUrlEnv: string;
  /** Environment variable the agent reads its key from (GEMINI_API_KEY, ANTHROPIC_API_KEY); the sandbox gets a placeholder. */
  readonly apiKeyEnv: string;
  /** Request header that carries the key upstream (x-goog-api-key, x-api-key); the gateway sets it, after dropping every credential header the sandbox sent. */
  readonly authHeader: string;
  /** Secret-store name of the real key (gemini-api-key, anthropic-api-key). */
  readonly secret: string;
  /** Pathnames the gateway forwards to this API; anything else is refused. */
  readonly paths: RegExp;
  /** Where a request names its model (see ModelLocation). */
  readonly model: ModelLocation;
  /** Environment variable the agent reads its default model from; the gateway pins it to the policy's first allowed model (Gemini CLI: GEMINI_MODEL). */
  readonly pinnedModelEnv?: string;
  /** How the gateway words its own refusals for this API's clients. */
  readonly errors: UpstreamErrorFormat;
}

/** What a provider can do; the router and the runtime decide from these, never from the id. */
export interface ProviderCapabilities {
  /** Answers questions about a workspace without changing it (task intent `analyze`). */
  readonly analyze: boolean;
  /**
   * Edits a workspace (intent `edit`): the runtime gives it a throwaway copy, returns the copy's
   * changes as a diff (dry-run) and applies them only when the provider's autofix flag is on.
   */
  readonly edit: boolean;
}

/** Flag names the provider answers to. The routing switch (FF_PROVIDER_<ID>) and pool size (FF_POOL_SIZE_<ID>) follow from the id. */
export interface ProviderFlags {
  /** Boolean flag that lets this provider's edits be applied to the caller's workspace (FF_CURSOR_AUTOFIX); off unless set true. Editing providers declare one. */
  readonly autofix?: string;
}

/**
 * An agent executable taken from the host (not baked into an image): the runtime resolves it
 * (configured path `providers.<id>.agentPath`, then `pathEnv`, then `command` on PATH), follows
 * links, and mounts its directory read-only at `mountPath`. The provider sees the result in
 * PlanContext.agentInstall.
 */
export interface HostBinary {
  /** File name looked up on PATH (cursor-agent). */
  readonly command: string;
  /** Host environment variable holding an explicit path (BASTION_CURSOR_AGENT). */
  readonly pathEnv: string;
  /** Where the binary's directory appears in the sandbox, read-only (/opt/cursor-agent). */
  readonly mountPath: string;
  /**
   * Host environment variable that forces the agent's network (`gateway` | `none`); unset, a
   * self-contained install (a `node` beside the executable) gets `gateway`, a lone script (a test
   * fake) gets `none` (BASTION_CURSOR_NETWORK).
   */
  readonly networkEnv?: string;
  /** One sentence telling an operator how to install it, for SANDBOX_UNAVAILABLE messages. */
  readonly installHint: string;
}

/**
 * A key the agent itself must hold inside the sandbox, because it talks to its vendor's backend
 * over the CONNECT proxy and there is no API the gateway could add the key to (cursor-agent and
 * CURSOR_API_KEY). The runtime reads it from the secret store on the host (`env`, or `<env>_FILE`
 * naming a file) and passes it into the sandbox as `env`; the sanitizer redacts its value, in
 * every encoding, in everything that comes back. Prefer an upstream (the key never enters the
 * sandbox) whenever the agent's API can go through the gateway.
 */
export interface SandboxSecret {
  /** The variable the agent reads, in the sandbox and on the host (CURSOR_API_KEY). */
  readonly env: string;
  /** Secret-store name of the value (cursor-api-key). */
  readonly secret: string;
}

/** Everything a provider declares; `AgentProvider` carries it, the registry indexes it. */
export interface ProviderManifest {
  /** Stable id used by callers, the policy's `providers[].name`, flags and metrics: lower case, `[a-z][a-z0-9-]*`. */
  readonly id: string;
  /** Image recipe under ops/docker the provider runs in ('gemini-cli', 'sandbox'); the runtime turns it into a tag and config may override it per provider id. */
  readonly image: string;
  /** Model APIs it reaches through the gateway's reverse proxy (empty: none). */
  readonly upstreams: readonly UpstreamApi[];
  readonly capabilities: ProviderCapabilities;
  readonly flags: ProviderFlags;
  /** The host executable it needs mounted, when its agent is not in the image. */
  readonly hostBinary?: HostBinary;
  /** Host environment variable naming the default model when a task names none (BASTION_GEMINI_MODEL). */
  readonly defaultModelEnv?: string;
  /** Keys passed into its sandbox (see SandboxSecret); `bastion doctor` checks each one is configured. */
  readonly sandboxSecrets?: readonly SandboxSecret[];
}
