import * as vscode from 'vscode';
import type { GateReport } from '../core/checks/types';
import { setMessages } from '../core/l10n';
import { ConfigsTree } from './configsTree';
import { ExampleProject } from './exampleProject';
import { Disposable } from './dispose';
import { Commands } from './ids';
import { LanguageFeatures } from './languageFeatures';
import { TypedConfigCodegen } from './codegen';
import { PythonHelper } from './pythonHelper';
import { StatusBar } from './statusBar';
import { ValidationService } from './validation';
import { CompareCommands } from './compare/compareCommands';
import { GateController } from './gate/gateController';
import { MonitorController } from './monitor/monitorController';
import { MlflowCommands } from './mlflow/mlflowCommands';
import { ModelsTree } from './registry/modelsTree';
import { RegistryCommands } from './registry/registryCommands';
import { ServingController } from './serve/servingController';
import { RunCodeLens } from './runs/codeLens';
import { ExperimentsTree } from './runs/experimentsTree';
import { RunCommands } from './runs/runCommands';
import { SweepCommand } from './runs/sweepCommand';
import { RunController } from './runs/runController';
import { StoreService } from './runs/storeService';
import { RunTaskProvider } from './runs/tasks';

/** The extension's root object: everything it registers hangs off this one Disposable. */
export class Extension extends Disposable {
  readonly validation = this.track(new ValidationService());
  readonly stores = this.track(new StoreService());
  readonly runs = this.track(new RunController(this.stores));
  readonly experiments: ExperimentsTree;
  readonly compare: CompareCommands;
  readonly gate: GateController;
  readonly models: ModelsTree;
  readonly registry: RegistryCommands;
  readonly python: PythonHelper;
  readonly codegen: TypedConfigCodegen;
  readonly monitor: MonitorController;
  readonly serving: ServingController;

  constructor(extensionUri: vscode.Uri, secrets: vscode.SecretStorage) {
    super();
    
    this.experiments = this.track(new ExperimentsTree(this.stores, this.validation, this.runs));
    this.track(new RunCommands(this.runs, this.stores, this.experiments, this.validation));
    this.track(new RunCodeLens(this.validation, this.stores));
    this.track(new SweepCommand(this.runs, this.stores));
    this.track(new RunTaskProvider(this.validation, this.runs));
    this.compare = this.track(new CompareCommands(extensionUri, this.stores, this.experiments));
    this.gate = this.track(new GateController(this.stores, this.validation, extensionUri));
    this.models = this.track(new ModelsTree(this.stores));
    this.registry = this.track(new RegistryCommands(this.stores, this.models));
    this.python = this.track(new PythonHelper(extensionUri));
    this.codegen = this.track(new TypedConfigCodegen());
    this.track(new ExampleProject(extensionUri));
    this.monitor = this.track(new MonitorController(extensionUri));
    this.serving = this.track(new ServingController(extensionUri, this.stores));
    this.models.served = (folder, model) => this.serving.services.some(x => x.folder.uri.toString() === folder && x.model === model);
    // The status is polled every 2 s while serving: the tree is refreshed only when what is served changes.
    let servedKey = '';
    this.track(this.serving.onDidChange(() => {
      const key = this.serving.services.map(x => `${x.folder.uri.toString()}|${x.model}`).sort().join('\n');
      if (key !== servedKey) this.models.refresh();
      servedKey = key;
    }));
    const mlflow = this.track(new MlflowCommands(this.stores, secrets));
    this.runs.tracking = folder => mlflow.trackingOf(folder);
    this.track(vscode.commands.registerCommand(Commands.showVersionGateReport, (node?: { kind?: string; folder?: string; model?: string; version?: number }) =>
      node?.kind === 'version' && node.folder && node.model && node.version ? this.showVersionReport(node.folder, node.model, node.version) : undefined));
    this.track(vscode.commands.registerCommand(Commands.checkVersion, (node?: { kind?: string; folder?: string; model?: string; version?: number }) =>
      node?.kind === 'version' && node.folder && node.model && node.version ? this.gate.checkVersion(node.folder, node.model, node.version) : undefined));
    this.track(new LanguageFeatures(this.validation));
    this.track(new StatusBar(this.validation));
    this.track(new ConfigsTree(this.validation));
    this.track(vscode.commands.registerCommand(Commands.validateWorkspace, () => this.validateWorkspace()));
    this.track(vscode.commands.registerCommand(Commands.showProblems, () => vscode.commands.executeCommand('workbench.actions.view.problems')));
    this.track(vscode.commands.registerCommand(Commands.openConfig, (uri: vscode.Uri) => vscode.window.showTextDocument(uri)));
    // Validate what is open now, then the whole workspace in the background.
    for (const d of vscode.workspace.textDocuments) void this.validation.validateDocument(d);
    void this.validation.scanWorkspace();
  }

  /** The latest stored gate report of a registered version, in the gate report panel. */
  private async showVersionReport(folderUri: string, model: string, version: number): Promise<GateReport | undefined> {
    const folder = vscode.workspace.workspaceFolders?.find(f => f.uri.toString() === folderUri);
    const store = folder && (await this.stores.ifExists(folder));
    const v = await store?.findModelVersion(model, version);
    const stored = store && v ? (await store.op('gateStatus', v)).report : undefined;
    if (!folder || !stored) {
      void vscode.window.showInformationMessage(vscode.l10n.t('{0}@{1} has no gate report yet: run Check Promotion on it.', model, version));
      return undefined;
    }
    const report = stored.report as GateReport;
    this.gate.reportPanel.show(report, vscode.Uri.joinPath(folder.uri, stored.policy), { preserveFocus: false });
    return report;
  }

  private async validateWorkspace(): Promise<{ files: number; errors: number; warnings: number }> {
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('EDD: validating experiment configs…'), cancellable: true },
      (_progress, token) => this.validation.scanWorkspace(token),
    );
    let errors = 0;
    let warnings = 0;
    for (const c of this.validation.configs) {
      for (const p of [...c.problems, ...c.crossFile]) {
        if (p.severity === 'error') errors++;
        else if (p.severity === 'warning') warnings++;
      }
    }
    const files = this.validation.configs.length;
    const message = files === 0
      ? vscode.l10n.t('No experiment configs found. EDD looks for {0} and YAML files starting with `# edd: experiment`.', this.validation.glob())
      : vscode.l10n.t('{0} experiment config(s): {1} error(s), {2} warning(s).', files, errors, warnings);
    if (errors) {
      void vscode.window.showWarningMessage(message, vscode.l10n.t('Show Problems')).then(choice => {
        if (choice) void vscode.commands.executeCommand(Commands.showProblems);
      });
    } else {
      void vscode.window.showInformationMessage(message);
    }
    return { files, errors, warnings };
  }
}

let root: Extension | undefined;

/** The API returned from activate(): what integration tests (and other extensions) may use. */
export interface EddApi {
  validation: ValidationService;
  stores: StoreService;
  runs: RunController;
  experiments: ExperimentsTree;
  compare: CompareCommands;
  gate: GateController;
  models: ModelsTree;
  registry: RegistryCommands;
  python: PythonHelper;
  serving: ServingController;
}

export function activate(context: vscode.ExtensionContext): EddApi {
  setMessages(vscode.l10n.bundle);
  root = new Extension(context.extensionUri, context.secrets);
  context.subscriptions.push(root);
  return { validation: root.validation, stores: root.stores, runs: root.runs, experiments: root.experiments, compare: root.compare, gate: root.gate, models: root.models, registry: root.registry, python: root.python, serving: root.serving };
}

export async function deactivate(): Promise<void> {
  const r = root;
  root = undefined;
  if (!r) return;
  await r.serving.stopAll(); // servers this window started stop cleanly (their logs flushed)
  await r.stores.flush(); // unsaved runs reach the disk before the host goes away
  r.dispose();
}
