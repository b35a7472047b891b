import * as vscode from 'vscode';
import { installPythonClient, PythonInstallError, type InstallResult } from '../core/python/install';
import { Disposable } from './dispose';
import { Commands, Settings } from './ids';

interface PythonExtensionApi {
  environments?: { getActiveEnvironmentPath?(resource?: vscode.Uri): { path: string } | undefined };
}

/**
 * EDD: Install Python Helper — pip-installs the Python client shipped in the extension (`python/`) into the
 * interpreter the workspace uses: `edd.python.path` when set, else the Python extension's selected interpreter,
 * else `python3`. Refused in Restricted Mode: it runs an interpreter the workspace may name.
 */
export class PythonHelper extends Disposable {
  private output: vscode.OutputChannel | undefined;

  constructor(private readonly extensionUri: vscode.Uri) {
    super();
    this.track(vscode.commands.registerCommand(Commands.installPythonHelper, () => this.install()));
  }

  /** The interpreter to install into, and where that choice came from (shown to the user). */
  async interpreter(folder?: vscode.WorkspaceFolder): Promise<{ python: string; from: string }> {
    const configured = vscode.workspace.getConfiguration(Settings.section, folder?.uri).get<string>(Settings.pythonPath, '').trim();
    if (configured) return { python: configured, from: 'edd.python.path' };
    const ext = vscode.extensions.getExtension<PythonExtensionApi>('ms-python.python');
    if (ext) {
      try {
        const api = ext.isActive ? ext.exports : await ext.activate();
        const active = api?.environments?.getActiveEnvironmentPath?.(folder?.uri);
        if (active?.path) return { python: active.path, from: vscode.l10n.t('the Python extension') };
      } catch {
        // The Python extension failed to answer: fall back to python3 below.
      }
    }
    return { python: 'python3', from: 'PATH' };
  }

  async install(): Promise<InstallResult | undefined> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage(vscode.l10n.t('EDD does not install the Python helper in Restricted Mode: trust the workspace first (it runs an interpreter the workspace may name).'));
      return undefined;
    }
    const folder = vscode.workspace.workspaceFolders?.[0];
    const { python, from } = await this.interpreter(folder);
    this.output ??= this.track(vscode.window.createOutputChannel(vscode.l10n.t('EDD Python Helper')));
    const out = this.output;
    out.appendLine(vscode.l10n.t('Installing the EDD Python helper into {0} (from {1})…', python, from));
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('EDD: installing the Python helper into {0}…', python), cancellable: true },
        (_p, token) => {
          const abort = new AbortController();
          token.onCancellationRequested(() => abort.abort());
          return installPythonClient({ python, source: vscode.Uri.joinPath(this.extensionUri, 'python').fsPath, onOutput: l => out.appendLine(l), signal: abort.signal });
        },
      );
      out.appendLine(vscode.l10n.t('Installed edd {0} into {1} (Python {2}).', result.clientVersion, result.executable, result.version));
      void vscode.window.showInformationMessage(vscode.l10n.t('EDD Python helper {0} installed into {1} (Python {2}): `import edd` in your training script.', result.clientVersion, result.executable, result.version));
      return result;
    } catch (e) {
      const message = e instanceof PythonInstallError ? e.message : String((e as Error).message ?? e);
      out.appendLine(message);
      const show = vscode.l10n.t('Show Output');
      void vscode.window.showErrorMessage(vscode.l10n.t('EDD: the Python helper was not installed. {0}', message), show).then(a => { if (a === show) out.show(); });
      return undefined;
    }
  }
}
