import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { Disposable } from '../dispose';
import { Commands } from '../ids';
import type { ValidationService } from '../validation';
import type { ExperimentNode, ExperimentsTree } from './experimentsTree';
import type { RunController } from './runController';
import type { StoreService } from './storeService';

type RunNode = Extract<ExperimentNode, { kind: 'run' }>;

/** The run commands of the palette, the tree's context menus and the CodeLens. */
export class RunCommands extends Disposable {
  constructor(
    private readonly runs: RunController,
    private readonly stores: StoreService,
    private readonly tree: ExperimentsTree,
    private readonly validation: ValidationService,
  ) {
    super();
    const reg = (id: string, fn: (...args: never[]) => unknown) => this.track(vscode.commands.registerCommand(id, fn));
    reg(Commands.runExperiment, (target?: vscode.Uri | ExperimentNode) => this.runExperiment(target));
    reg(Commands.cancelRun, (node?: RunNode) => this.cancel(node));
    reg(Commands.rerun, (node?: RunNode) => this.rerun(node));
    reg(Commands.reproduceRun, (node?: RunNode, confirm?: boolean) => this.reproduce(node, confirm));
    reg(Commands.openLog, (node?: RunNode) => this.openLog(node));
    reg(Commands.openRunConfig, (node?: RunNode) => this.openRunConfig(node));
    reg(Commands.revealArtifact, (node?: Extract<ExperimentNode, { kind: 'artifact' }>) => this.revealArtifact(node));
    reg(Commands.deleteRun, (node?: RunNode, nodes?: ExperimentNode[], confirm?: boolean) => this.deleteRuns(node, nodes, confirm));
    reg(Commands.refreshExperiments, () => this.tree.refresh());
    reg(Commands.showMoreRuns, (node: Extract<ExperimentNode, { kind: 'more' }>) => this.tree.showMore(node));
  }

  private folder(uri: string): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.find(f => f.uri.toString() === uri);
  }

  /** The config to run: the argument (a URI or a tree node), else the active editor, else a pick from all configs. */
  private async configUri(target?: vscode.Uri | ExperimentNode): Promise<vscode.Uri | undefined> {
    if (target instanceof vscode.Uri) return target;
    if (target && target.kind === 'experiment') {
      const folder = this.folder(target.folder);
      if (folder && target.configPath) return vscode.Uri.joinPath(folder.uri, target.configPath);
    }
    const active = vscode.window.activeTextEditor?.document;
    if (active && this.validation.kindOf(active) === 'experiment') return active.uri;
    const configs = this.validation.configs.filter(c => c.kind === 'experiment');
    if (configs.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No experiment configs found in this workspace.'));
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(configs.map(c => ({
      label: c.experimentId?.id ?? vscode.workspace.asRelativePath(c.uri),
      description: vscode.workspace.asRelativePath(c.uri),
      uri: c.uri,
    })), { placeHolder: vscode.l10n.t('Pick the experiment config to run') });
    return pick?.uri;
  }

  private async runExperiment(target?: vscode.Uri | ExperimentNode) {
    const uri = await this.configUri(target);
    if (!uri) return undefined;
    try {
      return await this.runs.run({ uri });
    } catch {
      return undefined; // the controller has told the user why
    }
  }

  private selectedRun(node?: RunNode): RunNode | undefined {
    if (node?.kind === 'run') return node;
    const sel = this.tree.view.selection.find(n => n.kind === 'run');
    return sel as RunNode | undefined;
  }

  private cancel(node?: RunNode): boolean {
    const n = this.selectedRun(node);
    return n ? this.runs.cancel(n.runId) : false;
  }

  private async rerun(node?: RunNode) {
    const n = this.selectedRun(node);
    const folder = n && this.folder(n.folder);
    if (!n || !folder) return undefined;
    const run = await (await this.stores.get(folder)).getRun(n.runId);
    if (!run?.configPath) return undefined;
    return this.runExperiment(vscode.Uri.joinPath(folder.uri, run.configPath));
  }

  private async reproduce(node?: RunNode, confirm = true) {
    const n = this.selectedRun(node);
    const folder = n && this.folder(n.folder);
    if (!n || !folder) return undefined;
    try {
      return await this.runs.reproduce(folder, n.runId, confirm);
    } catch (e) {
      void vscode.window.showErrorMessage(vscode.l10n.t('EDD: cannot reproduce the run: {0}', e instanceof Error ? e.message : String(e)));
      return undefined;
    }
  }

  private async openLog(node?: RunNode) {
    const n = this.selectedRun(node);
    const folder = n && this.folder(n.folder);
    if (!n || !folder) return;
    const run = await (await this.stores.get(folder)).getRun(n.runId);
    const file = run?.logPath ? path.resolve(folder.uri.fsPath, run.logPath) : undefined;
    if (!file || !fs.existsSync(file)) {
      void vscode.window.showWarningMessage(vscode.l10n.t('This run has no log file (it may have been cleaned up).'));
      return;
    }
    await vscode.window.showTextDocument(vscode.Uri.file(file), { preview: true });
  }

  /** The config exactly as it was when the run started (read-only, in an untitled editor). */
  private async openRunConfig(node?: RunNode) {
    const n = this.selectedRun(node);
    const folder = n && this.folder(n.folder);
    if (!n || !folder) return;
    const run = await (await this.stores.get(folder)).getRun(n.runId);
    if (!run?.configSnapshot) return;
    const doc = await vscode.workspace.openTextDocument({ language: 'yaml', content: run.configSnapshot });
    await vscode.window.showTextDocument(doc, { preview: true });
  }

  private async revealArtifact(node?: Extract<ExperimentNode, { kind: 'artifact' }>) {
    if (!node) return;
    const uri = this.tree.artifactUri(node);
    if (!fs.existsSync(uri.fsPath)) {
      void vscode.window.showWarningMessage(vscode.l10n.t('The artifact {0} no longer exists on disk.', node.path));
      return;
    }
    await vscode.commands.executeCommand('revealInExplorer', uri);
  }

  private async deleteRuns(node?: RunNode, nodes?: ExperimentNode[], confirm = true): Promise<number> {
    const picked = (nodes?.length ? nodes : node ? [node] : this.tree.view.selection).filter((n): n is RunNode => n.kind === 'run');
    if (picked.length === 0) return 0;
    if (picked.some(n => this.runs.isRunning(n.runId))) {
      void vscode.window.showWarningMessage(vscode.l10n.t('A selected run is still running: cancel it first.'));
      return 0;
    }
    if (confirm) {
      const del = vscode.l10n.t('Delete');
      const choice = await vscode.window.showWarningMessage(
        vscode.l10n.t('Delete {0} run(s) with their metric histories and config snapshots? Their logs and artifacts in .edd/runs stay.', picked.length), { modal: true }, del);
      if (choice !== del) return 0;
    }
    let deleted = 0;
    for (const n of picked) {
      const folder = this.folder(n.folder);
      if (!folder) continue;
      const store = await this.stores.get(folder);
      if (await store.deleteRun(n.runId)) deleted++;
      await store.save();
    }
    return deleted;
  }
}
