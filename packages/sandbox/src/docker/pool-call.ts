import type Dockerode from 'dockerode';
import type { ExecutorHooks, ExecutorOutcome, ExecutorRequest } from '../executor';
import { CallDeadline } from '../call-deadline';
import { createOutputMeter } from '../output-meter';
import type { createContainerEvents } from './container-events';
import { dockerError } from './docker-errors';
import type { PoolContainer } from './pool-container';
import { unwrapRelay } from './relay-command';
import { createFrameDecoder, encodeRequest, FRAME, type SupervisorExit } from './supervisor-protocol';

export interface PoolCallDeps {
  readonly docker: Dockerode;
  readonly events: ReturnType<typeof createContainerEvents>;
  readonly reportCleanup: (err: unknown, id: string) => void;
}

/**
 * One call in a leased pooled container: the request goes to the container's supervisor over the
 * control socket, output frames come back through the output meter, and a deadline, an abort or
 * the output cap SIGKILLs the container. The sandbox cannot see its cgroup (container-config hides
 * the tree), so an OOM kill is read from the engine's 'oom' event, as on the cold path.
 */
export async function runInPoolContainer(
  deps: PoolCallDeps,
  slot: PoolContainer,
  request: ExecutorRequest,
  hooks: ExecutorHooks,
): Promise<ExecutorOutcome> {
  const { docker, events } = deps;
  const started = Date.now();
  let killing: Promise<void> | undefined;
  await events.ready();
  const kill = () => {
    events.killedByUs(slot.id);
    killing ??= docker
      .getContainer(slot.id)
      .kill({ signal: 'SIGKILL' })
      .then(
        () => undefined,
        (err: { statusCode?: number }) => {
          if (err.statusCode !== 404 && err.statusCode !== 409) deps.reportCleanup(err, slot.id);
        },
      );
    return killing;
  };
  const meter = createOutputMeter(request.limits.outputBytes, () => void kill());
  const deadline = new CallDeadline(() => void kill());

  const { relay, command } = unwrapRelay(request.command);
  const exit = await new Promise<SupervisorExit | null>((resolve, reject) => {
    let result: SupervisorExit | null = null;
    const sock = slot.conn;
    const decode = createFrameDecoder((type, payload) => {
      if (type === FRAME.stdout) meter.push('stdout', payload, hooks.onStdout);
      else if (type === FRAME.stderr) meter.push('stderr', payload, hooks.onStderr);
      else if (type === FRAME.exit) result = JSON.parse(payload.toString('utf8')) as SupervisorExit;
    });
    sock.on('data', decode);
    // The hello check left the socket paused.
    sock.resume();
    sock.on('close', () => resolve(result));
    sock.on('error', (err) => (killing ? resolve(result) : reject(err)));
    hooks.onStarted?.({ sandboxId: slot.id, startupMs: Date.now() - started });
    const hasStdin = request.stdin !== undefined;
    sock.write(
      encodeRequest({
        command,
        env: request.env,
        ...(request.workdir ? { workdir: request.workdir } : {}),
        stdin: hasStdin,
        ...(relay ? { relay } : {}),
      }),
    );
    if (hasStdin) sock.write(request.stdin as string | Uint8Array);
    sock.end();
    deadline.arm(request.limits.timeoutMs, hooks.signal);
    sock.on('close', () => deadline.exited());
  }).finally(() => deadline.disarm());

  if (killing) await killing;
  const { timedOut, aborted } = deadline;
  let oomKilled = false;
  if (!timedOut && !aborted && meter.limited === null && (!exit || exit.signal === 'SIGKILL')) {
    // SIGKILLed by no one of ours: the engine's events say whether the OOM killer did it. If the
    // supervisor itself died, the container's own state may say so too.
    oomKilled = (await events.verdict(slot.id, 500)).oom;
    if (!exit && !oomKilled) {
      const info = await docker
        .getContainer(slot.id)
        .inspect()
        .catch((err: unknown) => {
          throw dockerError(err, 'inspect a pooled sandbox');
        });
      oomKilled = Boolean(info.State.OOMKilled);
    }
  }
  return {
    exitCode: exit ? exit.exitCode : 137,
    signal: exit ? exit.signal : 'SIGKILL',
    oomKilled,
    timedOut,
    outputLimited: meter.limited,
    aborted,
    durationMs: Date.now() - started,
    startupMs: 0,
    sandboxId: slot.id,
  };
}
