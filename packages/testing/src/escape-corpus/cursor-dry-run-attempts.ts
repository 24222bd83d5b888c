import type { CursorEscapeAttempt } from './escape-attempt';

/**
 * A Cursor attempt run in dry-run (autofix off) against a caller workspace that holds a link
 * `linkPath` to a directory only root may enter (0700, outside the workspace) with a world-readable
 * file `secretFile` in it. The attempt is stopped when the root runtime's result (proposed diffs,
 * response) never shows that file's content: the diff reads the caller's side only through real
 * workspace directories other users may enter.
 */
export interface CursorDryRunAttempt extends CursorEscapeAttempt {
  /** `agentFile`: the file the agent writes where the link was; it must show up as a proposed change. */
  readonly dryRun: { readonly linkPath: string; readonly secretFile: string; readonly agentFile: string };
}

/** The host side of the dry-run diff (issue 21): the caller's "before" files read through a link out of the tree. */
export const CURSOR_DRY_RUN_ATTEMPTS: readonly CursorDryRunAttempt[] = [
  {
    id: 'dry-run-link-to-private-dir',
    via: 'cursor-apply',
    layer: 'workspace-apply',
    goal: "replace the caller's link r -> /0700-dir with a directory and write r/notes.txt, so the dry-run diff shows the root-only original",
    dryRun: { linkPath: 'r', secretFile: 'notes.txt', agentFile: 'r/notes.txt' },
    edits: [
      { op: 'delete', path: 'r' },
      { op: 'write', path: 'r/notes.txt', content: 'agent notes\n' },
    ],
  },
  {
    id: 'dry-run-link-chain-to-private-dir',
    via: 'cursor-apply',
    layer: 'workspace-apply',
    goal: 'the same through a chain of links (a -> b -> r -> /0700-dir), replacing the first one',
    dryRun: { linkPath: 'r', secretFile: 'notes.txt', agentFile: 'a/notes.txt' },
    edits: [
      { op: 'delete', path: 'a' },
      { op: 'write', path: 'a/notes.txt', content: 'agent notes\n' },
    ],
  },
];
