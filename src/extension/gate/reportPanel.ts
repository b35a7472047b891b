import * as vscode from 'vscode';
import { validatePolicy } from '../../core/checks/policy';
import type { GateReport } from '../../core/checks/types';
import { isGateViewState, isWebviewMessage, type HostMessage } from '../../protocol/gate';
import { Disposable } from '../dispose';
import { Commands } from '../ids';
import { webviewPage } from '../webviewPage';

export const GATE_REPORT_VIEW_TYPE = 'edd.gateReport';

/** What the host records for tests: the types of the messages received, and the messages posted (in order). */
export interface ReportPanelTrace {
  received: string[];
  sent: HostMessage[];
}

/**
 * The gate report panel's host: one panel, reused. `show(report, policyUri)` opens it (or brings it forward) and
 * posts the report after the webview's `ready`; the webview asks to reveal a check's policy line or to run the gate
 * again. After a reload of the window the serializer shows the report the webview kept in its state.
 */
export class GateReportPanel extends Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private panelSubs: vscode.Disposable[] = [];
  private ready = false;
  private report: GateReport | null = null;
  private policyUri: vscode.Uri | undefined;
  readonly trace: ReportPanelTrace = { received: [], sent: [] };
  private readonly posted = this.track(new vscode.EventEmitter<HostMessage>());
  /** Fires after the host posted a message to the webview (tests wait on it). */
  readonly onDidPost = this.posted.event;

  constructor(private readonly extensionUri: vscode.Uri) {
    super();
    this.track(vscode.window.registerWebviewPanelSerializer(GATE_REPORT_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state) => {
        if (this.panel) {
          panel.dispose(); // one report panel: the live one wins
          return;
        }
        const kept = isGateViewState(state) ? state : undefined;
        this.report = kept?.report ?? null;
        this.policyUri = kept?.policyUri ? vscode.Uri.parse(kept.policyUri) : undefined;
        this.attach(panel);
      },
    }));
    this.track({ dispose: () => this.panel?.dispose() });
  }

  /** The report shown (null: the empty state), and its policy. */
  get current(): { report: GateReport | null; policyUri: vscode.Uri | undefined } {
    return { report: this.report, policyUri: this.policyUri };
  }

  /** Whether the panel exists (open in some editor group, visible or not). */
  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  /** The last message posted to the webview. */
  get lastPosted(): HostMessage | undefined {
    return this.trace.sent[this.trace.sent.length - 1];
  }

  /** Show `report` of `policyUri` (null: no report yet), opening the panel beside the editor if it is not open. */
  show(report: GateReport | null, policyUri: vscode.Uri | undefined, options: { preserveFocus?: boolean } = {}): void {
    this.report = report;
    this.policyUri = policyUri;
    if (!this.panel) {
      const panel = vscode.window.createWebviewPanel(GATE_REPORT_VIEW_TYPE, this.title(), { viewColumn: vscode.ViewColumn.Beside, preserveFocus: options.preserveFocus ?? true }, this.options());
      this.attach(panel);
      return;
    }
    this.panel.title = this.title();
    if (!this.panel.visible) this.panel.reveal(undefined, options.preserveFocus ?? true);
    if (this.ready) this.postReport();
  }

  private title(): string {
    return this.report ? vscode.l10n.t('Gate: {0}', this.report.policy.split(/[\\/]/).pop() ?? this.report.policy) : vscode.l10n.t('Gate report');
  }

  private options(): vscode.WebviewPanelOptions & vscode.WebviewOptions {
    return {
      enableScripts: true,
      // The bundle is all the page may load.
      localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview')],
      retainContextWhenHidden: false,
      enableFindWidget: true,
    };
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel = panel;
    this.ready = false;
    panel.webview.options = this.options();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'media', 'edd.svg');
    panel.title = this.title();
    this.panelSubs = [
      panel.onDidDispose(() => {
        for (const s of this.panelSubs) s.dispose();
        this.panelSubs = [];
        this.panel = undefined;
        this.ready = false;
      }),
      panel.webview.onDidReceiveMessage(m => void this.receive(m)),
      // Hidden and shown again, the webview reloads (no retained context) and says `ready` again.
      panel.onDidChangeViewState(() => { if (!panel.visible) this.ready = false; }),
    ];
    panel.webview.html = this.html(panel.webview);
  }

  private html(webview: vscode.Webview): string {
    return webviewPage(webview, this.extensionUri, 'gate', vscode.l10n.t('Gate report'));
  }

  private post(message: HostMessage): void {
    if (!this.panel) return;
    this.trace.sent.push(message);
    void this.panel.webview.postMessage(message).then(() => this.posted.fire(message));
  }

  private postReport(): void {
    this.post({ type: 'report', report: this.report, policyUri: this.policyUri?.toString() });
  }

  private async receive(raw: unknown): Promise<void> {
    if (!isWebviewMessage(raw)) return; // never trust the shape of what arrives
    this.trace.received.push(raw.type);
    switch (raw.type) {
      case 'ready':
        this.ready = true;
        this.postReport();
        return;
      case 'revealCheck':
        try {
          await this.revealCheck(raw.checkId);
        } catch (e) {
          this.post({ type: 'error', message: vscode.l10n.t('Could not open the policy: {0}', e instanceof Error ? e.message : String(e)) });
        }
        return;
      case 'rerun':
        if (this.policyUri) void vscode.commands.executeCommand(Commands.checkPromotion, this.policyUri);
        else void vscode.commands.executeCommand(Commands.checkPromotion);
        return;
    }
  }

  /**
   * Open the policy with the list item that declares check `checkId` selected. The position comes from the policy as
   * it is now (the check with the same index and kind), so edits made since the run do not misplace it; the
   * report's own `source` is the fallback.
   */
  async revealCheck(checkId: string): Promise<vscode.TextEditor | undefined> {
    const check = this.report?.checks.find(c => c.id === checkId);
    if (!check || !this.policyUri) return undefined;
    const doc = await vscode.workspace.openTextDocument(this.policyUri);
    const index = Number.parseInt(checkId, 10) - 1;
    const now = validatePolicy(doc.getText()).policy?.checks[index];
    const source = now && now.kind === check.kind ? now.source : check.source;
    const start = doc.positionAt(source?.offset ?? 0);
    const end = doc.positionAt((source?.offset ?? 0) + (source?.length ?? 0));
    const column = vscode.window.visibleTextEditors.find(e => e.document.uri.toString() === doc.uri.toString())?.viewColumn
      ?? (this.panel?.viewColumn === vscode.ViewColumn.One ? vscode.ViewColumn.Beside : vscode.ViewColumn.One);
    const editor = await vscode.window.showTextDocument(doc, { viewColumn: column, selection: new vscode.Range(start, end), preserveFocus: false });
    editor.revealRange(new vscode.Range(start, end), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    return editor;
  }

  /** Close the panel (tests). */
  close(): void {
    this.panel?.dispose();
  }
}
