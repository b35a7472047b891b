import * as vscode from 'vscode';
import { ConfigNotRunnableError } from '../../core/runs';
import { SweepError, SweepSpecError, type SweepEvent, type SweepResult } from '../../core/sweep';
import { Disposable } from '../dispose';
import { Commands } from '../ids';
import type { RunController } from './runController';
import type { StoreService } from './storeService';

/** EDD: Run Sweep — every trial of a config's `sweep:` block, with progress and cancel. */
export class SweepCommand extends Disposable {
  private readonly output = this.track(vscode.window.createOutputChannel('EDD Sweeps'));
  private readonly controllers = new Set<AbortController>();

  constructor(private readonly runs: RunController, private readonly stores: StoreService) {
    super();
    this.track(vscode.commands.registerCommand(Commands.runSweep, (uri?: vscode.Uri) => this.run(uri)));
    this.track({ dispose: () => { for (const c of this.controllers) c.abort(); } });
  }

  /** Resolves with the sweep's result, or `undefined` when it did not start (the user was told why). */
  async run(target?: vscode.Uri): Promise<SweepResult | undefined> {
    const uri = target instanceof vscode.Uri ? target : vscode.window.activeTextEditor?.document.uri;
    if (!uri) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Open an experiment config with a `sweep:` block to run its sweep.'));
      return undefined;
    }
    try {
      // Training runs the workspace's own command: refused in Restricted Mode, as EDD: Run Experiment is.
      this.runs.checkTrust();
    } catch {
      return undefined;
    }
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder || folder.uri.scheme !== 'file') {
      void vscode.window.showErrorMessage(vscode.l10n.t('{0} is not inside a local workspace folder: EDD runs training only for configs in an open folder.', uri.fsPath));
      return undefined;
    }
    const doc = vscode.workspace.textDocuments.find(d => d.uri.toString() === uri.toString());
    if (doc?.isDirty) await doc.save();
    let store;
    try {
      store = await this.stores.get(folder);
    } catch (e) {
      this.stores.report(e);
      return undefined;
    }
    const rel = vscode.workspace.asRelativePath(uri, false);
    const controller = new AbortController();
    this.controllers.add(controller);
    this.output.show(true);
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('EDD: sweep of {0}', rel), cancellable: true },
        async (progress, token) => {
          token.onCancellationRequested(() => controller.abort());
          let total = 0;
          let ended = 0;
          let running = 0;
          let failed = 0;
          const report = () => progress.report({
            increment: total ? 100 / total : undefined,
            message: vscode.l10n.t('{0}/{1} done · {2} running · {3} failed', ended, total, running, failed),
          });
          // The trials run in the store worker, beside the store: nothing heavy on the extension host's thread.
          const result = await store.opWith('runSweep', {
            signal: controller.signal,
            onEvent: raw => {
              const e = raw as SweepEvent;
              if (e.type === 'start') {
                total = e.total - e.skipped;
                this.output.appendLine(vscode.l10n.t('Sweep {0}: {1} trial(s), {2} already done, {3} at a time.', e.sweepId, e.total, e.skipped, e.parallel));
                progress.report({ message: vscode.l10n.t('{0}/{1} done · {2} running · {3} failed', 0, total, 0, 0) });
              } else if (e.type === 'trial-start') {
                running++;
                this.output.appendLine(vscode.l10n.t('Trial {0} (seed {1}) started: run {2}.', e.trial.index, e.trial.seed, e.runId));
              } else {
                running = Math.max(0, running - 1);
                ended++;
                if (e.outcome.status === 'failed' || e.outcome.status === 'interrupted') failed++;
                this.output.appendLine(e.stoppedEarly
                  ? vscode.l10n.t('Trial {0}: stopped early — {1}', e.trial.index, e.outcome.error ?? '')
                  : e.outcome.error ? vscode.l10n.t('Trial {0}: {1} — {2}', e.trial.index, e.outcome.status, e.outcome.error) : vscode.l10n.t('Trial {0}: {1}', e.trial.index, e.outcome.status));
                report();
              }
            },
          }, { workspaceRoot: folder.uri.fsPath, configPath: uri.fsPath });
          this.announce(result);
          return result;
        },
      );
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      this.output.appendLine(message);
      if (e instanceof ConfigNotRunnableError || e instanceof SweepSpecError || e instanceof SweepError) {
        const show = vscode.l10n.t('Show Problems');
        void vscode.window.showErrorMessage(message.split('\n')[0], show).then(c => { if (c) void vscode.commands.executeCommand(Commands.showProblems); });
      } else {
        void vscode.window.showErrorMessage(vscode.l10n.t('EDD: the sweep could not run: {0}', message));
      }
      return undefined;
    } finally {
      this.controllers.delete(controller);
    }
  }

  private announce(r: SweepResult): void {
    const o = [...r.outcomes.values()];
    const stopped = o.filter(x => x.stoppedEarly).length;
    const text = vscode.l10n.t('Sweep {0}: {1} finished, {2} stopped early, {3} failed, {4} cancelled, {5} skipped (done before), {6} not started.',
      r.sweepId, o.filter(x => x.status === 'finished').length, stopped, o.filter(x => x.status === 'failed' || x.status === 'interrupted').length,
      o.filter(x => x.status === 'cancelled' && !x.stoppedEarly).length, r.skipped, r.total - r.skipped - o.length);
    this.output.appendLine(text);
    if (r.cancelled || o.some(x => x.status === 'failed')) void vscode.window.showWarningMessage(text);
    else void vscode.window.showInformationMessage(text);
  }
}
