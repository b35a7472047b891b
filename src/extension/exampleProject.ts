import * as vscode from 'vscode';
import { Disposable } from './dispose';
import { Commands } from './ids';

/** What the command takes when it is not asked through dialogs (tests, other commands). */
export interface CreateExampleArgs {
  /** Name of an example under dist/examples (`penguins`). */
  example?: string;
  /** The folder to create the project in: empty or not there yet. */
  target?: vscode.Uri | string;
  /** Open the new project in the window (default true). */
  open?: boolean;
}

/**
 * EDD: Create Example Project. The build stages each example under dist/examples/<name> with everything it needs to
 * run outside this repository (esbuild.mjs); the command copies it to <target>/examples/<name>, because the example's
 * configs and policy name their files from the workspace root (`examples/penguins/train.js`).
 */
export class ExampleProject extends Disposable {
  constructor(private readonly extensionUri: vscode.Uri) {
    super();
    this.track(vscode.commands.registerCommand(Commands.createExampleProject, (args?: CreateExampleArgs) => this.create(args)));
  }

  /** The examples this installation carries. */
  async examples(): Promise<string[]> {
    try {
      const entries = await vscode.workspace.fs.readDirectory(vscode.Uri.joinPath(this.extensionUri, 'dist', 'examples'));
      return entries.filter(([, type]) => type === vscode.FileType.Directory).map(([name]) => name).sort();
    } catch {
      return [];
    }
  }

  /** Resolves to the new project's folder; undefined when the user cancelled or the target was refused. */
  async create(args: CreateExampleArgs = {}): Promise<vscode.Uri | undefined> {
    const available = await this.examples();
    if (available.length === 0) {
      void vscode.window.showErrorMessage(vscode.l10n.t('This installation of EDD carries no example (dist/examples is missing): build the extension with `node esbuild.mjs`.'));
      return undefined;
    }
    const example = args.example ?? (available.length === 1 ? available[0] : (await vscode.window.showQuickPick(
      available.map(name => ({ label: name, description: describe(name) })),
      { placeHolder: vscode.l10n.t('Example to copy') },
    ))?.label);
    if (!example) return undefined;
    if (!available.includes(example)) {
      void vscode.window.showErrorMessage(vscode.l10n.t('There is no example named "{0}": the examples are {1}.', example, available.join(', ')));
      return undefined;
    }
    const target = typeof args.target === 'string' ? vscode.Uri.file(args.target) : args.target ?? (await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      canSelectMany: false,
      openLabel: vscode.l10n.t('Create Example Here'),
      title: vscode.l10n.t('An empty folder for the example project'),
    }))?.[0];
    if (!target) return undefined;
    if (!(await isEmptyOrMissing(target))) {
      void vscode.window.showErrorMessage(vscode.l10n.t('{0} is not empty: choose an empty folder for the example project, so that nothing in it is overwritten.', target.fsPath));
      return undefined;
    }
    await vscode.workspace.fs.createDirectory(vscode.Uri.joinPath(target, 'examples'));
    await vscode.workspace.fs.copy(vscode.Uri.joinPath(this.extensionUri, 'dist', 'examples', example), vscode.Uri.joinPath(target, 'examples', example), { overwrite: false });
    if (args.open !== false) {
      // A window that already has a workspace keeps it: the project opens beside it.
      await vscode.commands.executeCommand('vscode.openFolder', target, { forceNewWindow: (vscode.workspace.workspaceFolders?.length ?? 0) > 0 });
    }
    return target;
  }
}

function describe(example: string): string | undefined {
  return example === 'penguins' ? vscode.l10n.t('Node.js: a logistic regression on the Palmer penguins, exported to ONNX') : undefined;
}

async function isEmptyOrMissing(folder: vscode.Uri): Promise<boolean> {
  try {
    const stat = await vscode.workspace.fs.stat(folder);
    if (stat.type !== vscode.FileType.Directory) return false;
    return (await vscode.workspace.fs.readDirectory(folder)).length === 0;
  } catch (e) {
    if (e instanceof vscode.FileSystemError && e.code === 'FileNotFound') return true;
    throw e;
  }
}
