// What each scripted edit does to the workspace, and the tool call the real CLI would report for it.
import * as childProcess from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FakeMisuse, parseMode, type Edit, type Json } from './fake-cursor-script-loader';

/** A tool call as the CLI reports it: `{ <kind>ToolCall: { args, result? } }`. */
export type ToolCall = Record<string, { args: Json; result?: Json }>;

function countLines(text: string): number {
  if (text === '') return 0;
  return text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
}

function simpleDiff(before: string, after: string): string {
  const removed = before === '' ? [] : before.replace(/\n$/, '').split('\n');
  const added = after === '' ? [] : after.replace(/\n$/, '').split('\n');
  return [
    '--- a',
    '+++ b',
    `@@ -1,${removed.length} +1,${added.length} @@`,
    ...removed.map((l) => `-${l}`),
    ...added.map((l) => `+${l}`),
  ].join('\n');
}

function readIfFile(abs: string): string {
  try {
    return fs.readFileSync(abs, 'utf8');
  } catch (err) {
    // No file yet (an append that creates it): the diff starts from nothing.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

function shellQuote(s: string): string {
  return /^[A-Za-z0-9_./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, "'\\''")}'`;
}

/** Performs one edit and returns the tool call the real CLI would report for it. */
export function performEdit(edit: Edit, ctx: { workspace: string; force: boolean; callId: string }): ToolCall {
  const resolve = (p: string) => path.resolve(ctx.workspace, p);
  const shellResult = (command: string, run: () => void): ToolCall => {
    const args = { command, workingDirectory: ctx.workspace };
    try {
      run();
      return {
        shellToolCall: {
          args,
          result: { success: { command, workingDirectory: ctx.workspace, exitCode: 0, stdout: '', stderr: '' } },
        },
      };
    } catch (error) {
      return {
        shellToolCall: {
          args,
          result: {
            failure: {
              command,
              workingDirectory: ctx.workspace,
              exitCode: 1,
              stdout: '',
              stderr: String((error as Error).message),
            },
          },
        },
      };
    }
  };
  switch (edit.op) {
    case 'write':
    case 'create': {
      const abs = resolve(edit.path);
      const data = edit.encoding === 'base64' ? Buffer.from(edit.content, 'base64') : edit.content;
      if (data === undefined) throw new FakeMisuse('write needs content');
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.writeFileSync(abs, data);
      const mode = parseMode(edit.mode, 'edit');
      if (mode !== undefined) fs.chmodSync(abs, mode);
      return {
        writeToolCall: {
          args: { path: abs, fileText: edit.content, toolCallId: ctx.callId },
          result: {
            success: { path: abs, linesCreated: countLines(String(edit.content)), fileSize: Buffer.byteLength(data) },
          },
        },
      };
    }
    case 'append': {
      const abs = resolve(edit.path);
      const before = readIfFile(abs);
      fs.mkdirSync(path.dirname(abs), { recursive: true });
      fs.appendFileSync(abs, edit.encoding === 'base64' ? Buffer.from(edit.content, 'base64') : edit.content);
      const after = readIfFile(abs);
      const mode = parseMode(edit.mode, 'edit');
      if (mode !== undefined) fs.chmodSync(abs, mode);
      return {
        editToolCall: {
          args: { path: abs, streamContent: after },
          result: {
            success: {
              path: abs,
              linesAdded: countLines(after) - countLines(before),
              linesRemoved: 0,
              diffString: simpleDiff(before, after),
              beforeFullFileContent: before,
              afterFullFileContent: after,
            },
          },
        },
      };
    }
    case 'delete': {
      const abs = resolve(edit.path);
      fs.rmSync(abs, { recursive: true, force: true });
      return {
        deleteToolCall: {
          args: { path: abs, toolCallId: ctx.callId },
          result: { success: { path: abs, deletedFile: abs } },
        },
      };
    }
    case 'rename':
      return shellResult(`mv ${shellQuote(edit.path)} ${shellQuote(edit.to)}`, () => {
        fs.mkdirSync(path.dirname(resolve(edit.to)), { recursive: true });
        fs.renameSync(resolve(edit.path), resolve(edit.to));
      });
    case 'chmod': {
      const mode = parseMode(edit.mode, 'edit')!;
      return shellResult(`chmod ${mode.toString(8)} ${shellQuote(edit.path)}`, () =>
        fs.chmodSync(resolve(edit.path), mode),
      );
    }
    case 'symlink':
      return shellResult(`ln -s ${shellQuote(edit.target)} ${shellQuote(edit.path)}`, () => {
        fs.mkdirSync(path.dirname(resolve(edit.path)), { recursive: true });
        fs.symlinkSync(edit.target, resolve(edit.path));
      });
    case 'mkdir':
      return shellResult(
        `mkdir -p ${shellQuote(edit.path)}`,
        () => void fs.mkdirSync(resolve(edit.path), { recursive: true }),
      );
    case 'shell': {
      const args = { command: edit.command, workingDirectory: ctx.workspace };
      if (!ctx.force) {
        return {
          shellToolCall: {
            args,
            result: {
              rejected: { command: edit.command, workingDirectory: ctx.workspace, reason: '', isReadonly: false },
            },
          },
        };
      }
      const run = childProcess.spawnSync('/bin/sh', ['-c', edit.command], {
        cwd: ctx.workspace,
        encoding: 'utf8',
        env: process.env,
      });
      const outcome = {
        command: edit.command,
        workingDirectory: ctx.workspace,
        exitCode: run.status === null ? 1 : run.status,
        stdout: run.stdout || '',
        stderr: run.stderr || (run.error ? String(run.error.message) : ''),
      };
      return { shellToolCall: { args, result: outcome.exitCode === 0 ? { success: outcome } : { failure: outcome } } };
    }
    default:
      throw new FakeMisuse(`unknown op ${(edit as { op: string }).op}`);
  }
}

export function performEditStarted(edit: Edit, workspace: string, callId: string): ToolCall {
  const abs = (p: string) => path.resolve(workspace, p);
  switch (edit.op) {
    case 'write':
    case 'create':
      return { writeToolCall: { args: { path: abs(edit.path), fileText: edit.content, toolCallId: callId } } };
    case 'append':
      return { editToolCall: { args: { path: abs(edit.path), streamContent: edit.content } } };
    case 'delete':
      return { deleteToolCall: { args: { path: abs(edit.path), toolCallId: callId } } };
    case 'shell':
      return { shellToolCall: { args: { command: edit.command, workingDirectory: workspace } } };
    case 'rename':
      return {
        shellToolCall: {
          args: { command: `mv ${shellQuote(edit.path)} ${shellQuote(edit.to)}`, workingDirectory: workspace },
        },
      };
    case 'chmod':
      return {
        shellToolCall: {
          args: {
            command: `chmod ${parseMode(edit.mode, 'edit')!.toString(8)} ${shellQuote(edit.path)}`,
            workingDirectory: workspace,
          },
        },
      };
    case 'symlink':
      return {
        shellToolCall: {
          args: { command: `ln -s ${shellQuote(edit.target)} ${shellQuote(edit.path)}`, workingDirectory: workspace },
        },
      };
    case 'mkdir':
      return { shellToolCall: { args: { command: `mkdir -p ${shellQuote(edit.path)}`, workingDirectory: workspace } } };
    default:
      return { unknownToolCall: { args: {} } };
  }
}
