import * as vscode from 'vscode';
import { Disposable } from '../dispose';
import { Commands } from '../ids';
import type { ExperimentNode, ExperimentsTree } from '../runs/experimentsTree';
import type { StoreService } from '../runs/storeService';
import { COMPARE_VIEW_TYPE, ComparePanel } from './panel';

/** "Compare Runs": from the tree's multi-selection (runs or whole experiments) or a pick of runs. */
export class CompareCommands extends Disposable {
  constructor(private readonly extensionUri: vscode.Uri, private readonly stores: StoreService, private readonly tree: ExperimentsTree) {
    super();
    this.track(vscode.commands.registerCommand(Commands.compareRuns, (node?: ExperimentNode, nodes?: ExperimentNode[]) => this.compare(node, nodes)));
    this.track(vscode.window.registerUriHandler({ handleUri: uri => { this.handleUri(uri); } }));
    this.track(vscode.window.registerWebviewPanelSerializer(COMPARE_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state) => {
        const revived = ComparePanel.revive(panel, this.extensionUri, this.stores, state);
        if (revived) this.track(revived);
      },
    }));
  }

  private async compare(node?: ExperimentNode, nodes?: ExperimentNode[]): Promise<ComparePanel | undefined> {
    const picked = (nodes?.length ? nodes : node ? [node] : [...this.tree.view.selection]);
    let targets = picked.flatMap(n => (n.kind === 'run' ? [n.runId] : n.kind === 'experiment' ? [n.experimentId] : []));
    let folderUri = picked[0]?.folder;
    // One experiment is a comparison of its seeds; one run alone is not: then ask.
    if (targets.length === 0 || (targets.length === 1 && picked[0].kind !== 'experiment')) {
      const chosen = await this.pickRuns();
      if (!chosen) return undefined;
      targets = chosen.ids;
      folderUri = chosen.folder.uri.toString();
    }
    const folder = vscode.workspace.workspaceFolders?.find(f => f.uri.toString() === folderUri) ?? vscode.workspace.workspaceFolders?.[0];
    if (!folder) return undefined;
    const panel = ComparePanel.create(this.extensionUri, this.stores, folder, targets);
    this.track(panel);
    return panel;
  }

  /** `vscode://edd.edd/compare?runs=ID,ID&baseline=ID` (what `edd compare --open` sends). */
  handleUri(uri: vscode.Uri): ComparePanel | undefined {
    if (uri.path !== '/compare') return undefined;
    const q = new URLSearchParams(uri.query);
    const runs = (q.get('runs') ?? '').split(',').map(s => s.trim()).filter(Boolean);
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (runs.length < 1 || !folder) {
      void vscode.window.showErrorMessage(vscode.l10n.t('EDD: the link names no runs to compare.'));
      return undefined;
    }
    const panel = ComparePanel.create(this.extensionUri, this.stores, folder, runs, q.get('baseline') ?? undefined);
    this.track(panel);
    return panel;
  }

  private async pickRuns(): Promise<{ folder: vscode.WorkspaceFolder; ids: string[] } | undefined> {
    const folder = vscode.workspace.workspaceFolders?.[0];
    const store = folder ? await this.stores.ifExists(folder) : undefined;
    const runs = (await store?.listRuns({ limit: 500 })) ?? [];
    if (!folder || runs.length < 2) {
      void vscode.window.showInformationMessage(vscode.l10n.t('A comparison needs at least two recorded runs. Run an experiment first.'));
      return undefined;
    }
    const items = runs.map(r => ({
      label: `${r.experimentId} — ${r.startedAt ? new Date(r.startedAt).toLocaleString() : r.id.slice(0, 8)}`,
      description: `${r.status}${r.seed !== null ? ` · seed ${r.seed}` : ''}`,
      id: r.id,
    }));
    const chosen = await vscode.window.showQuickPick(items, { canPickMany: true, placeHolder: vscode.l10n.t('Pick two or more runs to compare') });
    if (!chosen || chosen.length < 2) return undefined;
    // Oldest first: the earliest run is the natural baseline.
    return { folder, ids: chosen.map(c => c.id).reverse() };
  }
}
