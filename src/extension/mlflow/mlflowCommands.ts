import * as vscode from 'vscode';
import { MlflowApiError, MlflowInputError, MlflowUnreachableError, type Credentials, type LiveOptions } from '../../core/mlflow';
import { Disposable } from '../dispose';
import { Commands, Settings } from '../ids';
import type { StoreService } from '../runs/storeService';

/** SecretStorage keys of the tracking server's credentials (never in settings, never logged). */
const SECRET = { token: 'edd.mlflow.token', username: 'edd.mlflow.username', password: 'edd.mlflow.password' } as const;

/**
 * EDD: Import MLflow Runs…, EDD: Sync with MLflow Tracking Server, EDD: Set MLflow Tracking Credentials…. The work is
 * the core's (src/core/mlflow), run in the store worker beside the store (nothing heavy on the extension host's
 * thread); this only asks for inputs and reports.
 */
export class MlflowCommands extends Disposable {
  constructor(private readonly stores: StoreService, private readonly secrets: vscode.SecretStorage) {
    super();
    this.track(vscode.commands.registerCommand(Commands.importMlflow, (source?: vscode.Uri) => this.importRuns(source)));
    this.track(vscode.commands.registerCommand(Commands.syncMlflow, () => this.sync()));
    this.track(vscode.commands.registerCommand(Commands.setMlflowCredentials, () => this.setCredentials()));
  }

  private async folder(): Promise<vscode.WorkspaceFolder | undefined> {
    const folders = vscode.workspace.workspaceFolders ?? [];
    if (folders.length <= 1) return folders[0];
    return vscode.window.showWorkspaceFolderPick({ placeHolder: vscode.l10n.t('Import into the run store of which folder?') });
  }

  async importRuns(source?: vscode.Uri): Promise<void> {
    const folder = await this.folder();
    if (!folder) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Open a folder first: MLflow runs are imported into its run store.'));
      return;
    }
    if (!source) {
      const picked = await vscode.window.showOpenDialog({
        canSelectFiles: true, canSelectFolders: true, canSelectMany: false, defaultUri: folder.uri,
        openLabel: vscode.l10n.t('Import'), title: vscode.l10n.t('Choose an mlruns folder or an mlflow.db file'),
      });
      source = picked?.[0];
    }
    if (!source) return;
    const chosen = source;
    try {
      const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Importing MLflow runs…') }, async () => {
        const store = await this.stores.get(folder);
        return store.op('importMlflow', chosen.fsPath, folder.uri.fsPath);
      });
      const message = vscode.l10n.t('Imported {0} new and {1} updated run(s), {2} metric point(s), {3} model version(s) from MLflow.', result.runsCreated, result.runsUpdated, result.points, result.versionsCreated);
      if (result.warnings.length) void vscode.window.showWarningMessage(`${message} ${result.warnings.join(' ')}`);
      else void vscode.window.showInformationMessage(message);
    } catch (e) {
      if (e instanceof MlflowInputError) void vscode.window.showErrorMessage(e.message);
      else throw e;
    }
  }

  /**
   * Where the runs of `folder` log live: `edd.tracking.uri` with the stored credentials (the same shape and the same
   * environment fallbacks as the CLI's); undefined when the setting is empty.
   */
  async trackingOf(folder: vscode.WorkspaceFolder): Promise<LiveOptions | undefined> {
    const uri = vscode.workspace.getConfiguration(Settings.section, folder.uri).get<string>(Settings.trackingUri)?.trim();
    return uri ? { trackingUri: uri, credentials: await this.credentials() } : undefined;
  }

  private async credentials(): Promise<Credentials> {
    const [token, username, password] = await Promise.all([this.secrets.get(SECRET.token), this.secrets.get(SECRET.username), this.secrets.get(SECRET.password)]);
    return {
      token: token || process.env.MLFLOW_TRACKING_TOKEN || undefined,
      username: username || process.env.MLFLOW_TRACKING_USERNAME || undefined,
      password: password || process.env.MLFLOW_TRACKING_PASSWORD || undefined,
    };
  }

  async sync(): Promise<void> {
    const folder = await this.folder();
    if (!folder) return;
    const uri = vscode.workspace.getConfiguration(Settings.section, folder.uri).get<string>(Settings.trackingUri)?.trim();
    if (!uri) {
      const open = vscode.l10n.t('Open Settings');
      const choice = await vscode.window.showErrorMessage(vscode.l10n.t('Set `edd.tracking.uri` to the MLflow tracking server (http://host:port) first.'), open);
      if (choice === open) void vscode.commands.executeCommand('workbench.action.openSettings', `edd.${Settings.trackingUri}`);
      return;
    }
    try {
      const store = await this.stores.get(folder);
      const options = { trackingUri: uri, credentials: await this.credentials() };
      const { pushed, pulled } = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Syncing with {0}…', uri) },
        () => store.op('syncMlflow', options));
      void vscode.window.showInformationMessage(vscode.l10n.t('Pushed {0} run(s); pulled {1} new and {2} updated run(s) from {3}.', pushed.pushed, pulled.runsCreated, pulled.runsUpdated, uri));
    } catch (e) {
      if (e instanceof MlflowUnreachableError || e instanceof MlflowApiError) {
        void vscode.window.showErrorMessage(vscode.l10n.t('{0} What was sent is kept; sync again to resume.', e.message));
      } else {
        throw e;
      }
    }
  }

  async setCredentials(): Promise<void> {
    const tokenItem = vscode.l10n.t('Access token');
    const basicItem = vscode.l10n.t('User name and password');
    const clearItem = vscode.l10n.t('Forget the stored credentials');
    const kind = await vscode.window.showQuickPick([tokenItem, basicItem, clearItem], { placeHolder: vscode.l10n.t('How does the MLflow tracking server authenticate?') });
    if (!kind) return;
    await Promise.all(Object.values(SECRET).map(k => this.secrets.delete(k)));
    if (kind === tokenItem) {
      const token = await vscode.window.showInputBox({ prompt: vscode.l10n.t('MLflow access token (kept in the editor\'s secret storage)'), password: true, ignoreFocusOut: true });
      if (token) await this.secrets.store(SECRET.token, token);
    } else if (kind === basicItem) {
      const username = await vscode.window.showInputBox({ prompt: vscode.l10n.t('MLflow user name'), ignoreFocusOut: true });
      const password = username ? await vscode.window.showInputBox({ prompt: vscode.l10n.t('MLflow password (kept in the editor\'s secret storage)'), password: true, ignoreFocusOut: true }) : undefined;
      if (username && password !== undefined) {
        await this.secrets.store(SECRET.username, username);
        await this.secrets.store(SECRET.password, password);
      }
    }
  }
}
