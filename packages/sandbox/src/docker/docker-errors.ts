import { BastionError } from '@bastion/core';

/** Maps what dockerode throws to Bastion's codes; the daemon's text never carries our secrets. */
export function dockerError(err: unknown, action: string, image?: string): BastionError {
  if (BastionError.isInstance(err)) return err;
  const e = err as { statusCode?: number; code?: string; message?: string; reason?: string };
  if (
    e.code === 'ENOENT' ||
    e.code === 'ECONNREFUSED' ||
    e.code === 'ECONNRESET' ||
    e.code === 'EPIPE' ||
    e.code === 'EACCES'
  ) {
    return new BastionError(
      'SANDBOX_UNAVAILABLE',
      `Docker engine unreachable while trying to ${action} (${e.code}); run ops/docker/ensure-engine.sh or check DOCKER_HOST`,
      {
        cause: err,
        retryable: true,
      },
    );
  }
  if (e.statusCode === 404 && image !== undefined && /image|No such image/i.test(e.message ?? '')) {
    return new BastionError('SANDBOX_UNAVAILABLE', `image ${image} is not built; run ops/docker/build.sh`, {
      cause: err,
      retryable: false,
    });
  }
  const status = e.statusCode ? ` (HTTP ${e.statusCode})` : '';
  return new BastionError(
    'SANDBOX_UNAVAILABLE',
    `Docker failed to ${action}${status}: ${firstLine(e.reason ?? e.message ?? String(err))}`,
    { cause: err },
  );
}

function firstLine(s: string): string {
  return s.split('\n')[0].slice(0, 300);
}
