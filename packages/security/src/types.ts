/** How bad a leak of what a rule catches would be. */
export type Severity = 'low' | 'medium' | 'high' | 'critical';

/** One line of a redaction report. It names the rule and counts; it never carries a value. */
export interface Redaction {
  ruleId: string;
  severity: Severity;
  count: number;
}

/** What `bastion doctor` and the docs show about a rule. */
export interface RuleInfo {
  id: string;
  severity: Severity;
  description: string;
}

/** A rule from the policy file. `pattern` uses RE2 syntax (no backreferences, no lookaround). */
export interface CustomRuleInput {
  id: string;
  pattern: string;
  flags?: string;
  severity?: Severity;
  description?: string;
}

export interface OutputSanitizerOptions {
  /** Rules from the policy file; validated at creation, every bad rule is listed in one INVALID_INPUT. */
  customRules?: CustomRuleInput[];
  /**
   * Values the runtime holds (API keys, secret files): always redacted, raw and as the README's
   * encodings table lists (JSON escapes, %XX, format characters, hex, base64, wrapped over lines).
   */
  knownSecrets?: string[];
  /** Default true: remove ANSI CSI/OSC sequences and C0/C1 controls except \n \r \t. */
  stripTerminalControls?: boolean;
  /**
   * Host paths that reveal a user name; enabled by default with /home/, /Users/ and C:\Users\.
   * Without `users` every name under those prefixes is redacted; with it only those names (pass
   * the host's accounts, so `/home/alice` in a project's or a sandbox's paths stays readable).
   */
  hostPaths?: { enabled: boolean; homePrefixes?: string[]; users?: string[] };
  /** Built-in or custom rule ids to switch off. */
  disabledRules?: string[];
}

export interface SanitizeResult {
  text: string;
  redactions: Redaction[];
}

export interface OutputSanitizer {
  readonly ruleIds: readonly string[];
  sanitize(input: string | Uint8Array): SanitizeResult;
  createStream(): SanitizerStream;
}

export interface SanitizerStream {
  /** Returns the clean text that is now safe to emit; '' while a bounded look-behind is held back. */
  write(chunk: Uint8Array | string): string;
  /** Flushes everything still held back. */
  end(): string;
  /** Running report over everything written so far. */
  redactions(): Redaction[];
}
