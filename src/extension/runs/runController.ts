import * as path from 'path';
import * as vscode from 'vscode';
import { metricDifferences, ConfigNotRunnableError, type ExecuteResult } from '../../core/runs';
import type { RunEvent } from '../../core/runner';
import type { LiveOptions } from '../../core/mlflow';
import type { ExecuteEvent, ExecuteOpResult } from './storeOps';
import { Disposable } from '../dispose';
import { Commands } from '../ids';
import type { StoreService } from './storeService';

/** A run this window started and that is still going. */
interface Active {
  runId?: string;
  experimentId: string;
  controller: AbortController;
}

/** Why a run did not start (for callers that need to know, like tests and tasks). */
export class RunNotStartedError extends Error {}

export interface RunRequest {
  /** The config file. */
  uri: vscode.Uri;
  /** Run this text instead of the file (reproductions run their stored snapshot). */
  configText?: string;
  extraParams?: Record<string, unknown>;
  /** Progress UI: a notification (default), or none (tasks draw their own terminal). */
  progress?: 'notification' | 'none';
  /** Extra sink for events (the task terminal). */
  onEvent?: (e: RunEvent) => void;
  signal?: AbortSignal;
}

/** Starts, cancels and reproduces runs: the editor's side of `executeRun`. */
export class RunController extends Disposable {
  private readonly output = this.track(vscode.window.createOutputChannel('EDD Runs'));
  private readonly active = new Set<Active>();
  private readonly changed = this.track(new vscode.EventEmitter<void>());
  /** Fires when a run starts or ends in this window. */
  readonly onDidChangeActive = this.changed.event;

  /** The MLflow server a folder's runs log to live (edd.tracking.uri and the stored credentials), if any. */
  tracking: (folder: vscode.WorkspaceFolder) => Promise<LiveOptions | undefined> = () => Promise.resolve(undefined);

  constructor(private readonly stores: StoreService) {
    super();
    this.track({ dispose: () => { for (const a of this.active) a.controller.abort(); } });
  }

  isRunning(runId: string): boolean {
    return [...this.active].some(a => a.runId === runId);
  }

  /** Cancel a run started in this window. Returns false if it is not (or no longer) running here. */
  cancel(runId: string): boolean {
    for (const a of this.active) {
      if (a.runId === runId) {
        a.controller.abort();
        return true;
      }
    }
    return false;
  }

  /** Workspace Trust: training runs code from the workspace, so it is refused in Restricted Mode. */
  checkTrust(): void {
    if (vscode.workspace.isTrusted) return;
    const manage = vscode.l10n.t('Manage Workspace Trust');
    void vscode.window.showErrorMessage(vscode.l10n.t('EDD does not run training in an untrusted workspace: the command comes from the workspace\'s files. Trust the workspace to run experiments.'), manage)
      .then(choice => { if (choice === manage) void vscode.commands.executeCommand('workbench.trust.manage'); });
    throw new RunNotStartedError(vscode.l10n.t('The workspace is not trusted.'));
  }

  /** Run a config; resolves with the recorded result (also when the training failed or was cancelled). */
  async run(request: RunRequest): Promise<ExecuteResult> {
    this.checkTrust();
    const folder = vscode.workspace.getWorkspaceFolder(request.uri);
    if (!folder || folder.uri.scheme !== 'file') {
      throw this.notStarted(vscode.l10n.t('{0} is not inside a local workspace folder: EDD runs training only for configs in an open folder.', request.uri.fsPath));
    }
    const doc = vscode.workspace.textDocuments.find(d => d.uri.toString() === request.uri.toString());
    if (doc?.isDirty && request.configText === undefined) await doc.save();
    const store = await this.stores.get(folder).catch(e => {
      this.stores.report(e);
      throw new RunNotStartedError(String(e instanceof Error ? e.message : e));
    });
    const controller = new AbortController();
    request.signal?.addEventListener('abort', () => controller.abort(), { once: true });
    const active: Active = { experimentId: '', controller };
    const rel = vscode.workspace.asRelativePath(request.uri, false);
    const tracking = await this.tracking(folder);

    const go = async (report?: (fraction: number | undefined, message?: string) => void): Promise<ExecuteOpResult> => {
      this.output.appendLine('');
      let epochs: number | undefined;
      const latest = new Map<string, number>();
      try {
        // The run (the process, its metrics, the store's writes) goes on in the store worker; events come back here.
        const onStart = ({ run, spec: s }: Extract<ExecuteEvent, { type: 'start' }>) => {
          epochs = typeof s.params.epochs === 'number' ? s.params.epochs : undefined;
          active.runId = run.id;
          active.experimentId = run.experimentId;
          this.active.add(active);
          this.changed.fire();
          this.output.appendLine(vscode.l10n.t('▶ Run {0} of {1} ({2}): {3}', run.id, run.experimentId, rel, s.command.join(' ')));
        };
        const onEvent = (e: RunEvent) => {
          request.onEvent?.(e);
          if (e.type === 'log') this.output.appendLine(e.text);
          else if (e.type === 'protocol-error') this.output.appendLine(vscode.l10n.t('[EDD] line {0}: {1}', e.line, e.message));
          else if (e.type === 'metric') {
            latest.set(e.name, e.value);
            if (epochs && e.step !== undefined) report?.(Math.min(1, (e.step + (e.step === 0 ? 1 : 0)) / epochs), progressText(e.step, epochs, latest));
          } else if (e.type === 'progress') report?.(e.value, e.message ?? progressText(undefined, epochs, latest));
        };
        return await store.opWith('execute', {
          signal: controller.signal,
          onEvent: raw => {
            const event = raw as ExecuteEvent;
            if (event.type === 'start') onStart(event);
            else onEvent(event.event);
          },
        }, {
          workspaceRoot: folder.uri.fsPath,
          configPath: request.uri.fsPath,
          configText: request.configText,
          extraParams: request.extraParams,
          tracking,
        });
      } catch (e) {
        if (e instanceof ConfigNotRunnableError) {
          const show = vscode.l10n.t('Show Problems');
          void vscode.window.showErrorMessage(e.message.split('\n')[0], show).then(c => { if (c) void vscode.commands.executeCommand(Commands.showProblems); });
          this.output.appendLine(e.message);
          throw new RunNotStartedError(e.message);
        }
        const message = e instanceof Error ? e.message : String(e);
        this.output.appendLine(vscode.l10n.t('✖ The run could not start: {0}', message));
        void vscode.window.showErrorMessage(vscode.l10n.t('EDD: the run could not start: {0}', message));
        throw new RunNotStartedError(message);
      } finally {
        this.active.delete(active);
        this.changed.fire();
      }
    };

    let result: ExecuteOpResult;
    if (request.progress === 'none') {
      result = await go();
    } else {
      this.output.show(true);
      result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('EDD: running {0}', rel), cancellable: true },
        (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          let done = 0;
          return go((fraction, message) => {
            const increment = fraction === undefined ? undefined : Math.max(0, fraction * 100 - done);
            if (increment) done += increment;
            progress.report({ increment, message });
          });
        },
      );
    }
    this.announce(result, folder);
    return result;
  }

  private notStarted(message: string): RunNotStartedError {
    void vscode.window.showErrorMessage(message);
    return new RunNotStartedError(message);
  }

  private announce(r: ExecuteOpResult, folder: vscode.WorkspaceFolder): void {
    const run = r.run;
    const secs = run.durationMs === null ? '' : `${(run.durationMs / 1000).toFixed(1)} s`;
    const metric = keyMetricText(r.finalMetrics);
    this.output.appendLine(vscode.l10n.t('■ Run {0}: {1} after {2}{3}', run.id, run.status, secs, metric ? ` — ${metric}` : ''));
    const openLog = vscode.l10n.t('Open Log');
    const onChoice = (c: string | undefined) => { if (c === openLog) void vscode.commands.executeCommand(Commands.openLog, { kind: 'run', folder: folder.uri.toString(), runId: run.id, experimentId: run.experimentId }); };
    if (run.status === 'finished') {
      void vscode.window.showInformationMessage(vscode.l10n.t('Run of {0} finished in {1}{2}.', run.experimentId, secs, metric ? `: ${metric}` : ''), openLog).then(onChoice);
    } else if (run.status === 'cancelled') {
      void vscode.window.showWarningMessage(vscode.l10n.t('Run of {0} was cancelled after {1}.', run.experimentId, secs));
    } else {
      void vscode.window.showErrorMessage(vscode.l10n.t('Run of {0} failed: {1}', run.experimentId, run.error ?? ''), openLog).then(onChoice);
    }
    if (r.liveLogging) {
      // The run is recorded here; the server gets it at the next sync (nothing is sent twice).
      this.output.appendLine(r.liveLogging);
      const sync = vscode.l10n.t('Sync Now');
      void vscode.window.showWarningMessage(r.liveLogging, sync).then(c => { if (c === sync) void vscode.commands.executeCommand(Commands.syncMlflow); });
    }
    for (const p of r.protocolErrors.slice(0, 20)) this.output.appendLine(vscode.l10n.t('[EDD] metrics protocol: {0}', p));
  }

  /** Reproduce a run: show what differs now, ask, run the stored snapshot, then show the metric differences. */
  async reproduce(folder: vscode.WorkspaceFolder, runId: string, confirm = true): Promise<ExecuteResult | undefined> {
    this.checkTrust();
    const store = await this.stores.get(folder);
    const plan = await store.op('planReproduction', folder.uri.fsPath, runId);
    const lines = plan.differences.length
      ? plan.differences.map(d => `• ${d.what}: ${d.original} → ${d.now}`).join('\n')
      : vscode.l10n.t('Nothing EDD records differs from the original run.');
    if (confirm) {
      const go = vscode.l10n.t('Reproduce');
      const choice = await vscode.window.showInformationMessage(
        vscode.l10n.t('Reproduce run {0} of {1}?', plan.original.id.slice(0, 8), plan.original.experimentId),
        { modal: true, detail: lines }, go);
      if (choice !== go) return undefined;
    }
    this.output.appendLine(vscode.l10n.t('Reproducing run {0}. What differs from the original:', plan.original.id));
    this.output.appendLine(lines);
    const before = await store.finalMetrics(plan.original.id);
    const uri = vscode.Uri.file(path.resolve(folder.uri.fsPath, plan.original.configPath ?? 'config.yaml'));
    const result = await this.run({ uri, configText: plan.original.configSnapshot ?? undefined, extraParams: { reproduces: plan.original.id } });
    this.output.appendLine(vscode.l10n.t('Metrics of the reproduction compared with the original:'));
    for (const d of metricDifferences(before, result.finalMetrics)) {
      this.output.appendLine(`  ${d.key}: ${d.original ?? '—'} → ${d.reproduced ?? '—'}${d.delta === null ? '' : ` (${d.delta >= 0 ? '+' : ''}${d.delta.toPrecision(3)})`}`);
    }
    this.output.show(true);
    return result;
  }
}

const preferred = ['val_accuracy', 'accuracy', 'test_accuracy', 'val_f1_macro', 'f1', 'f1_score', 'val_loss', 'loss'];

/** The metric a run is summarised by: the first of the usual names that it has, else its first metric. */
export function keyMetric(finalMetrics: Record<string, number>, configured?: string): [string, number] | undefined {
  if (configured && configured in finalMetrics) return [configured, finalMetrics[configured]];
  for (const k of preferred) if (k in finalMetrics) return [k, finalMetrics[k]];
  const [first] = Object.keys(finalMetrics).sort();
  return first === undefined ? undefined : [first, finalMetrics[first]];
}

export function formatMetric(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 1000 || Math.abs(v) < 0.001 ? v.toExponential(2) : v.toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
}

function keyMetricText(m: Record<string, number>): string {
  const k = keyMetric(m);
  return k ? `${k[0]} ${formatMetric(k[1])}` : '';
}

function progressText(step: number | undefined, epochs: number | undefined, latest: Map<string, number>): string {
  const k = keyMetric(Object.fromEntries(latest));
  const parts: string[] = [];
  if (step !== undefined && epochs) parts.push(vscode.l10n.t('epoch {0}/{1}', step, epochs));
  if (k) parts.push(`${k[0]} ${formatMetric(k[1])}`);
  return parts.join(' · ');
}
