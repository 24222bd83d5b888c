import type { ExecEscapeAttempt } from './escape-attempt';

/** node's net.connect to a Unix socket: ESCAPED on connect, else the error code. */
const connectUnix = (path: string) =>
  `node -e 'const s=require("net").connect("${path}");s.setTimeout(3000,()=>{console.log("TIMEOUT");process.exit(0)});s.on("connect",()=>{console.log("ESCAPED ${path}");process.exit(0)});s.on("error",e=>{console.log("${path}: "+e.code);process.exit(0)})'`;

/**
 * Host sockets (issue 22): every socket Bastion makes for a call lives in a per-call directory of
 * the private runtime directory, and only that directory is mounted into that one sandbox; the
 * warm pool's control socket takes only a supervisor that presents its slot's secret, and both
 * the secret and the listening socket are gone before the call's command runs. (The host side —
 * another local user, a sandbox with the host's / mounted — is runtime-dir/host-sockets.int.test.ts.)
 */
export const SOCKET_ATTEMPTS: readonly ExecEscapeAttempt[] = [
  {
    id: 'other-calls-sockets',
    via: 'exec',
    layer: 'namespaces',
    goal: "find and use another call's gateway or control socket (a sandbox used to see four other calls' gateway sockets)",
    spec: 'gateway',
    script:
      's=$(find / -type s 2>/dev/null | grep -v "^/proc/" | grep -vx /run/bastion/gateway.sock); [ -n "$s" ] && echo "ESCAPED $s"; ls -A /run/bastion; echo "own sockets only"',
    evidence: /gateway\.sock\nown sockets only/,
  },
  {
    id: 'control-socket-hijack',
    via: 'exec',
    layer: 'host-sockets',
    goal: "read the warm slot's secret and connect to its control socket to take the next task",
    script: `cat /run/bastion/ctl.key 2>&1; ${connectUnix('/run/bastion/ctl.sock')}`,
    evidence: /ctl\.key: No such file or directory\n\/run\/bastion\/ctl\.sock: ENOENT/,
  },
  {
    id: 'runtime-dir-walk',
    via: 'exec',
    layer: 'host-sockets',
    goal: "plant a file next to the gateway socket or swap it (the call's socket directory is mounted read-only)",
    spec: 'gateway',
    script:
      'touch /run/bastion/planted 2>&1; ln -sf /tmp/x /run/bastion/gateway.sock 2>&1; chmod 777 /run/bastion 2>&1; true',
    evidence: /Read-only file system/,
  },
];
