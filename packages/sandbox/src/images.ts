/**
 * The one place that turns image recipes (folders under ops/docker, built offline by
 * ops/docker/build.sh) into the tags the executors run. Providers declare their recipe in their
 * manifest; operators may override the image per provider id.
 */

/** The hardened base every provider image builds on; `bastion exec` and host-binary agents run in it. */
export const SANDBOX_RECIPE = 'sandbox';

/** The tag build.sh gives a recipe: `gemini-cli` → `bastion/gemini-cli:latest`. */
export function imageOf(recipe: string): string {
  return `bastion/${recipe}:latest`;
}

/** bastion/sandbox:latest */
export const SANDBOX_IMAGE = imageOf(SANDBOX_RECIPE);

/** Operator overrides: provider id → image (e.g. a locally tagged build). */
export type ImageOverrides = Readonly<Record<string, string>>;

/** The image a provider's call runs in: the operator's override for its id, else its declared recipe's tag. */
export function providerImage(
  provider: { readonly id: string; readonly image: string },
  overrides: ImageOverrides = {},
): string {
  return overrides[provider.id] ?? imageOf(provider.image);
}
