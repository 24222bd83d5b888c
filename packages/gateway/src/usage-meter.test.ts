import { DailyUsage } from './daily-usage';
import { priceOf } from './model-prices';
import { usageOf } from './usage-tap';
import { UsageMeter, type BudgetBreach } from './usage-meter';

describe('usage meter', () => {
  it('adds what each response reports (cumulative counts within a response, summed across responses)', () => {
    const m = new UsageMeter({ prices: { 'm-1': { inputUsdPerMTok: 1, outputUsdPerMTok: 10 } } });
    m.admitRequest();
    const r1 = m.response('m-1');
    r1.report(100, 5);
    r1.report(100, 20);
    m.admitRequest();
    m.response('m-1').report(300, 40);
    expect(m.totals()).toEqual({ inputTokens: 400, outputTokens: 60, requests: 2, costUsd: 0.001 });
  });

  it('ends at the output budget with the limit and the totals in the message', () => {
    const seen: BudgetBreach[] = [];
    const m = new UsageMeter({ run: { maxOutputTokens: 50 }, onExceeded: (b) => seen.push(b) });
    m.admitRequest();
    const r = m.response('gemini-2.5-flash');
    expect(r.report(10, 30)).toBeUndefined();
    const breach = r.report(10, 55);
    expect(breach).toMatchObject({
      scope: 'run',
      limit: 'maxOutputTokens',
      max: 50,
      totals: { outputTokens: 55, inputTokens: 10, requests: 1 },
    });
    expect(breach?.message).toMatch(
      /maxOutputTokens=50 was reached: this run used 10 input and 55 output tokens in 1 model requests/,
    );
    expect(seen).toHaveLength(1);
    expect(m.admitRequest()).toBe(breach);
  });

  it('refuses the request past maxModelRequests and counts only the ones relayed', () => {
    const m = new UsageMeter({ run: { maxModelRequests: 2 } });
    expect(m.admitRequest()).toBeUndefined();
    expect(m.admitRequest()).toBeUndefined();
    expect(m.admitRequest()?.limit).toBe('maxModelRequests');
    expect(m.totals().requests).toBe(2);
  });

  it('reaches maxCostUsd from the price table and names unpriced models instead of costing them silently', () => {
    const m = new UsageMeter({ run: { maxCostUsd: 0.01 } });
    m.admitRequest();
    expect(m.response('gemini-2.5-pro-001').report(1000, 900)?.limit).toBe('maxCostUsd');
    const n = new UsageMeter();
    n.admitRequest();
    n.response('fake-model-9').report(10, 10);
    expect(n.totals()).toMatchObject({ costUsd: 0, unpricedModels: ['fake-model-9'] });
    expect(priceOf('gemini-2.5-flash-lite-preview')).toEqual({ inputUsdPerMTok: 0.1, outputUsdPerMTok: 0.4 });
  });

  it('holds a daily budget across calls of the same tenant and provider and starts again the next UTC day', () => {
    let now = Date.parse('2026-03-01T10:00:00Z');
    const days = new DailyUsage(() => now);
    const call = () =>
      new UsageMeter({ daily: { maxOutputTokens: 100 }, dailyAccount: days.account('acme', 'gemini-cli') });
    const first = call();
    first.admitRequest();
    expect(first.response('m').report(5, 60)).toBeUndefined();
    const second = call();
    second.admitRequest();
    const breach = second.response('m').report(5, 45);
    expect(breach).toMatchObject({ scope: 'daily', limit: 'maxOutputTokens' });
    expect(breach?.message).toMatch(/tenant "acme" for gemini-cli.*today: 10 input, 105 output tokens, 2 requests/);
    expect(call().admitRequest()?.scope).toBe('daily');
    expect(
      new UsageMeter({
        daily: { maxOutputTokens: 100 },
        dailyAccount: days.account('other', 'gemini-cli'),
      }).admitRequest(),
    ).toBeUndefined();
    now += 24 * 3600_000;
    expect(call().admitRequest()).toBeUndefined();
    expect(days.snapshot()).toEqual([
      { tenant: 'acme', provider: 'gemini-cli', usage: { inputTokens: 0, outputTokens: 0, requests: 1, costUsd: 0 } },
    ]);
  });

  it('reads Gemini usageMetadata (thinking tokens billed as output) and Anthropic message_start/message_delta usage', () => {
    expect(
      usageOf({
        usageMetadata: { promptTokenCount: 7, candidatesTokenCount: 3, thoughtsTokenCount: 2 },
        modelVersion: 'gemini-2.5-pro',
      }),
    ).toEqual({ input: 7, output: 5, model: 'gemini-2.5-pro' });
    expect(
      usageOf([
        { usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 1 } },
        { usageMetadata: { promptTokenCount: 1, candidatesTokenCount: 9 } },
      ]),
    ).toEqual({ input: 1, output: 9 });
    expect(
      usageOf({
        type: 'message_start',
        message: {
          model: 'claude-sonnet-4-5',
          usage: { input_tokens: 12, cache_read_input_tokens: 3, output_tokens: 1 },
        },
      }),
    ).toEqual({ input: 15, output: 1, model: 'claude-sonnet-4-5' });
    expect(usageOf({ type: 'message_delta', usage: { output_tokens: 42 } })).toEqual({ output: 42 });
    expect(usageOf({ type: 'content_block_delta', delta: { text: 'usage' } })).toBeUndefined();
  });
});
