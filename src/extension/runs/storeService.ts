import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { logFileOf, RunStore, StoreCorruptError, type StoreChange } from '../../core/store';
import { Disposable } from '../dispose';
import { Settings } from '../ids';
import { StoreWorkerClient, type RemoteStore } from './storeClient';

/** How often the worker looks for another process's saves besides the file watchers. */
const RELOAD_POLL_MS = 2000;

export type { RemoteStore } from './storeClient';

/**
 * The run store of each workspace folder, opened on first use (never at activation: sql.js is loaded then) in the
 * store worker (storeWorker.ts), which owns it: loading, saving, reloading after the CLI wrote and everything that
 * reads many rows happen there, and the extension host's thread only exchanges messages with it. Kept in sync with
 * other processes (the CLI) through a file watcher, and closed (flushed) with the extension.
 */
export class StoreService extends Disposable {
  private readonly stores = new Map<string, Promise<RemoteStore>>();
  private readonly folders = new Map<string, vscode.WorkspaceFolder>();
  private readonly changed = this.track(new vscode.EventEmitter<{ folder: vscode.WorkspaceFolder; change: StoreChange }>());
  /** Fires when a store changed: a local write or another process's writes that were loaded. */
  readonly onDidChange = this.changed.event;
  readonly worker = new StoreWorkerClient(path.join(__dirname, 'storeWorker.js'), vscode.l10n.bundle);

  constructor() {
    super();
    this.track(this.worker.onDidChange((file, change) => {
      const folder = this.folders.get(file);
      if (!folder) return;
      this.changed.fire({ folder, change });
      // Runs left running by a process that died (a killed `edd run`, a crashed window): another process's writes
      // may bring such a run in.
      if (change.origin === 'external') this.recover(folder);
    }));
    this.track(this.worker.onDidFailSave((_file, e) => this.report(e)));
    this.track({ dispose: () => { void this.closeAll(); } });
  }

  /** Absolute path of the store file of `folder` (setting `edd.store.path`, relative to the folder). */
  storeFile(folder: vscode.WorkspaceFolder): string {
    const rel = vscode.workspace.getConfiguration(Settings.section, folder.uri).get<string>(Settings.storePath) || RunStore.DEFAULT_RELATIVE_PATH;
    return path.resolve(folder.uri.fsPath, rel);
  }

  /** True when the folder already has a store file (listing never creates one). */
  exists(folder: vscode.WorkspaceFolder): boolean {
    return this.stores.has(folder.uri.toString()) || fs.existsSync(this.storeFile(folder));
  }

  /** The store of `folder`, opening it if needed. Rejects with a message the user can act on when it is damaged. */
  get(folder: vscode.WorkspaceFolder): Promise<RemoteStore> {
    const key = folder.uri.toString();
    let p = this.stores.get(key);
    if (!p) {
      p = this.open(folder);
      this.stores.set(key, p);
      p.catch(() => this.stores.delete(key));
    }
    return p;
  }

  /** The store if the folder has one (opened on demand), else undefined. */
  async ifExists(folder: vscode.WorkspaceFolder): Promise<RemoteStore | undefined> {
    if (!this.exists(folder)) return undefined;
    try {
      return await this.get(folder);
    } catch (e) {
      this.report(e);
      return undefined;
    }
  }

  private async open(folder: vscode.WorkspaceFolder): Promise<RemoteStore> {
    const file = this.storeFile(folder);
    this.folders.set(file, folder);
    const store = await this.worker.open(file);
    // Another process (the CLI) writing the same store: the worker loads its runs. A save appends to the index's
    // operation log; a checkpoint replaces the index file. File watchers miss events (a file that did not exist when
    // the watch began — the log is created by another process's first append —, network drives), so the worker also
    // looks every 2 s: with nothing new that is a stat of each file, off this thread.
    const reload = () => void store.reloadIfChanged().catch(e => this.report(e));
    for (const watched of [file, logFileOf(file)]) {
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(path.dirname(watched), path.basename(watched)));
      watcher.onDidChange(reload);
      watcher.onDidCreate(reload);
      this.track(watcher);
    }
    let failing: string | undefined; // (a damaged store is reported once, not every 2 s)
    this.polls.add(setInterval(() => {
      store.reloadIfChanged().then(() => (failing = undefined), e => {
        const message = e instanceof Error ? e.message : String(e);
        if (message !== failing) this.report(e);
        failing = message;
      });
    }, RELOAD_POLL_MS));
    this.recover(folder, store);
    return store;
  }

  private recovering = new Set<string>();
  private readonly polls = new Set<NodeJS.Timeout>();

  /** Stop the leftovers of runs whose process is gone and mark them interrupted (in the worker). */
  private recover(folder: vscode.WorkspaceFolder, known?: RemoteStore): void {
    const key = folder.uri.toString();
    if (this.recovering.has(key)) return;
    this.recovering.add(key);
    void (known ? Promise.resolve(known) : this.get(folder))
      .then(store => store.op('recover'))
      .then(done => {
        if (done.length) void vscode.window.showInformationMessage(vscode.l10n.t('EDD: {0} run(s) left unfinished by a process that is gone were marked interrupted.', done.length));
      }, e => this.report(e))
      .finally(() => this.recovering.delete(key));
  }

  report(e: unknown): void {
    if (e instanceof StoreCorruptError) {
      void vscode.window.showErrorMessage(vscode.l10n.t('EDD: the run store is damaged: {0}', e.message));
    } else {
      void vscode.window.showErrorMessage(vscode.l10n.t('EDD: run store error: {0}', e instanceof Error ? e.message : String(e)));
    }
  }

  /** Save and close every open store. */
  flush(): Promise<void> {
    return this.closeAll();
  }

  private async closeAll(): Promise<void> {
    for (const poll of this.polls) clearInterval(poll);
    this.polls.clear();
    this.stores.clear();
    await this.worker.dispose();
  }
}
