import * as vscode from 'vscode';
import { setMessages } from '../core/l10n';
import { ConfigsTree } from './configsTree';
import { Disposable } from './dispose';
import { Commands } from './ids';
import { LanguageFeatures } from './languageFeatures';
import { StatusBar } from './statusBar';
import { ValidationService } from './validation';

/** The extension's root object: everything it registers hangs off this one Disposable. */
export class Extension extends Disposable {
  readonly validation = this.track(new ValidationService());

  constructor() {
    super();
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
}

export function activate(context: vscode.ExtensionContext): EddApi {
  setMessages(vscode.l10n.bundle);
  root = new Extension();
  context.subscriptions.push(root);
  return { validation: root.validation };
}

export function deactivate(): void {
  root?.dispose();
  root = undefined;
}
