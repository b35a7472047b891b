import { spawn, type ChildProcess } from 'child_process';
import * as fs from 'fs';
import * as net from 'net';
import * as path from 'path';
import { venvPython } from './mlflowFixtures';

/** A free TCP port on 127.0.0.1 (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/** A real `mlflow server` with a SQLite backend and proxied artifacts, in its own process group. */
export class MlflowServer {
  private child: ChildProcess | undefined;
  private log = '';
  constructor(readonly dir: string, readonly port: number) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(deadlineMs = 180_000): Promise<void> {
    const mlflow = path.join(path.dirname(venvPython), 'mlflow');
    fs.mkdirSync(this.dir, { recursive: true });
    this.log = '';
    this.child = spawn(mlflow, ['server', '--backend-store-uri', `sqlite:///${path.join(this.dir, 'mlflow.db')}`, '--host', '127.0.0.1', '--port', String(this.port),
      '--serve-artifacts', '--artifacts-destination', path.join(this.dir, 'artifacts'), '--workers', '1'], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.log += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.log += d.toString()));
    const until = Date.now() + deadlineMs;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`mlflow server exited (${this.child.exitCode}):\n${this.log.slice(-2000)}`);
      try {
        const r = await fetch(`${this.url}/health`, { signal: AbortSignal.timeout(2000) });
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > until) throw new Error(`mlflow server did not answer /health within ${deadlineMs} ms:\n${this.log.slice(-2000)}`);
      await new Promise(r => setTimeout(r, 200));
    }
  }

  /** Stops the whole process group (uvicorn and its workers): SIGKILL for a crash, SIGTERM for a clean stop. */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>(resolve => child.once('exit', () => resolve()));
    try {
      process.kill(-child.pid!, signal);
    } catch {
      return;
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    }, 10_000);
    await exited;
    clearTimeout(timer);
    // the workers of the group may outlive the parent by a moment: wait until the port is free
    const until = Date.now() + 20_000;
    while (Date.now() < until) {
      try {
        process.kill(-child.pid!, 0);
      } catch {
        return;
      }
      await new Promise(r => setTimeout(r, 100));
    }
  }
}
