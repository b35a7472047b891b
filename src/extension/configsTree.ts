import * as vscode from 'vscode';
import { Disposable } from './dispose';
import { Commands, ContextKeys, Views } from './ids';
import type { ConfigState, ValidationService } from './validation';

/** Tree elements are plain data; the TreeItem is built in getTreeItem. */
interface ConfigNode {
  uri: vscode.Uri;
}

/** The "Experiment Configs" view: every config of the workspace with its id and its problem count. */
export class ConfigsTree extends Disposable implements vscode.TreeDataProvider<ConfigNode> {
  private readonly changed = this.track(new vscode.EventEmitter<ConfigNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly validation: ValidationService) {
    super();
    this.track(vscode.window.createTreeView(Views.configs, { treeDataProvider: this, showCollapseAll: false }));
    this.track(validation.onDidChange(() => {
      void vscode.commands.executeCommand('setContext', ContextKeys.hasConfigs, validation.configs.length > 0);
      this.changed.fire(undefined);
    }));
  }

  getChildren(element?: ConfigNode): ConfigNode[] {
    if (element) return [];
    return this.validation.configs.map(c => ({ uri: c.uri }));
  }

  getTreeItem(node: ConfigNode): vscode.TreeItem {
    const s = this.validation.state(node.uri);
    const item = new vscode.TreeItem(s?.experimentId?.id ?? vscode.workspace.asRelativePath(node.uri), vscode.TreeItemCollapsibleState.None);
    item.resourceUri = node.uri;
    item.contextValue = 'edd.config';
    item.command = { command: Commands.openConfig, title: vscode.l10n.t('Open Config'), arguments: [node.uri] };
    const { errors, warnings } = counts(s);
    item.description = vscode.workspace.asRelativePath(node.uri);
    item.iconPath = errors ? new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'))
      : warnings ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'))
        : new vscode.ThemeIcon('beaker');
    item.tooltip = errors || warnings
      ? vscode.l10n.t('{0}: {1} error(s), {2} warning(s)', vscode.workspace.asRelativePath(node.uri), errors, warnings)
      : vscode.l10n.t('{0}: no problems', vscode.workspace.asRelativePath(node.uri));
    return item;
  }
}

function counts(s: ConfigState | undefined): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const p of s ? [...s.problems, ...s.crossFile] : []) {
    if (p.severity === 'error') errors++;
    else if (p.severity === 'warning') warnings++;
  }
  return { errors, warnings };
}
