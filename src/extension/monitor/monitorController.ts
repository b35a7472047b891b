import { execFile } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { LineIndex } from '../../core/config';
import { alertKeyPath, locateKey, type Alert, type MonitorResult } from '../../core/monitor';
import { experimentFromAlert } from '../../core/monitor/experiment';
import { isMonitorViewState } from '../../protocol/monitor';
import { Disposable } from '../dispose';
import { Commands } from '../ids';
import { MONITOR_VIEW_TYPE, MonitorPanel, type MonitorSource } from './panel';

export const MONITOR_DIAGNOSTIC_SOURCE = 'edd-monitor';
const SPEC_GLOB = '**/*.service.{yaml,yml}';

const isAlertRef = (v: unknown): v is { specUri: string; index: number } => typeof v === 'object' && v !== null
  && typeof (v as { specUri?: unknown }).specUri === 'string' && Number.isInteger((v as { index?: unknown }).index);

/**
 * Monitoring in the editor: "EDD: Open Monitoring" (the panel of a service spec), alerts as notifications and as
 * Problems on the spec's `monitoring.alerts` lines, and "EDD: Create Experiment from Alert". The log is read by the
 * CLI (`edd monitor --json`) in a child process, so a large log never blocks the extension host.
 */
export class MonitorController extends Disposable implements MonitorSource {
  readonly diagnostics = this.track(vscode.languages.createDiagnosticCollection(MONITOR_DIAGNOSTIC_SOURCE));
  private readonly panels = new Map<string, MonitorPanel>();
  private readonly results = new Map<string, MonitorResult>();
  private readonly seen = new Map<string, Set<string>>();

  constructor(private readonly extensionUri: vscode.Uri) {
    super();
    this.track(vscode.commands.registerCommand(Commands.openMonitoring, (uri?: vscode.Uri) => this.open(uri)));
    this.track(vscode.commands.registerCommand(Commands.createExperimentFromAlert, (ref?: unknown) => this.createFromAlert(ref)));
    this.track(vscode.window.registerWebviewPanelSerializer(MONITOR_VIEW_TYPE, {
      deserializeWebviewPanel: async (panel, state) => {
        if (!isMonitorViewState(state)) { panel.dispose(); return; }
        panel.webview.options = MonitorPanel.options(this.extensionUri);
        this.attach(new MonitorPanel(panel, this.extensionUri, vscode.Uri.parse(state.specUri), this, state));
      },
    }));
    this.track({ dispose: () => { for (const p of this.panels.values()) p.dispose(); } });
  }

  /** The open panels (tests read them). */
  get openPanels(): readonly MonitorPanel[] {
    return [...this.panels.values()];
  }

  private attach(panel: MonitorPanel): MonitorPanel {
    const key = panel.spec.toString();
    this.panels.get(key)?.dispose();
    this.panels.set(key, panel);
    panel.onDidRefresh(r => this.publish(panel.spec, r));
    panel.panel.onDidDispose(() => { if (this.panels.get(key) === panel) this.panels.delete(key); });
    return panel;
  }

  /** "EDD: Open Monitoring": the spec given, the active editor's, or one picked from the workspace. */
  async open(uri?: vscode.Uri): Promise<MonitorPanel | undefined> {
    const spec = uri instanceof vscode.Uri ? uri : await this.pickSpec();
    if (!spec) return undefined;
    const existing = this.panels.get(spec.toString());
    if (existing) { existing.panel.reveal(); void existing.refresh(); return existing; }
    return this.attach(MonitorPanel.create(this.extensionUri, spec, this));
  }

  private async pickSpec(): Promise<vscode.Uri | undefined> {
    const active = vscode.window.activeTextEditor?.document.uri;
    if (active && /\.service\.ya?ml$/.test(active.path)) return active;
    const files = await vscode.workspace.findFiles(SPEC_GLOB, '**/node_modules/**', 200);
    if (files.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No service spec (*.service.yaml) in the workspace: monitoring reads the prediction log a service spec names.'));
      return undefined;
    }
    if (files.length === 1) return files[0];
    const pick = await vscode.window.showQuickPick(files.map(f => ({ label: vscode.workspace.asRelativePath(f), uri: f })), { placeHolder: vscode.l10n.t('Service spec to monitor') });
    return pick?.uri;
  }

  /** Runs `edd monitor <spec> --json` in a child process (the bundled CLI). */
  read(spec: vscode.Uri): Promise<MonitorResult> {
    const folder = vscode.workspace.getWorkspaceFolder(spec)?.uri.fsPath ?? path.dirname(spec.fsPath);
    const cli = vscode.Uri.joinPath(this.extensionUri, 'dist', 'cli.js').fsPath;
    return new Promise((resolve, reject) => {
      execFile(process.execPath, [cli, 'monitor', spec.fsPath, '--json'], {
        cwd: folder, maxBuffer: 256 * 1024 * 1024,
        env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', EDD_LOCALE: vscode.env.language },
      }, (err, stdout, stderr) => {
        if (err && !stdout) {
          const reason = stderr.split('\n').filter(l => l && !/edd --help/.test(l)).map(l => l.replace(/^edd: /, '')).join('\n');
          reject(new Error(reason || err.message));
          return;
        }
        try {
          const result = JSON.parse(stdout) as MonitorResult;
          this.publish(spec, result);
          resolve(result);
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    });
  }

  /** Problems on the spec's threshold lines (the latest alert of each kind) and a notification for new alerts. */
  private publish(spec: vscode.Uri, result: MonitorResult): void {
    this.results.set(spec.toString(), result);
    let text = '';
    try { text = fs.readFileSync(spec.fsPath, 'utf8'); } catch { /* a deleted spec: no Problems to place */ }
    const lines = new LineIndex(text);
    const latest = new Map<string, { alert: Alert; windows: number }>();
    for (const a of result.alerts) {
      const key = `${a.metric}|${a.column ?? ''}`;
      const prev = latest.get(key);
      latest.set(key, { alert: !prev || a.window_start > prev.alert.window_start ? a : prev.alert, windows: (prev?.windows ?? 0) + 1 });
    }
    const diagnostics: vscode.Diagnostic[] = [];
    for (const { alert, windows } of latest.values()) {
      const span = locateKey(text, alertKeyPath(alert, result.thresholds?.kpis ?? [])) ?? locateKey(text, ['monitoring']) ?? [0, 1];
      const start = lines.position(span[0]), end = lines.position(span[0] + span[1]);
      const d = new vscode.Diagnostic(new vscode.Range(start.line, start.character, end.line, end.character),
        vscode.l10n.t('Monitoring alert in {0} window(s), latest {1}: {2}', windows, alert.window_start.slice(0, 16).replace('T', ' '), alert.message), vscode.DiagnosticSeverity.Warning);
      d.source = MONITOR_DIAGNOSTIC_SOURCE;
      d.code = alert.metric;
      diagnostics.push(d);
    }
    this.diagnostics.set(spec, diagnostics);
    const seen = this.seen.get(spec.toString()) ?? new Set<string>();
    const fresh = result.alerts.filter(a => !seen.has(`${a.window_start}|${a.metric}|${a.column ?? ''}`));
    for (const a of result.alerts) seen.add(`${a.window_start}|${a.metric}|${a.column ?? ''}`);
    this.seen.set(spec.toString(), seen);
    if (fresh.length === 0) return;
    const open = vscode.l10n.t('Open Monitoring'), create = vscode.l10n.t('Create Experiment from Alert');
    const last = fresh[fresh.length - 1];
    void vscode.window.showWarningMessage(vscode.l10n.t('{0}: {1} new monitoring alert(s); latest: {2}', result.model, fresh.length, last.message), open, create).then(choice => {
      if (choice === open) void this.open(spec);
      else if (choice === create) void this.createExperiment(spec, result, result.alerts.indexOf(last));
    });
  }

  /** "EDD: Create Experiment from Alert": the alert given, or one picked from the monitoring read so far. */
  private async createFromAlert(ref?: unknown): Promise<vscode.Uri | undefined> {
    if (isAlertRef(ref)) {
      const spec = vscode.Uri.parse(ref.specUri);
      const result = this.results.get(spec.toString()) ?? await this.read(spec);
      return this.createExperiment(spec, result, ref.index);
    }
    const items = [...this.results.entries()].flatMap(([uri, r]) => r.alerts.map((a, index) => ({
      label: a.message, description: `${a.window_start.slice(0, 16).replace('T', ' ')} · ${vscode.workspace.asRelativePath(vscode.Uri.parse(uri))}`, uri, index, r,
    })));
    if (items.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No monitoring alerts yet: open the Monitoring panel of a service spec first.'));
      return undefined;
    }
    const pick = await vscode.window.showQuickPick(items, { placeHolder: vscode.l10n.t('Alert to turn into an experiment') });
    return pick ? this.createExperiment(vscode.Uri.parse(pick.uri), pick.r, pick.index) : undefined;
  }

  /** Writes experiments/<model>-<metric>[-<column>].yaml (a new name if taken) in the spec's folder and opens it. */
  async createExperiment(spec: vscode.Uri, result: MonitorResult, index: number): Promise<vscode.Uri | undefined> {
    const alert = result.alerts[index];
    if (!alert) return undefined;
    const root = vscode.workspace.getWorkspaceFolder(spec)?.uri.fsPath ?? path.dirname(spec.fsPath);
    const dir = path.join(root, 'experiments');
    const stem = `${result.model}-${alert.metric}${alert.column ? `-${alert.column}` : ''}`.replace(/[^\w.-]/g, '_');
    fs.mkdirSync(dir, { recursive: true });
    let file = path.join(dir, `${stem}.yaml`);
    for (let n = 2; fs.existsSync(file); n++) file = path.join(dir, `${stem}-${n}.yaml`);
    const e = experimentFromAlert({ alert, model: result.model, spec: vscode.workspace.asRelativePath(spec), windows: result.windows, dir, reference: undefined });
    fs.writeFileSync(file, e.text, { flag: 'wx' });
    const uri = vscode.Uri.file(file);
    await vscode.window.showTextDocument(uri);
    void vscode.window.showInformationMessage(vscode.l10n.t('Experiment {0} created from the alert: {1}', e.id, alert.message));
    return uri;
  }
}
