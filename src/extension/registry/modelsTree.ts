import * as vscode from 'vscode';
import type { GateState } from '../../core/registry';
import type { ModelVersionRecord, Stage } from '../../core/store';
import { Disposable } from '../dispose';
import { ContextKeys, Settings, Views } from '../ids';
import { escapeMd, formatBytes } from '../runs/experimentsTree';
import { formatMetric, keyMetric } from '../runs/runController';
import type { RemoteStore, StoreService } from '../runs/storeService';

/** Tree elements are plain data; `folder` is the workspace folder's URI. */
export type ModelNode =
  | { kind: 'model'; folder: string; model: string }
  | { kind: 'version'; folder: string; model: string; version: number };

const gateIcon: Record<GateState, vscode.ThemeIcon> = {
  passed: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  none: new vscode.ThemeIcon('circle-large-outline', new vscode.ThemeColor('disabledForeground')),
};

export function stageLabel(stage: Stage): string {
  switch (stage) {
    case 'production': return vscode.l10n.t('production');
    case 'staging': return vscode.l10n.t('staging');
    case 'archived': return vscode.l10n.t('archived');
    default: return vscode.l10n.t('no stage');
  }
}

export function gateLabel(state: GateState): string {
  return state === 'passed' ? vscode.l10n.t('gate passed') : state === 'failed' ? vscode.l10n.t('gate failed') : vscode.l10n.t('not gated');
}

/**
 * The Models view: model → versions (newest first) with the stage and aliases as badges in the description, the
 * gate status as the icon, and the key metric. Refreshes when the store changes (this window or the CLI).
 */
export class ModelsTree extends Disposable implements vscode.TreeDataProvider<ModelNode> {
  private readonly changed = this.track(new vscode.EventEmitter<ModelNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<ModelNode>;
  private refreshTimer: NodeJS.Timeout | undefined;
  private readonly rows = new Map<string, ModelVersionRecord>();

  /** Whether this window serves a model (set by the extension from the serving controller). */
  served: (folder: string, model: string) => boolean = () => false;

  constructor(private readonly stores: StoreService) {
    super();
    this.view = this.track(vscode.window.createTreeView(Views.models, { treeDataProvider: this, showCollapseAll: true }));
    this.track(stores.onDidChange(({ change }) => {
      if (change.origin === 'external' || change.registry) this.refreshSoon();
    }));
    this.track({ dispose: () => clearTimeout(this.refreshTimer) });
  }

  private refreshSoon(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.refresh();
    }, 100);
  }

  refresh(): void {
    this.rows.clear();
    this.changed.fire(undefined);
  }

  folderOf(uri: string): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.find(f => f.uri.toString() === uri);
  }

  async storeOf(folder: string): Promise<RemoteStore | undefined> {
    const f = this.folderOf(folder);
    return f ? this.stores.ifExists(f) : undefined;
  }

  /** The record behind a version node (fresh from the store). */
  async record(node: Extract<ModelNode, { kind: 'version' }>): Promise<ModelVersionRecord | undefined> {
    return (await this.storeOf(node.folder))?.findModelVersion(node.model, node.version);
  }

  async getChildren(node?: ModelNode): Promise<ModelNode[]> {
    if (!node) {
      const out: ModelNode[] = [];
      for (const f of vscode.workspace.workspaceFolders ?? []) {
        const store = await this.stores.ifExists(f);
        for (const m of (await store?.listModels()) ?? []) out.push({ kind: 'model', folder: f.uri.toString(), model: m.name });
      }
      void vscode.commands.executeCommand('setContext', ContextKeys.hasModels, out.length > 0);
      return out;
    }
    if (node.kind !== 'model') return [];
    const store = await this.storeOf(node.folder);
    return ((await store?.listModelVersions(node.model)) ?? []).map(v => {
      this.rows.set(`${node.folder}|${v.model}|${v.version}`, v);
      return { kind: 'version', folder: node.folder, model: v.model, version: v.version };
    });
  }

  getParent(node: ModelNode): ModelNode | undefined {
    return node.kind === 'version' ? { kind: 'model', folder: node.folder, model: node.model } : undefined;
  }

  async getTreeItem(node: ModelNode): Promise<vscode.TreeItem> {
    const store = await this.storeOf(node.folder);
    if (node.kind === 'model') {
      const m = (await store?.listModels())?.find(x => x.name === node.model);
      const item = new vscode.TreeItem(node.model, vscode.TreeItemCollapsibleState.Expanded);
      item.id = `model:${node.folder}:${node.model}`;
      item.iconPath = new vscode.ThemeIcon('package');
      item.description = [
        vscode.l10n.t('{0} version(s)', m?.versionCount ?? 0),
        m?.productionVersion ? vscode.l10n.t('production v{0}', m.productionVersion) : vscode.l10n.t('nothing in production'),
      ].join(' · ');
      // `.served` when this window serves the model: Stop Serving and the canary commands show on it only then.
      item.contextValue = `${m?.productionVersion ? 'edd.model.withProduction' : 'edd.model'}${this.served(node.folder, node.model) ? '.served' : ''}`;
      return item;
    }
    const v = this.rows.get(`${node.folder}|${node.model}|${node.version}`) ?? (await store?.findModelVersion(node.model, node.version));
    const item = new vscode.TreeItem(`v${node.version}`, vscode.TreeItemCollapsibleState.None);
    item.id = `version:${node.folder}:${node.model}:${node.version}`;
    if (!v || !store) return item;
    const gate = await store.op('gateStatus', v);
    const km = keyMetric(v.metrics, vscode.workspace.getConfiguration(Settings.section).get<string>(Settings.keyMetric) || undefined);
    item.description = [
      v.stage !== 'none' ? `[${stageLabel(v.stage)}]` : undefined,
      ...v.aliases.map(a => `@${a}`),
      km ? `${km[0]} ${formatMetric(km[1])}` : undefined,
    ].filter(Boolean).join(' ');
    item.iconPath = v.stage === 'production' && gate.state === 'passed' ? new vscode.ThemeIcon('verified-filled', new vscode.ThemeColor('testing.iconPassed')) : gateIcon[gate.state];
    item.resourceUri = vscode.Uri.file(await store.op('versionFile', v));
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${escapeMd(`${v.model}@${v.version}`)}** — ${escapeMd(stageLabel(v.stage))}${v.aliases.length ? ` · ${escapeMd(v.aliases.map(a => `@${a}`).join(' '))}` : ''}\n\n`);
    md.appendMarkdown(`${escapeMd(gateLabel(gate.state))}${gate.report ? ` — ${escapeMd(gate.report.policy)}, ${escapeMd(new Date(gate.report.createdAt).toLocaleString())}` : ''}\n\n`);
    md.appendMarkdown(`${escapeMd(vscode.l10n.t('Registered {0} by {1}', new Date(v.createdAt).toLocaleString(), v.createdBy ?? '?'))}\n\n`);
    if (v.runId) md.appendMarkdown(`${escapeMd(vscode.l10n.t('Run {0}', v.runId))}\n\n`);
    md.appendMarkdown(`sha256 \`${v.sha256.slice(0, 16)}…\` · ${formatBytes(v.size)}\n\n`);
    for (const [k, x] of Object.entries(v.metrics).slice(0, 8)) md.appendMarkdown(`${escapeMd(k)}: ${escapeMd(formatMetric(x))}  \n`);
    item.tooltip = md;
    item.contextValue = `edd.version.${v.stage}.${gate.state}`;
    item.accessibilityInformation = { label: `${v.model} v${v.version}, ${stageLabel(v.stage)}, ${gateLabel(gate.state)}${v.aliases.length ? `, ${v.aliases.join(', ')}` : ''}` };
    return item;
  }
}
