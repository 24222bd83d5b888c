export type ViolationKind = 'domain' | 'rate-limit' | 'robots' | 'api' | 'model' | 'protocol';

/** A refused request, as data. Never carries a credential. */
export interface Violation {
  kind: ViolationKind;
  host: string;
  reason: string;
  /** For `model`: the model the sandbox asked for, so the call can name it. */
  model?: string;
}

export interface GatewayLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').slice(0, 500);
}
