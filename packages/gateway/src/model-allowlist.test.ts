import { GEMINI_API } from '@bastion/providers';
import { checkModelInBody, checkModelPath } from './model-allowlist';

const gemini = GEMINI_API.model as Extract<typeof GEMINI_API.model, { in: 'path' }>;
const body = (doc: unknown) => Buffer.from(typeof doc === 'string' ? doc : JSON.stringify(doc));

describe('model allowlist, model named in the path (Gemini)', () => {
  const allowed = ['gemini-2.5-flash'];

  it('allows any model when the policy lists none', () => {
    expect(checkModelPath(gemini, '/v1beta/models/gemini-2.5-pro:generateContent', undefined)).toEqual({ allow: true });
  });

  it('allows a listed model for every method and the model list itself', () => {
    expect(checkModelPath(gemini, '/v1beta/models/gemini-2.5-flash:streamGenerateContent', allowed)).toEqual({
      allow: true,
      model: 'gemini-2.5-flash',
    });
    expect(checkModelPath(gemini, '/v1/models/gemini-2.5-flash:countTokens', allowed).allow).toBe(true);
    expect(checkModelPath(gemini, '/v1beta/models', allowed).allow).toBe(true);
  });

  it('refuses another model, naming it, however the name is encoded', () => {
    expect(checkModelPath(gemini, '/v1beta/models/gemini-2.5-pro:generateContent', allowed)).toEqual({
      allow: false,
      model: 'gemini-2.5-pro',
      reason: 'model "gemini-2.5-pro" is not allowed by the policy (allowed: gemini-2.5-flash)',
    });
    expect(checkModelPath(gemini, '/v1beta/models/gemini%2D2.5-pro:generateContent', allowed)).toMatchObject({
      allow: false,
      model: 'gemini-2.5-pro',
    });
    expect(
      checkModelPath(gemini, '/v1beta/models/gemini-2.5-flash%2F..%2Fgemini-2.5-pro:generateContent', allowed).allow,
    ).toBe(false);
    expect(checkModelPath(gemini, '/v1beta/models/%E0%A4%A:generateContent', allowed).allow).toBe(false);
  });

  it('refuses paths that reach a model without naming it while a list is in force', () => {
    expect(checkModelPath(gemini, '/v1beta/tunedModels/mine:generateContent', allowed).allow).toBe(false);
    expect(checkModelPath(gemini, '/v1beta/cachedContents', allowed).allow).toBe(false);
  });

  it("answers in Google's error shape, which the Gemini CLI reports", () => {
    const doc = JSON.parse(GEMINI_API.errors.forbidden('nope', 'gemini-2.5-pro'));
    expect(doc.error).toMatchObject({ code: 403, status: 'PERMISSION_DENIED', message: 'nope' });
    expect(doc.error.details[0].metadata.model).toBe('gemini-2.5-pro');
  });
});

describe('model allowlist, model named in the JSON body (Anthropic Messages)', () => {
  const allowed = ['claude-sonnet-4-5'];

  it('reads the model from the declared field and allows a listed one', () => {
    expect(
      checkModelInBody('model', body({ model: 'claude-sonnet-4-5', max_tokens: 10, messages: [] }), allowed),
    ).toEqual({ allow: true, model: 'claude-sonnet-4-5' });
  });

  it('refuses another model, naming it', () => {
    expect(checkModelInBody('model', body({ model: 'claude-opus-4-1', messages: [] }), allowed)).toEqual({
      allow: false,
      model: 'claude-opus-4-1',
      reason: 'model "claude-opus-4-1" is not allowed by the policy (allowed: claude-sonnet-4-5)',
    });
  });

  it('refuses a body that names no model, or is not JSON, while a list is in force', () => {
    expect(checkModelInBody('model', body({ messages: [] }), allowed)).toMatchObject({
      allow: false,
      model: '(unnamed)',
    });
    expect(checkModelInBody('model', body({ model: 42 }), allowed)).toMatchObject({ allow: false, model: '(unnamed)' });
    expect(checkModelInBody('model', body([{ model: 'claude-sonnet-4-5' }]), allowed)).toMatchObject({ allow: false });
    expect(checkModelInBody('model', body('model=claude-sonnet-4-5'), allowed)).toMatchObject({
      allow: false,
      model: '(unnamed)',
    });
  });

  it('passes a request without a body (GET /v1/models) and still reads the model without a list', () => {
    expect(checkModelInBody('model', Buffer.alloc(0), allowed)).toEqual({ allow: true });
    expect(checkModelInBody('model', body({ model: 'claude-opus-4-1' }), undefined)).toEqual({
      allow: true,
      model: 'claude-opus-4-1',
    });
    expect(checkModelInBody('model', body('not json'), undefined)).toEqual({ allow: true });
  });
});
