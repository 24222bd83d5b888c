/**
 * The host uid and gid every sandbox runs as: Docker's `User` (the images are built with it,
 * ops/docker), bwrap's drop when the runtime is root, and the owner of what a sandbox must write.
 * One place, so `bastion doctor`'s check of who else has this uid covers both backends.
 */
export const SANDBOX_UID = 1001;
export const SANDBOX_GID = 1001;
