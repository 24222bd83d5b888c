import { checkModelPath, googlePermissionDenied } from './model-allowlist';

describe('model allowlist', () => {
  const allowed = ['gemini-2.5-flash'];

  it('allows any model when the policy lists none', () => {
    expect(checkModelPath('/v1beta/models/gemini-2.5-pro:generateContent', undefined)).toEqual({ allow: true });
  });

  it('allows a listed model for every method and the model list itself', () => {
    expect(checkModelPath('/v1beta/models/gemini-2.5-flash:streamGenerateContent', allowed)).toEqual({ allow: true, model: 'gemini-2.5-flash' });
    expect(checkModelPath('/v1/models/gemini-2.5-flash:countTokens', allowed).allow).toBe(true);
    expect(checkModelPath('/v1beta/models', allowed).allow).toBe(true);
  });

  it('refuses another model, naming it, however the name is encoded', () => {
    expect(checkModelPath('/v1beta/models/gemini-2.5-pro:generateContent', allowed)).toEqual({
      allow: false,
      model: 'gemini-2.5-pro',
      reason: 'model "gemini-2.5-pro" is not allowed by the policy (allowed: gemini-2.5-flash)',
    });
    expect(checkModelPath('/v1beta/models/gemini%2D2.5-pro:generateContent', allowed)).toMatchObject({ allow: false, model: 'gemini-2.5-pro' });
    expect(checkModelPath('/v1beta/models/gemini-2.5-flash%2F..%2Fgemini-2.5-pro:generateContent', allowed).allow).toBe(false);
    expect(checkModelPath('/v1beta/models/%E0%A4%A:generateContent', allowed).allow).toBe(false);
  });

  it('refuses paths that reach a model without naming it while a list is in force', () => {
    expect(checkModelPath('/v1beta/tunedModels/mine:generateContent', allowed).allow).toBe(false);
    expect(checkModelPath('/v1beta/cachedContents', allowed).allow).toBe(false);
  });

  it("answers in Google's error shape, which the Gemini CLI reports", () => {
    const doc = JSON.parse(googlePermissionDenied('nope', 'gemini-2.5-pro'));
    expect(doc.error).toMatchObject({ code: 403, status: 'PERMISSION_DENIED', message: 'nope' });
    expect(doc.error.details[0].metadata.model).toBe('gemini-2.5-pro');
  });
});
