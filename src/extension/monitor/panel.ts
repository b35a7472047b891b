import * as vscode from 'vscode';
import type { MonitorResult } from '../../core/monitor';
import { isWebviewMessage, type HostMessage, type Layer, type MonitorViewState } from '../../protocol/monitor';
import { Disposable } from '../dispose';
import { webviewPage } from '../webviewPage';

export const MONITOR_VIEW_TYPE = 'edd.monitor';

/** What the panel asks of its controller: read the log (off the extension host's thread), make an experiment. */
export interface MonitorSource {
  read(spec: vscode.Uri): Promise<MonitorResult>;
  createExperiment(spec: vscode.Uri, result: MonitorResult, index: number): Promise<unknown>;
}

/**
 * The Monitoring panel's host for one service spec: reads the monitoring after the webview's `ready` and on
 * "Refresh", posts it, and turns "Create experiment" on an alert into the command. Restored after a reload from the
 * state the webview kept (the spec, the layer and the last result).
 */
export class MonitorPanel extends Disposable {
  private ready = false;
  private result: MonitorResult | undefined;
  readonly sent: HostMessage[] = [];
  private readonly posted = this.track(new vscode.EventEmitter<HostMessage>());
  /** Fires after the host posted a message (tests wait on it). */
  readonly onDidPost = this.posted.event;
  private readonly refreshed = this.track(new vscode.EventEmitter<MonitorResult>());
  readonly onDidRefresh = this.refreshed.event;

  static options(extensionUri: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist', 'webview')],
      retainContextWhenHidden: false,
    };
  }

  static create(extensionUri: vscode.Uri, spec: vscode.Uri, source: MonitorSource): MonitorPanel {
    const panel = vscode.window.createWebviewPanel(MONITOR_VIEW_TYPE, vscode.l10n.t('Monitoring: {0}', vscode.workspace.asRelativePath(spec)), vscode.ViewColumn.Active, MonitorPanel.options(extensionUri));
    return new MonitorPanel(panel, extensionUri, spec, source);
  }

  constructor(readonly panel: vscode.WebviewPanel, extensionUri: vscode.Uri, readonly spec: vscode.Uri, private readonly source: MonitorSource, kept?: MonitorViewState) {
    super();
    this.result = kept?.result;
    this.track(panel.onDidDispose(() => this.dispose()));
    this.track(panel.webview.onDidReceiveMessage(m => void this.receive(m)));
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'edd.svg');
    panel.webview.html = webviewPage(panel.webview, extensionUri, 'monitor', vscode.l10n.t('Monitoring'));
  }

  get current(): MonitorResult | undefined {
    return this.result;
  }

  private post(message: HostMessage): void {
    this.sent.push(message);
    void this.panel.webview.postMessage(message).then(() => this.posted.fire(message));
  }

  private async receive(raw: unknown): Promise<void> {
    if (!isWebviewMessage(raw)) return;
    switch (raw.type) {
      case 'ready':
        this.ready = true;
        await this.refresh();
        return;
      case 'refresh':
        await this.refresh();
        return;
      case 'createExperiment':
        if (this.result && raw.index < this.result.alerts.length) await this.source.createExperiment(this.spec, this.result, raw.index);
        return;
      case 'stateChanged':
        return;
    }
  }

  /** Read the log again and post the result (when the webview is ready). */
  async refresh(): Promise<MonitorResult | undefined> {
    try {
      this.result = await this.source.read(this.spec);
      if (this.ready) this.post({ type: 'result', specUri: this.spec.toString(), result: this.result });
      this.refreshed.fire(this.result);
      return this.result;
    } catch (e) {
      this.post({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      return undefined;
    }
  }

  override dispose(): void {
    super.dispose();
    this.panel.dispose();
  }
}

export type { Layer };
