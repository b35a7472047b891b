import * as vscode from 'vscode';
import { columnsFor } from '../../core/compare/downsample';
import type { Comparison } from '../../core/compare/model';
import type { HypothesisStatus } from '../../core/store';
import { isCompareViewState, isWebviewMessage, type CompareViewState, type HostMessage } from '../../protocol/compare';
import { Disposable } from '../dispose';
import { Settings } from '../ids';
import type { StoreService } from '../runs/storeService';
import { webviewPage } from '../webviewPage';

export const COMPARE_VIEW_TYPE = 'edd.compare';

/** What the host records for tests and for the serializer: the last messages exchanged. */
export interface PanelTrace {
  received: string[];
  sent: string[];
}

/**
 * The comparison panel's host: builds the comparison in the core, sends it after the webview's `ready`, answers its
 * requests, rebuilds when a compared run changes (live update while it runs), and restores itself after a reload.
 */
export class ComparePanel extends Disposable {
  private static readonly open = new Set<ComparePanel>();
  private state: CompareViewState;
  private ready = false;
  private comparison: Comparison | undefined;
  private rebuildTimer: NodeJS.Timeout | undefined;
  /** The sweep views' grouping the user chose (default: the sweep's most important parameter). */
  private sweepGroupBy: string | undefined;
  readonly trace: PanelTrace = { received: [], sent: [] };
  private readonly changed = this.track(new vscode.EventEmitter<HostMessage['type']>());
  /** Fires after the host posted a message (tests wait on it). */
  readonly onDidPost = this.changed.event;

  static get panels(): readonly ComparePanel[] {
    return [...ComparePanel.open];
  }

  /** Open a new comparison of `runIds` (run or experiment ids) of `folder`. */
  static create(extensionUri: vscode.Uri, stores: StoreService, folder: vscode.WorkspaceFolder, runIds: string[], baselineRunId?: string): ComparePanel {
    const panel = vscode.window.createWebviewPanel(COMPARE_VIEW_TYPE, vscode.l10n.t('Compare {0} runs', runIds.length), vscode.ViewColumn.Active, ComparePanel.options(extensionUri));
    return new ComparePanel(panel, extensionUri, stores, folder, { runIds, baselineRunId, onlyChanged: true, valueKind: 'final' });
  }

  /** Recreate a panel VS Code restored after a reload, from the state the webview saved. */
  static revive(panel: vscode.WebviewPanel, extensionUri: vscode.Uri, stores: StoreService, state: unknown): ComparePanel | undefined {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder || !isCompareViewState(state)) {
      panel.dispose();
      return undefined;
    }
    panel.webview.options = ComparePanel.options(extensionUri);
    return new ComparePanel(panel, extensionUri, stores, folder, state);
  }

  private static options(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      // The bundle and the codicons are all the page may load.
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview'), vscode.Uri.joinPath(extensionUri, 'media')],
      retainContextWhenHidden: false,
    };
  }

  private constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly extensionUri: vscode.Uri,
    private readonly stores: StoreService,
    private readonly folder: vscode.WorkspaceFolder,
    initial: CompareViewState,
  ) {
    super();
    this.state = initial;
    ComparePanel.open.add(this);
    this.track({ dispose: () => { ComparePanel.open.delete(this); clearTimeout(this.rebuildTimer); } });
    this.track(panel.onDidDispose(() => this.dispose()));
    this.track(panel.webview.onDidReceiveMessage(m => void this.receive(m)));
    this.track(stores.onDidChange(({ folder: f, change }) => {
      if (f.uri.toString() !== this.folder.uri.toString() || !this.ready) return;
      const ids = this.comparison?.runs.map(r => r.runId) ?? [];
      if (change.runIds && !change.runIds.some(id => ids.includes(id))) return;
      // Throttle, not debounce: a running run writes every 250 ms, and the panel must still update while it runs.
      if (this.rebuildTimer) return;
      this.rebuildTimer = setTimeout(() => {
        this.rebuildTimer = undefined;
        void this.rebuild();
      }, 400);
    }));
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'edd.svg');
    panel.webview.html = this.html();
  }

  private html(): string {
    return webviewPage(this.panel.webview, this.extensionUri, 'compare', vscode.l10n.t('Compare runs'));
  }

  private post(message: HostMessage): void {
    this.trace.sent.push(message.type);
    void this.panel.webview.postMessage(message).then(() => this.changed.fire(message.type));
  }

  private async receive(raw: unknown): Promise<void> {
    if (!isWebviewMessage(raw)) return; // never trust the shape of what arrives
    this.trace.received.push(raw.type);
    switch (raw.type) {
      case 'ready':
        this.ready = true;
        await this.rebuild();
        return;
      case 'setBaseline':
        this.state = { ...this.state, baselineRunId: raw.runId };
        await this.rebuild();
        return;
      case 'requestCurves': {
        // The webview gets what its plot can draw (about two points per pixel column per run), never every point.
        // The store worker reads the points (once per comparison and metric) and reduces them; only the frame comes here.
        const store = await this.stores.get(this.folder);
        const frame = await store.op('curveFrame', this.comparison?.runs.map(r => r.runId) ?? [], raw.metric, columnsFor(raw.width, raw.pixelRatio), raw.range);
        this.post({ type: 'curves', seq: raw.seq, frame });
        return;
      }
      case 'stateChanged':
        this.state = raw.state;
        return;
      case 'export': {
        const ext = raw.format === 'csv' ? 'csv' : 'md';
        const target = await vscode.window.showSaveDialog({
          defaultUri: vscode.Uri.joinPath(this.folder.uri, `comparison.${ext}`),
          filters: raw.format === 'csv' ? { CSV: ['csv'] } : { Markdown: ['md'] },
        });
        if (target) {
          await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(raw.content));
          void vscode.window.showInformationMessage(vscode.l10n.t('Comparison exported to {0}.', vscode.workspace.asRelativePath(target)));
        }
        return;
      }
      case 'setHypothesis': {
        const store = await this.stores.get(this.folder);
        await store.setHypothesisStatus(raw.experimentId, raw.status as HypothesisStatus, raw.decidedBy);
        await store.save();
        await this.rebuild();
        return;
      }
      case 'openRun':
        void vscode.commands.executeCommand('edd.experiments.focus');
        return;
      case 'setSweepGroupBy':
        this.sweepGroupBy = raw.groupBy;
        await this.postSweep(await this.stores.get(this.folder));
        return;
    }
  }

  /** Build the comparison again (baseline change, a compared run changed) and send it. */
  async rebuild(): Promise<Comparison | undefined> {
    try {
      const store = await this.stores.get(this.folder);
      // Built in the store worker (it keeps the measured latencies between builds).
      this.comparison = await store.op('compare', this.state.runIds, {
        workspaceRoot: this.folder.uri.fsPath, baseline: this.state.baselineRunId,
        goals: vscode.workspace.getConfiguration(Settings.section, this.folder.uri).get<Record<string, 'min' | 'max'>>(Settings.goals),
      });
      this.state = { ...this.state, runIds: this.state.runIds };
      this.panel.title = vscode.l10n.t('Compare {0} runs', this.comparison.runs.length);
      this.post({ type: 'comparison', comparison: this.comparison, state: this.state });
      await this.postSweep(store);
      return this.comparison;
    } catch (e) {
      this.post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      return undefined;
    }
  }

  /** The sweep views, when every compared run belongs to one sweep (src/core/compare/sweep.ts). */
  private async postSweep(store: Awaited<ReturnType<typeof this.stores.get>>): Promise<void> {
    const runIds = this.comparison?.runs.map(r => r.runId) ?? [];
    // Built in the store worker, like the comparison.
    const sweep = await store.op('sweepComparison', runIds, { workspaceRoot: this.folder.uri.fsPath, groupBy: this.sweepGroupBy });
    if (sweep) this.post({ type: 'sweep', sweep });
  }

  get current(): Comparison | undefined {
    return this.comparison;
  }

  override dispose(): void {
    super.dispose();
    this.panel.dispose();
  }
}
