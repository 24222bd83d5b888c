import type Dockerode from 'dockerode';
import type { ProviderManifest } from '@bastion/providers';
import type { SecretStore } from '@bastion/security';
import { imageOf, providerImage, SANDBOX_IMAGE, type ImageOverrides } from '@bastion/sandbox';
import type { DoctorCheck } from './doctor-check';
import { providerKeys } from './provider-keys';

/** The images every call needs whatever the provider: the hardened base and the sandbox built on it. */
export const REQUIRED_IMAGES: readonly string[] = [imageOf('base'), SANDBOX_IMAGE];

/** An image and the providers that run in it (several may share one, e.g. the sandbox). */
export interface ImageNeed {
  image: string;
  /** The ops/docker recipe that builds it (for the fix), when Bastion knows it. */
  recipe?: string;
  /** Provider ids that run in it; empty for the required base images. */
  providers: string[];
}

/**
 * Which images the registered providers need, from their manifests: the required base images
 * first, then one entry per distinct provider image (an operator override counts as the image), and
 * the image given to `bastion exec --image`, if any, under the name `exec` (its ExecutionSpec provider).
 */
export function imageNeeds(
  manifests: readonly ProviderManifest[],
  overrides: ImageOverrides = {},
  execImage?: string,
): ImageNeed[] {
  const needs = new Map<string, ImageNeed>(REQUIRED_IMAGES.map((image) => [image, { image, providers: [] }]));
  for (const manifest of manifests) {
    const image = providerImage(manifest, overrides);
    const need = needs.get(image) ?? { image, providers: [] };
    // An override is the operator's own tag: no recipe of ours builds it.
    if (overrides[manifest.id] === undefined) need.recipe = manifest.image;
    need.providers.push(manifest.id);
    needs.set(image, need);
  }
  if (execImage !== undefined) {
    const need = needs.get(execImage) ?? { image: execImage, providers: [] };
    need.providers.push('exec');
    needs.set(execImage, need);
  }
  return [...needs.values()];
}

/**
 * One check per needed image. A missing base image fails (no call can run); a missing provider
 * image only warns, since the other providers still work, and names the providers it blocks.
 */
export async function imageChecks(docker: Dockerode, needs: readonly ImageNeed[]): Promise<DoctorCheck[]> {
  return Promise.all(
    needs.map(async ({ image, recipe, providers }): Promise<DoctorCheck> => {
      const name = `image ${image}`;
      const usedBy = providers.length > 0 ? ` (provider ${providers.join(', ')})` : '';
      try {
        const inspected = (await docker.getImage(image).inspect()) as { Config?: { Labels?: Record<string, string> } };
        return {
          name,
          status: 'ok',
          detail: `recipe ${inspected.Config?.Labels?.['dev.bastion.recipe'] ?? 'unlabelled'}${usedBy}`,
        };
      } catch (err) {
        // dockerode reports a missing image as HTTP 404; anything else is the engine failing, not a missing build.
        const status = (err as { statusCode?: number }).statusCode;
        if (status !== 404)
          return {
            name,
            status: 'fail',
            detail: `cannot inspect (${(err as Error).message.split('\n')[0].slice(0, 120)})`,
            fix: 'check the engine (see the docker engine check above)',
          };
        const required = providers.length === 0 || REQUIRED_IMAGES.includes(image);
        const build = recipe
          ? `run \`bash ops/docker/build.sh${required ? '' : ` ${recipe}`}\` (offline; no registry needed)`
          : `build or tag ${image} (it is an operator override), or drop the override`;
        return {
          name,
          status: required ? 'fail' : 'warn',
          detail: required ? 'not built' : `not built; ${providers.join(', ')} cannot run until it is`,
          fix: build,
        };
      }
    }),
  );
}

/**
 * One check per key a provider needs (see providerKeys): is it configured on the host, where the
 * runtime reads it (the variable, or `<var>_FILE`)? Never shows the value. A missing key warns:
 * the providers that need it fail with AUTH_FAILED, the others still run.
 */
export function providerKeyChecks(manifests: readonly ProviderManifest[], secrets: SecretStore): DoctorCheck[] {
  return providerKeys(manifests).map(({ name, secret, env, providers, via }): DoctorCheck => {
    const sources = `${env} or ${env}_FILE`;
    let configured: boolean;
    try {
      configured = secrets.has(secret);
    } catch (err) {
      // An unreadable key file: the store's message names the variable, never the value.
      return { name, status: 'fail', detail: (err as Error).message, fix: `fix the file named by ${env}_FILE` };
    }
    const who = providers.join(', ');
    if (configured)
      return {
        name,
        status: 'ok',
        detail:
          via.kind === 'gateway'
            ? `configured (${sources}); the gateway injects it for ${who}`
            : `configured (${sources}); passed into the sandbox of ${who} and redacted from all it returns`,
      };
    return via.kind === 'gateway'
      ? {
          name,
          status: 'warn',
          detail: `not configured: ${who} will fail with AUTH_FAILED against ${via.baseUrl}`,
          fix: `set ${env} (or ${env}_FILE) on the host; the sandbox only ever sees a placeholder`,
        }
      : {
          name,
          status: 'warn',
          detail: `not configured: ${who} will fail with AUTH_FAILED`,
          fix: `set ${env} (or ${env}_FILE) on the host; Bastion passes it only into the sandbox of ${who}`,
        };
  });
}
