import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { BastionError } from '@bastion/core';
import { keyIdOf } from './dsse';

/** Where `bastion keys init` puts the runtime's provenance key: the user's config directory. */
export function defaultKeyPath(env: {
  readonly XDG_CONFIG_HOME?: string | undefined;
  readonly HOME?: string | undefined;
}): string {
  const base = env.XDG_CONFIG_HOME?.startsWith('/')
    ? env.XDG_CONFIG_HOME
    : env.HOME?.startsWith('/')
      ? join(env.HOME, '.config')
      : undefined;
  if (!base)
    throw new BastionError(
      'INVALID_INPUT',
      'no config directory: set HOME or XDG_CONFIG_HOME to an absolute path, or pass --key FILE',
    );
  return join(base, 'bastion', 'provenance-ed25519.pem');
}

export interface SigningKey {
  readonly path: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly keyId: string;
  readonly publicKeyPem: string;
}

/** Makes a new Ed25519 key file (0600, in a 0700 directory); refuses to overwrite one unless `force`. */
export async function initSigningKey(path: string, options: { force?: boolean } = {}): Promise<SigningKey> {
  const exists = await stat(path).then(
    () => true,
    (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return false;
      throw new BastionError(
        'INVALID_INPUT',
        `cannot read ${path} (${err.code}); fix its permissions or pass another --key`,
        { cause: err },
      );
    },
  );
  if (exists && !options.force) {
    throw new BastionError(
      'CONFLICT',
      `${path} already holds a key; records it signed verify only with it. Use --force to replace it, or --key for another file`,
    );
  }
  const { privateKey } = generateKeyPairSync('ed25519');
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  await chmod(path, 0o600);
  return describe(path, privateKey);
}

/** Loads the key file; a key readable by others is refused, as ssh refuses one. */
export async function loadSigningKey(path: string): Promise<SigningKey> {
  let text: string;
  try {
    const st = await stat(path);
    if ((st.mode & 0o077) !== 0)
      throw new BastionError(
        'INVALID_INPUT',
        `${path} is readable by other users (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${path}`,
      );
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (BastionError.isInstance(err)) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new BastionError(
      'INVALID_INPUT',
      code === 'ENOENT'
        ? `no provenance key at ${path}: run 'bastion keys init' first`
        : `cannot read the provenance key ${path} (${code})`,
      { cause: err },
    );
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(text);
  } catch (err) {
    throw new BastionError(
      'INVALID_INPUT',
      `${path} is not a PEM private key; make a new one with 'bastion keys init --force'`,
      { cause: err },
    );
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new BastionError(
      'INVALID_INPUT',
      `${path} holds a ${privateKey.asymmetricKeyType} key; Bastion signs with Ed25519 ('bastion keys init --force')`,
    );
  return describe(path, privateKey);
}

/** A public key from a PEM file or PEM text (SPKI), for `bastion verify --pubkey`. */
export function parsePublicKey(pem: string, source: string): KeyObject {
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error(`a ${key.asymmetricKeyType} key`);
    return key;
  } catch (err) {
    throw new BastionError(
      'INVALID_INPUT',
      `${source} is not an Ed25519 public key in PEM form ('bastion keys export' prints one)`,
      { cause: err },
    );
  }
}

function describe(path: string, privateKey: KeyObject): SigningKey {
  const publicKey = createPublicKey(privateKey);
  return {
    path,
    privateKey,
    publicKey,
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}
