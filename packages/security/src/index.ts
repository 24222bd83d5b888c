export { createSecretStore, SECRET_SOURCES, type SecretStore, type SecretSource, type SecretStoreOptions } from './secrets/secret-store';
