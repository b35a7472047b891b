import * as vscode from 'vscode';
import {
  DEFAULT_OUTPUT, generateCode, inferParameters, missingParameters, parameterKeys, readGeneratedHeader, type CodegenLanguage, type GeneratedHeader,
} from '../core/codegen';
import { Disposable } from './dispose';
import { Commands, DIAGNOSTIC_SOURCE } from './ids';

const CONFIG_GLOB = '**/experiments/**/*.{yaml,yml}';
const EXCLUDE = '{**/node_modules/**,**/.git/**,**/.edd/**}';
/** Diagnostic code of a hyperparameter the generated typed config lacks. */
export const MISSING_IN_TYPED_CONFIG = 'typed-config-stale';

interface GenerateArgs {
  language?: CodegenLanguage;
  folder?: vscode.Uri;
}

/**
 * EDD: Generate Typed Config, and an info diagnostic (with the quick fix "Regenerate") on a config hyperparameter
 * the generated file does not have. A pass of its own, beside the validation worker: it needs the generated files
 * of the folder, which the per-file validation does not read.
 */
export class TypedConfigCodegen extends Disposable {
  private readonly diagnostics = this.track(vscode.languages.createDiagnosticCollection('edd-typed-config'));
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor() {
    super();
    this.track(vscode.commands.registerCommand(Commands.generateTypedConfig, (args?: GenerateArgs) => this.generate(args)));
    this.track(vscode.languages.registerCodeActionsProvider({ pattern: '**/*.{yaml,yml}' }, { provideCodeActions: (d, r, c) => this.codeActions(d, r, c) }, {
      providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
    }));
    const soon = () => this.schedule();
    this.track(vscode.workspace.onDidOpenTextDocument(soon));
    this.track(vscode.workspace.onDidChangeTextDocument(soon));
    this.track(vscode.workspace.onDidSaveTextDocument(soon));
    this.track(vscode.workspace.onDidCloseTextDocument(d => this.diagnostics.delete(d.uri)));
    this.track({ dispose: () => clearTimeout(this.timer) });
    this.schedule();
  }

  /** Write the typed config of a folder; resolves to the file written (undefined when the user cancelled). */
  async generate(args: GenerateArgs = {}): Promise<vscode.Uri | undefined> {
    const folder = args.folder ? vscode.workspace.getWorkspaceFolder(args.folder) : vscode.workspace.workspaceFolders?.length === 1
      ? vscode.workspace.workspaceFolders[0] : await vscode.window.showWorkspaceFolderPick();
    if (!folder) {
      if (!vscode.workspace.workspaceFolders?.length) void vscode.window.showWarningMessage(vscode.l10n.t('Open a folder with experiment configs first.'));
      return undefined;
    }
    let language = args.language;
    if (!language) {
      const picked = await vscode.window.showQuickPick([
        { label: 'Python', description: DEFAULT_OUTPUT.python, language: 'python' as const },
        { label: 'TypeScript', description: DEFAULT_OUTPUT.typescript, language: 'typescript' as const },
      ], { placeHolder: vscode.l10n.t('Language of the typed config') });
      if (!picked) return undefined;
      language = picked.language;
    }
    const files = await vscode.workspace.findFiles(new vscode.RelativePattern(folder, CONFIG_GLOB), EXCLUDE);
    const sources = [];
    for (const uri of files) {
      const open = vscode.workspace.textDocuments.find(d => d.uri.toString() === uri.toString());
      const text = open ? open.getText() : new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
      sources.push({ file: vscode.workspace.asRelativePath(uri, false), text });
    }
    sources.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
    const inference = inferParameters(sources);
    const out = vscode.Uri.joinPath(folder.uri, DEFAULT_OUTPUT[language]);
    await vscode.workspace.fs.writeFile(out, new TextEncoder().encode(generateCode(language, inference)));
    void vscode.window.showInformationMessage(vscode.l10n.t('Wrote {0}: {1} hyperparameters from {2} configs.', vscode.workspace.asRelativePath(out), inference.parameters.length, inference.configs.length));
    await this.refresh();
    return out;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), 300);
  }

  /** The generated typed configs of each folder (at their default place), with their headers. */
  private async generatedFiles(): Promise<Array<{ folder: vscode.WorkspaceFolder; uri: vscode.Uri; header: GeneratedHeader }>> {
    const out = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      for (const language of ['python', 'typescript'] as const) {
        const uri = vscode.Uri.joinPath(folder.uri, DEFAULT_OUTPUT[language]);
        try {
          const header = readGeneratedHeader(new TextDecoder().decode(await vscode.workspace.fs.readFile(uri)));
          if (header) out.push({ folder, uri, header });
        } catch {
          // no generated file of this language
        }
      }
    }
    return out;
  }

  private async refresh(): Promise<void> {
    const generated = await this.generatedFiles();
    for (const doc of vscode.workspace.textDocuments) {
      if (!/\.ya?ml$/i.test(doc.uri.path) || !/(^|\/)experiments\//.test(doc.uri.path)) continue;
      const folder = vscode.workspace.getWorkspaceFolder(doc.uri);
      const keys = parameterKeys(doc.getText());
      const diagnostics: vscode.Diagnostic[] = [];
      for (const g of generated.filter(x => x.folder === folder)) {
        const missing = new Set(missingParameters(g.header, keys.map(k => k.name)));
        for (const k of keys.filter(x => missing.has(x.name))) {
          const d = new vscode.Diagnostic(
            new vscode.Range(doc.positionAt(k.offset), doc.positionAt(k.offset + k.length)),
            vscode.l10n.t('`{0}` is not in the generated typed config {1}: generate it again.', k.name, vscode.workspace.asRelativePath(g.uri)),
            vscode.DiagnosticSeverity.Information,
          );
          d.source = DIAGNOSTIC_SOURCE;
          d.code = MISSING_IN_TYPED_CONFIG;
          (d as vscode.Diagnostic & { language?: CodegenLanguage }).language = g.header.language;
          diagnostics.push(d);
        }
      }
      this.diagnostics.set(doc.uri, diagnostics);
    }
  }

  private codeActions(doc: vscode.TextDocument, range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const mine = (this.diagnostics.get(doc.uri) ?? []).filter(d => d.range.intersection(range));
    const seen = new Set<string>();
    const actions: vscode.CodeAction[] = [];
    for (const d of mine) {
      const language = (d as vscode.Diagnostic & { language?: CodegenLanguage }).language ?? 'python';
      if (seen.has(language)) continue;
      seen.add(language);
      const action = new vscode.CodeAction(vscode.l10n.t('Regenerate {0}', DEFAULT_OUTPUT[language]), vscode.CodeActionKind.QuickFix);
      action.command = { title: action.title, command: Commands.generateTypedConfig, arguments: [{ language, folder: doc.uri }] };
      action.diagnostics = context.diagnostics.filter(x => x.code === MISSING_IN_TYPED_CONFIG && x.range.isEqual(d.range));
      action.isPreferred = true;
      actions.push(action);
    }
    return actions;
  }
}
