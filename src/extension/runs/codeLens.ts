import * as vscode from 'vscode';
import { Disposable } from '../dispose';
import { Commands, Views } from '../ids';
import type { ValidationService } from '../validation';
import { formatMetric, keyMetric } from './runController';
import type { StoreService } from './storeService';

/** Above each experiment config: "▶ Run Experiment" and the state of its last run. */
export class RunCodeLens extends Disposable implements vscode.CodeLensProvider {
  private readonly changed = this.track(new vscode.EventEmitter<void>());
  readonly onDidChangeCodeLenses = this.changed.event;

  constructor(private readonly validation: ValidationService, private readonly stores: StoreService) {
    super();
    this.track(vscode.languages.registerCodeLensProvider([{ language: 'yaml' }, { pattern: '**/*.{yaml,yml}' }], this));
    this.track(stores.onDidChange(() => this.changed.fire()));
    this.track(validation.onDidChange(() => this.changed.fire()));
  }

  async provideCodeLenses(doc: vscode.TextDocument): Promise<vscode.CodeLens[]> {
    if (this.validation.kindOf(doc) !== 'experiment') return [];
    const line = Math.max(0, doc.getText().search(/^experiment\s*:/m) >= 0 ? doc.positionAt(doc.getText().search(/^experiment\s*:/m)).line : 0);
    const range = new vscode.Range(line, 0, line, 0);
    const lenses = [new vscode.CodeLens(range, { title: vscode.l10n.t('$(play) Run Experiment'), command: Commands.runExperiment, arguments: [doc.uri] })];
    // `sweep:` one level under `experiment:` (any indentation): its own lens runs every trial.
    const sweepAt = doc.getText().search(/^[ \t]+sweep[ \t]*:/m);
    if (sweepAt >= 0) {
      const sweepLine = doc.positionAt(sweepAt).line;
      lenses.push(new vscode.CodeLens(new vscode.Range(sweepLine, 0, sweepLine, 0), { title: vscode.l10n.t('$(run-all) Run Sweep'), command: Commands.runSweep, arguments: [doc.uri] }));
    }
    const folder = vscode.workspace.getWorkspaceFolder(doc.uri);
    const id = this.validation.state(doc.uri)?.experimentId?.id;
    const store = folder && id ? await this.stores.ifExists(folder) : undefined;
    const runs = store && id ? await store.listRuns({ experimentId: id, limit: 1 }) : [];
    const count = store && id ? (await store.listExperiments()).find(e => e.id === id)?.runCount ?? 0 : 0;
    if (runs[0]) {
      const km = keyMetric(runs[0].finalMetrics);
      lenses.push(new vscode.CodeLens(range, {
        title: vscode.l10n.t('{0} run(s) · last: {1}{2}', count, runs[0].status, km ? ` ${km[0]} ${formatMetric(km[1])}` : ''),
        command: `${Views.experiments}.focus`,
      }));
    }
    return lenses;
  }
}
