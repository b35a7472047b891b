import * as fs from 'fs';
import * as vscode from 'vscode';
import { policiesForModel } from '../../core/registry';
import { gateInputs, PolicyError, validatePolicy, type Policy } from '../../core/checks/policy';
import type { CheckResult, GateReport } from '../../core/checks/types';
import { LineIndex } from '../../core/config';
import { Disposable } from '../dispose';
import { Commands } from '../ids';
import type { ExperimentNode } from '../runs/experimentsTree';
import type { GateProgress } from '../runs/storeOps';
import type { StoreService } from '../runs/storeService';
import type { ValidationService } from '../validation';
import { GateReportPanel } from './reportPanel';

/** What the gate evaluates: a recorded run's model, an ONNX file, a predictions file, or nothing (a data-only policy). */
export interface GateCandidate {
  runId?: string;
  /** A registered version (`ref`: number, alias or stage). */
  model?: { model: string; ref: string };
  onnx?: string;
  predictions?: string;
  production?: string;
}

export const GATE_DIAGNOSTIC_SOURCE = 'edd-gate';

const isCandidate = (v: unknown): v is GateCandidate => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof vscode.Uri)
  && (['runId', 'onnx', 'predictions', 'production'].some(k => typeof (v as Record<string, unknown>)[k] === 'string') || typeof (v as { model?: unknown }).model === 'object')
  && !('kind' in v);

const isRunNode = (v: unknown): v is Extract<ExperimentNode, { kind: 'run' }> => typeof v === 'object' && v !== null
  && (v as { kind?: unknown }).kind === 'run' && typeof (v as { runId?: unknown }).runId === 'string' && typeof (v as { folder?: unknown }).folder === 'string';

/**
 * "EDD: Check Promotion": runs a policy's gate with progress and cancel, puts failed checks as Problems on the policy
 * line that declared them, reports every check in the Test Explorer (one test item per check; run one or all), and
 * shows the report in the gate report panel ("EDD: Show Gate Report" opens it again).
 */
export class GateController extends Disposable {
  private readonly diagnostics = this.track(vscode.languages.createDiagnosticCollection(GATE_DIAGNOSTIC_SOURCE));
  readonly tests = this.track(vscode.tests.createTestController('edd.gate', vscode.l10n.t('EDD quality gates')));
  private readonly candidates = new Map<string, GateCandidate>();
  /** The last report per policy (tests and the Test Explorer read it). */
  readonly reports = new Map<string, GateReport>();
  /** The last Test Explorer result per test item id (`passed`, `failed`, `errored`). */
  readonly results = new Map<string, 'passed' | 'failed' | 'errored'>();
  /** The report panel (one, reused): opened after every full run of a gate. */
  readonly reportPanel: GateReportPanel;

  constructor(private readonly stores: StoreService, private readonly validation: ValidationService, extensionUri: vscode.Uri) {
    super();
    this.reportPanel = this.track(new GateReportPanel(extensionUri));
    // From the palette, the CodeLens and the editor title: (uri?, candidate?). From a run in the Experiments view:
    // (the run's tree node, the selected nodes).
    this.track(vscode.commands.registerCommand(Commands.checkPromotion, (target?: unknown, second?: unknown) => {
      if (isRunNode(target)) return this.checkRun(target);
      return this.check(target instanceof vscode.Uri ? target : undefined, isCandidate(second) ? second : undefined);
    }));
    this.track(vscode.commands.registerCommand(Commands.showGateReport, (uri?: unknown) => this.showReport(uri instanceof vscode.Uri ? uri : undefined)));
    this.tests.resolveHandler = async item => {
      if (!item) this.refreshItems();
    };
    this.tests.createRunProfile(vscode.l10n.t('Run gate checks'), vscode.TestRunProfileKind.Run, (request, token) => this.runFromExplorer(request, token), true);
    this.track(validation.onDidChange(() => this.refreshItems()));
    this.track(vscode.languages.registerCodeLensProvider([{ language: 'yaml' }, { pattern: '**/*.{yaml,yml}' }], {
      provideCodeLenses: doc => this.validation.kindOf(doc) === 'policy'
        ? [new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), { title: vscode.l10n.t('$(checklist) Check Promotion'), command: Commands.checkPromotion, arguments: [doc.uri] })]
        : [],
    }));
  }

  /** The text each policy's test items were made from. */
  private readonly parsedPolicies = new Map<string, string>();

  /** One test item per policy file, with a child per check (ids as in the report: `3-bias`). */
  private refreshItems(): void {
    const policies = this.validation.configs.filter(c => c.kind === 'policy');
    const seen = new Set<string>();
    for (const p of policies) {
      const key = p.uri.toString();
      seen.add(key);
      // Parsed again only when its text changed: this runs on every change of any config.
      if (this.parsedPolicies.get(key) === p.text && this.tests.items.get(key)) continue;
      this.parsedPolicies.set(key, p.text);
      const { policy } = validatePolicy(p.text);
      let item = this.tests.items.get(key);
      if (!item) {
        item = this.tests.createTestItem(key, vscode.workspace.asRelativePath(p.uri), p.uri);
        this.tests.items.add(item);
      }
      const children: vscode.TestItem[] = [];
      policy?.checks.forEach((c, i) => {
        const child = this.tests.createTestItem(`${key}#${i + 1}-${c.kind}`, `${i + 1}-${c.kind}`, p.uri);
        const start = p.lines.position(c.source.offset);
        child.range = new vscode.Range(start.line, start.character, start.line, start.character + c.source.length);
        children.push(child);
      });
      item.children.replace(children);
    }
    this.tests.items.forEach(item => { if (!seen.has(item.id)) this.tests.items.delete(item.id); });
    for (const key of [...this.parsedPolicies.keys()]) if (!seen.has(key)) this.parsedPolicies.delete(key);
  }

  private policyUris(): vscode.Uri[] {
    return this.validation.configs.filter(c => c.kind === 'policy').map(c => c.uri);
  }

  /** The policy as it is now (the editor's text when it is open), or undefined when it does not validate. */
  private currentPolicy(policyUri: vscode.Uri): Policy | undefined {
    const open = vscode.workspace.textDocuments.find(d => d.uri.toString() === policyUri.toString());
    let text = open?.getText();
    if (text === undefined) {
      try {
        text = fs.readFileSync(policyUri.fsPath, 'utf8');
      } catch {
        return undefined;
      }
    }
    return validatePolicy(text).policy;
  }

  private async pickCandidate(policyUri: vscode.Uri): Promise<GateCandidate | undefined> {
    const folder = vscode.workspace.getWorkspaceFolder(policyUri);
    const store = folder ? await this.stores.ifExists(folder) : undefined;
    type Pick = vscode.QuickPickItem & { candidate?: GateCandidate; browse?: boolean };
    const picks: Pick[] = [];
    const policy = this.currentPolicy(policyUri);
    // A data-only policy checks no model, and a predictions-only one has its candidate in the policy: nothing to ask.
    const inputs = policy && gateInputs(policy);
    if (inputs?.candidate === 'data') return {};
    if (inputs?.candidate === 'predictions' && inputs.evalFile) return { predictions: inputs.evalFile };
    // A predictions file needs no model runtime, so it works wherever the gate does.
    const predictions = typeof policy?.predictions === 'string' && policy.predictions.trim() !== '' ? policy.predictions : undefined;
    if (predictions) {
      picks.push({ label: vscode.l10n.t("$(file) Use the policy's predictions file"), description: predictions, candidate: { predictions } });
    }
    // Registered versions of the policy's model (of every model when the policy names none).
    const policyModel = policy?.model;
    for (const m of (await store?.listModels()) ?? []) {
      if (policyModel && m.name !== policyModel) continue;
      for (const v of await store!.listModelVersions(m.name)) {
        picks.push({ label: `$(package) ${v.model}@${v.version}`, description: [v.stage, ...v.aliases.map(a => `@${a}`)].join(' '), candidate: { model: { model: v.model, ref: String(v.version) } } });
      }
    }
    for (const r of (await store?.listRuns({ status: 'finished', limit: 200 })) ?? []) {
      if (!(await store!.getArtifacts(r.id)).some(a => a.path.endsWith('.onnx'))) continue;
      picks.push({ label: r.experimentId, description: r.startedAt ? new Date(r.startedAt).toLocaleString() : r.id.slice(0, 8), detail: r.id, candidate: { runId: r.id } });
    }
    picks.push({ label: vscode.l10n.t('$(file) Choose an ONNX file…'), browse: true });
    const choice = await vscode.window.showQuickPick(picks, { placeHolder: vscode.l10n.t('Which model should the gate check?') });
    if (!choice) return undefined;
    if (choice.browse) {
      const files = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { ONNX: ['onnx'] }, defaultUri: folder?.uri });
      return files?.[0] ? { onnx: files[0].fsPath } : undefined;
    }
    return choice.candidate;
  }

  /**
   * "Check Promotion" on a run of the Experiments view: the run's model is the candidate. The policy: the one open in
   * the editor, else the workspace folder's only valid one, else a pick.
   */
  private async checkRun(node: Extract<ExperimentNode, { kind: 'run' }>): Promise<GateReport | undefined> {
    const active = vscode.window.activeTextEditor?.document;
    if (active && this.validation.kindOf(active) === 'policy') return this.check(active.uri, { runId: node.runId });
    // A policy with errors cannot run: leave it out of the choice.
    const all = this.validation.configs.filter(c => c.kind === 'policy' && !c.problems.some(p => p.severity === 'error')).map(c => c.uri);
    const inFolder = all.filter(u => vscode.workspace.getWorkspaceFolder(u)?.uri.toString() === node.folder);
    const policies = inFolder.length > 0 ? inFolder : all;
    if (policies.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No promotion policy in the workspace. Create a `*.policy.yaml` file (see the README) to check run {0}.', node.runId.slice(0, 8)));
      return undefined;
    }
    const uri = await this.onePolicy(policies, vscode.l10n.t('Pick the promotion policy to check run {0} against', node.runId.slice(0, 8)));
    return uri && this.check(uri, { runId: node.runId });
  }

  /** "Check Promotion" on a version in the Models view: the policy of its model (a pick if several). */
  async checkVersion(folderUri: string, model: string, version: number): Promise<GateReport | undefined> {
    const folder = vscode.workspace.workspaceFolders?.find(f => f.uri.toString() === folderUri);
    if (!folder) return undefined;
    const policies = policiesForModel(folder.uri.fsPath, model).map(p => vscode.Uri.file(p.file));
    if (policies.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No promotion policy says `model: {0}`. Add `model: {0}` to a policy to check its versions.', model));
      return undefined;
    }
    const uri = await this.onePolicy(policies, vscode.l10n.t('Pick the promotion policy to check {0}@{1} against', model, version));
    return uri && this.check(uri, { model: { model, ref: String(version) } });
  }

  /** The only policy of `policies`, or the one the user picks (undefined when the pick is dismissed). */
  private async onePolicy(policies: readonly vscode.Uri[], placeHolder: string): Promise<vscode.Uri | undefined> {
    if (policies.length === 1) return policies[0];
    return (await vscode.window.showQuickPick(policies.map(p => ({ label: vscode.workspace.asRelativePath(p), uri: p })), { placeHolder }))?.uri;
  }

  /** "EDD: Show Gate Report": the last report of `uri`, the active policy, or a picked one (the empty state if none). */
  async showReport(uri?: vscode.Uri): Promise<GateReport | undefined> {
    const active = vscode.window.activeTextEditor?.document;
    uri ??= active && this.validation.kindOf(active) === 'policy' ? active.uri : undefined;
    if (!uri) {
      const reported = [...this.reports.keys()].map(k => vscode.Uri.parse(k));
      const candidates = reported.length > 0 ? reported : this.policyUris();
      if (candidates.length === 1) uri = candidates[0];
      else if (candidates.length > 1) {
        const pick = await vscode.window.showQuickPick(candidates.map(p => ({
          label: vscode.workspace.asRelativePath(p), uri: p,
          description: this.reports.get(p.toString())?.passed === true ? vscode.l10n.t('passed') : this.reports.has(p.toString()) ? vscode.l10n.t('failed') : undefined,
        })), { placeHolder: vscode.l10n.t('Show the gate report of which policy?') });
        if (!pick) return undefined;
        uri = pick.uri;
      }
    }
    const report = uri ? this.reports.get(uri.toString()) : undefined;
    this.reportPanel.show(report ?? null, uri, { preserveFocus: false });
    return report;
  }

  /** Run the gate of `uri` (default: the active policy editor) on `candidate` (default: ask). */
  async check(uri?: vscode.Uri, candidate?: GateCandidate, only?: string[], token?: vscode.CancellationToken): Promise<GateReport | undefined> {
    uri ??= vscode.window.activeTextEditor && this.validation.kindOf(vscode.window.activeTextEditor.document) === 'policy' ? vscode.window.activeTextEditor.document.uri : undefined;
    if (!uri) {
      const policies = this.validation.configs.filter(c => c.kind === 'policy');
      const pick = await vscode.window.showQuickPick(policies.map(p => ({ label: vscode.workspace.asRelativePath(p.uri), uri: p.uri })), { placeHolder: vscode.l10n.t('Pick the promotion policy to check') });
      uri = pick?.uri;
      if (!uri) return undefined;
    }
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showErrorMessage(vscode.l10n.t('EDD runs models only in a trusted workspace. Trust the workspace to check a promotion.'));
      return undefined;
    }
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder) return undefined;
    candidate ??= this.candidates.get(uri.toString()) ?? (await this.pickCandidate(uri));
    if (!candidate) return undefined;
    this.candidates.set(uri.toString(), candidate);
    const doc = vscode.workspace.textDocuments.find(d => d.uri.toString() === uri!.toString());
    if (doc?.isDirty) await doc.save();
    const controller = new AbortController();
    token?.onCancellationRequested(() => controller.abort());
    let report: GateReport;
    try {
      // The report is stored with the run / version (a version finds it through its file's sha256).
      const store = candidate.runId || candidate.model ? await this.stores.get(folder) : await this.stores.ifExists(folder);
      report = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('EDD: checking {0}', vscode.workspace.asRelativePath(uri)), cancellable: true },
        async (progress, cancel) => {
          cancel.onCancellationRequested(() => controller.abort());
          // The gate (its models, its data, the stored report) runs in the store worker.
          const gateOptions = {
            root: folder.uri.fsPath, only, predictions: candidate!.predictions,
            target: { runId: candidate!.runId, model: candidate!.model, onnx: candidate!.onnx, predictions: candidate!.predictions, production: candidate!.production },
            // a single check from the Test Explorer is not a gate decision
            record: !only,
          };
          const onEvent = (e: unknown) => {
            const { done, total, title } = e as GateProgress;
            progress.report({ increment: 100 / Math.max(1, total), message: `${done + 1}/${total} ${title}` });
          };
          const result = store
            ? await store.opWith('gate', { signal: controller.signal, onEvent }, uri!.fsPath, gateOptions)
            : await this.stores.worker.opWithout('gate', { signal: controller.signal, onEvent }, uri!.fsPath, gateOptions);
          return result.report;
        },
      );
    } catch (e) {
      const message = e instanceof PolicyError ? e.message.split('\n').slice(0, 4).join(' ') : e instanceof Error ? e.message : String(e);
      void vscode.window.showErrorMessage(vscode.l10n.t('EDD: the gate could not run: {0}', message));
      return undefined;
    }
    this.reports.set(uri.toString(), report);
    this.publish(uri, report);
    if (!only) {
      this.reportPanel.show(report, uri);
      const show = vscode.l10n.t('Show Problems');
      const showReport = vscode.l10n.t('Show Report');
      const text = report.passed
        ? vscode.l10n.t('Gate passed: {0} check(s) passed.', report.summary.pass + report.summary.warn)
        : vscode.l10n.t('Gate failed: {0} failed, {1} could not run, {2} passed.', report.summary.fail, report.summary.error, report.summary.pass + report.summary.warn);
      const shown = uri;
      const act = (c: string | undefined) => {
        if (c === showReport) this.reportPanel.show(this.reports.get(shown.toString()) ?? report, shown, { preserveFocus: false });
        else if (c === show) void vscode.commands.executeCommand('workbench.actions.view.problems');
      };
      if (report.passed) void vscode.window.showInformationMessage(text, showReport).then(act);
      else void vscode.window.showErrorMessage(text, showReport, show).then(act);
    }
    return report;
  }

  /** Failed and erroring checks as Problems on the policy lines that declared them; every check in the Test Explorer. */
  private publish(uri: vscode.Uri, report: GateReport): void {
    let text = '';
    try {
      text = fs.readFileSync(uri.fsPath, 'utf8');
    } catch {
      // the policy vanished after the run: nothing to point at
    }
    const lines = new LineIndex(text);
    const rangeOf = (c: CheckResult) => {
      const s = lines.position(c.source?.offset ?? 0);
      const e = lines.position((c.source?.offset ?? 0) + (c.source?.length ?? 1));
      return new vscode.Range(s.line, s.character, e.line, e.character);
    };
    const diags = report.checks.filter(c => c.status !== 'pass').map(c => {
      const d = new vscode.Diagnostic(rangeOf(c), `${c.title}: ${c.message}`, c.status === 'warn' ? vscode.DiagnosticSeverity.Warning : vscode.DiagnosticSeverity.Error);
      d.source = GATE_DIAGNOSTIC_SOURCE;
      d.code = `gate-${c.status}`;
      return d;
    });
    this.diagnostics.set(uri, diags);

    this.refreshItems();
    const parent = this.tests.items.get(uri.toString());
    if (!parent) return;
    const run = this.tests.createTestRun(new vscode.TestRunRequest([parent]), vscode.l10n.t('EDD gate {0}', report.policy), false);
    for (const c of report.checks) {
      const item = parent.children.get(`${uri.toString()}#${c.id}`);
      if (!item) continue;
      const message = new vscode.TestMessage(`${c.title}: ${c.message}`);
      message.location = new vscode.Location(uri, rangeOf(c));
      if (c.status === 'pass' || c.status === 'warn') run.passed(item, c.durationMs);
      else if (c.status === 'fail') run.failed(item, message, c.durationMs);
      else run.errored(item, message, c.durationMs);
      this.results.set(item.id, c.status === 'pass' || c.status === 'warn' ? 'passed' : c.status === 'fail' ? 'failed' : 'errored');
    }
    run.end();
  }

  private async runFromExplorer(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    const byPolicy = new Map<string, string[] | undefined>();
    const items = request.include ?? [...(function* (c: vscode.TestItemCollection) { for (const [, i] of c) yield i; })(this.tests.items)];
    for (const item of items) {
      const [policyKey, checkId] = item.id.split('#');
      if (!checkId) byPolicy.set(policyKey, undefined);
      else if (byPolicy.get(policyKey) !== undefined || !byPolicy.has(policyKey)) byPolicy.set(policyKey, [...(byPolicy.get(policyKey) ?? []), checkId]);
    }
    for (const [key, only] of byPolicy) {
      if (token.isCancellationRequested) return;
      await this.check(vscode.Uri.parse(key), undefined, only, token);
    }
  }
}
