import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { orphanedRuns, recoverInterruptedRuns } from '../../core/runs/recover';
import { RunStore, StoreCorruptError, type StoreChange } from '../../core/store';
import { Disposable } from '../dispose';
import { Settings } from '../ids';

/**
 * The run store of each workspace folder, opened on first use (never at activation: sql.js is loaded then), kept in
 * sync with other processes (the CLI) through a file watcher, and closed (flushed) with the extension.
 */
export class StoreService extends Disposable {
  private readonly stores = new Map<string, Promise<RunStore>>();
  private readonly changed = this.track(new vscode.EventEmitter<{ folder: vscode.WorkspaceFolder; change: StoreChange }>());
  /** Fires when a store changed: a local write or another process's writes that were loaded. */
  readonly onDidChange = this.changed.event;

  constructor() {
    super();
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
  get(folder: vscode.WorkspaceFolder): Promise<RunStore> {
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
  async ifExists(folder: vscode.WorkspaceFolder): Promise<RunStore | undefined> {
    if (!this.exists(folder)) return undefined;
    try {
      return await this.get(folder);
    } catch (e) {
      this.report(e);
      return undefined;
    }
  }

  private async open(folder: vscode.WorkspaceFolder): Promise<RunStore> {
    const file = this.storeFile(folder);
    // sql.js's wasm is found beside the bundle (esbuild.mjs copies it to dist/).
    const store = await RunStore.open(file);
    store.onDidChange(change => this.changed.fire({ folder, change }));
    store.onDidFailSave(e => this.report(e));
    // Another process (the CLI) writing the same file: load its runs.
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(path.dirname(file), path.basename(file)));
    const reload = () => void store.reloadIfChanged().catch(e => this.report(e));
    watcher.onDidChange(reload);
    watcher.onDidCreate(reload);
    this.track(watcher);
    // Runs left running by a process that died (a killed `edd run`, a crashed window): stop their leftovers and mark
    // them interrupted, now and whenever another process's writes bring such a run in.
    let recovering = false;
    const recover = () => {
      if (recovering || orphanedRuns(store).length === 0) return;
      recovering = true;
      void recoverInterruptedRuns(store)
        .then(done => {
          if (done.length) void vscode.window.showInformationMessage(vscode.l10n.t('EDD: {0} run(s) left unfinished by a process that is gone were marked interrupted.', done.length));
        }, e => this.report(e))
        .finally(() => (recovering = false));
    };
    store.onDidChange(change => { if (change.origin === 'external') recover(); });
    recover();
    return store;
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
    const all = [...this.stores.values()];
    this.stores.clear();
    for (const p of all) {
      try {
        await (await p).close();
      } catch {
        // a store that failed to open has nothing to flush
      }
    }
  }
}
