import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { BastionError } from '@bastion/core';

/** Where ops/docker/rootfs.sh unpacks images; the bwrap backend runs over these read-only. */
export const DEFAULT_ROOTFS_DIR = '/var/lib/bastion/rootfs';

const ImageMeta = z.object({
  image: z.string(),
  recipe: z.string(),
  env: z.array(z.string()).nullable().default([]),
  workdir: z.string().nullable().default(''),
  user: z.string().nullable().default(''),
});

export interface Rootfs {
  /** The unpacked filesystem, bound read-only as the sandbox's `/`. */
  readonly root: string;
  readonly recipe: string;
  /** The image's own environment (PATH, HOME, LANG…), which a request's env extends as in Docker. */
  readonly env: Readonly<Record<string, string>>;
  readonly workdir: string;
}

/** `bastion/sandbox:latest` → `bastion_sandbox_latest`, the link rootfs.sh keeps for each image. */
export function imageSlug(image: string): string {
  const tagged = /:[^/]+$/.test(image) ? image : `${image}:latest`;
  return tagged.replace(/[/:@]/g, '_');
}

export function resolveRootfs(
  image: string,
  dir: string = process.env.BASTION_ROOTFS_DIR ?? DEFAULT_ROOTFS_DIR,
): Rootfs {
  const link = join(dir, imageSlug(image));
  if (!existsSync(join(link, 'image.json')) || !existsSync(join(link, 'root'))) {
    throw new BastionError(
      'SANDBOX_UNAVAILABLE',
      `no root filesystem for ${image} under ${dir}; run ops/docker/rootfs.sh ${image}`,
      { retryable: false },
    );
  }
  const real = realpathSync(link);
  const meta = ImageMeta.parse(JSON.parse(readFileSync(join(real, 'image.json'), 'utf8')));
  const env: Record<string, string> = {};
  for (const kv of meta.env ?? []) {
    const eq = kv.indexOf('=');
    if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return { root: join(real, 'root'), recipe: meta.recipe, env, workdir: meta.workdir || '/workspace' };
}
