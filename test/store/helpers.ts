// Shared by the store tests: temp folders and child-process writers (test/store/writer.ts).
import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import type { WriterConfig } from './writer';

/** A fresh temp folder; removed by `cleanup()`. */
export function tempFolder(): { dir: string; file: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-store-'));
  return { dir, file: path.join(dir, '.edd', 'edd.sqlite'), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Polls `condition` until it holds or `timeoutMs` passes (no fixed sleeps). */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 5));
  }
}

export interface Writer {
  child: ChildProcess;
  /** Run ids the writer reported as saved (complete lines only). */
  saved: string[];
  ready: () => boolean;
  /** Saves of the writer that merged another process's save (known after `done`). */
  merged: () => number;
  done: () => boolean;
  stderr: () => string;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const WRITER = path.join(__dirname, 'writer.js');

export function spawnWriter(config: WriterConfig): Writer {
  const child = spawn(process.execPath, [WRITER, JSON.stringify(config)], { stdio: [config.waitForGo ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  const saved: string[] = [];
  let ready = false;
  let done = false;
  let merged = 0;
  let out = '';
  let err = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      if (line === 'ready') ready = true;
      else if (line === 'done') done = true;
      else if (line.startsWith('saved ')) saved.push(line.slice(6));
      else if (line.startsWith('merged ')) merged = Number(line.slice(7));
      else err += `unexpected output: ${line}\n`;
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>(resolve => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { child, saved, ready: () => ready, merged: () => merged, done: () => done, stderr: () => err, exited };
}

/** A process id that is certainly not running: a child that has exited (and been reaped). */
export async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const pid = child.pid!;
  await new Promise(resolve => child.on('exit', resolve));
  return pid;
}
