import * as path from 'path';
import * as vscode from 'vscode';
import type { ExperimentSummary, RunSummary, RunStatus } from '../../core/store';
import { runOrigin } from '../../core/store/origin';
import { SWEEP_TAGS, sweepProgress } from '../../core/sweep/scheduler';
import { Disposable } from '../dispose';
import { Commands, ContextKeys, Settings, Views } from '../ids';
import type { ValidationService } from '../validation';
import { formatMetric, keyMetric, type RunController } from './runController';
import type { RemoteStore, StoreService } from './storeService';

/** Tree elements are plain data (the TreeItem is built in getTreeItem). `folder` is the workspace folder's URI. */
export type ExperimentNode =
  | { kind: 'experiment'; folder: string; experimentId: string; configPath?: string }
  | { kind: 'run'; folder: string; runId: string; experimentId: string }
  | { kind: 'sweep'; folder: string; experimentId: string; sweepId: string }
  | { kind: 'more'; folder: string; experimentId: string; offset: number }
  | { kind: 'group'; folder: string; runId: string; group: 'metrics' | 'params' | 'artifacts' }
  | { kind: 'metric'; folder: string; runId: string; key: string; value: number; step: number }
  | { kind: 'param'; folder: string; runId: string; key: string; value: string }
  | { kind: 'artifact'; folder: string; runId: string; path: string; artifactKind: string | null; size: number | null; sha256: string | null };

/** Runs listed per page under an experiment: the tree stays quick with 10,000 runs. */
export const RUNS_PAGE = 100;

const statusIcon: Record<RunStatus, vscode.ThemeIcon> = {
  queued: new vscode.ThemeIcon('clock'),
  running: new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')),
  finished: new vscode.ThemeIcon('pass', new vscode.ThemeColor('testing.iconPassed')),
  failed: new vscode.ThemeIcon('error', new vscode.ThemeColor('testing.iconFailed')),
  cancelled: new vscode.ThemeIcon('circle-slash', new vscode.ThemeColor('disabledForeground')),
  interrupted: new vscode.ThemeIcon('debug-disconnect', new vscode.ThemeColor('list.warningForeground')),
};

function duration(ms: number | null): string {
  if (ms === null) return '';
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const m = Math.floor(ms / 60_000);
  return m < 60 ? `${m} min ${Math.round((ms % 60_000) / 1000)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The Experiments view: experiment → runs (newest first) → metrics, params, artifacts. */
export class ExperimentsTree extends Disposable implements vscode.TreeDataProvider<ExperimentNode> {
  private readonly changed = this.track(new vscode.EventEmitter<ExperimentNode | undefined>());
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: vscode.TreeView<ExperimentNode>;
  /** Extra pages loaded per experiment ("Show more"). */
  private readonly pages = new Map<string, number>();
  private refreshTimer: NodeJS.Timeout | undefined;
  /** Rows fetched by getChildren, reused by getTreeItem (one query per level, not one per item). */
  private readonly runRows = new Map<string, RunSummary>();
  private readonly experimentRows = new Map<string, ExperimentSummary>();

  constructor(private readonly stores: StoreService, private readonly validation: ValidationService, private readonly runs: RunController) {
    super();
    this.view = this.track(vscode.window.createTreeView(Views.experiments, { treeDataProvider: this, canSelectMany: true, showCollapseAll: true }));
    this.track(stores.onDidChange(() => {
      this.runRows.clear(); // rows read before the change are stale; getChildren refills them
      this.experimentRows.clear();
      this.refreshSoon();
    }));
    this.track(validation.onDidChange(() => this.refreshSoon()));
    this.track(runs.onDidChangeActive(() => this.refreshSoon()));
    this.track({ dispose: () => clearTimeout(this.refreshTimer) });
  }

  /** Coalesce bursts (metrics arriving every few ms during a run) into one redraw. */
  private refreshSoon(): void {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      this.changed.fire(undefined);
    }, 150);
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  showMore(node: Extract<ExperimentNode, { kind: 'more' }>): void {
    const key = `${node.folder}|${node.experimentId}`;
    this.pages.set(key, (this.pages.get(key) ?? 0) + 1);
    this.refresh();
  }

  private folderOf(uri: string): vscode.WorkspaceFolder | undefined {
    return vscode.workspace.workspaceFolders?.find(f => f.uri.toString() === uri);
  }

  private async storeOf(folder: string): Promise<RemoteStore | undefined> {
    const f = this.folderOf(folder);
    return f ? this.stores.ifExists(f) : undefined;
  }

  async getChildren(node?: ExperimentNode): Promise<ExperimentNode[]> {
    if (!node) return this.roots();
    const store = await this.storeOf(node.folder);
    if (!store) return [];
    switch (node.kind) {
      case 'experiment': {
        const pages = 1 + (this.pages.get(`${node.folder}|${node.experimentId}`) ?? 0);
        const limit = pages * RUNS_PAGE;
        const runs = await store.listRuns({ experimentId: node.experimentId, limit: limit + 1 });
        for (const r of runs) this.runRows.set(r.id, r);
        // A sweep's runs sit under one sweep node, where its newest run would be.
        const sweeps = new Set<string>();
        const out: ExperimentNode[] = runs.slice(0, limit).flatMap((r): ExperimentNode[] => {
          const sweepId = r.tags[SWEEP_TAGS.id];
          if (sweepId === undefined) return [{ kind: 'run', folder: node.folder, runId: r.id, experimentId: r.experimentId }];
          if (sweeps.has(sweepId)) return [];
          sweeps.add(sweepId);
          return [{ kind: 'sweep', folder: node.folder, experimentId: r.experimentId, sweepId }];
        });
        if (runs.length > limit) out.push({ kind: 'more', folder: node.folder, experimentId: node.experimentId, offset: limit });
        return out;
      }
      case 'sweep': {
        const runs = await store.listRuns({ experimentId: node.experimentId, tags: { [SWEEP_TAGS.id]: node.sweepId } });
        for (const r of runs) this.runRows.set(r.id, r);
        return runs.sort((a, b) => Number(a.tags[SWEEP_TAGS.trial]) - Number(b.tags[SWEEP_TAGS.trial]) || a.createdAt - b.createdAt)
          .map(r => ({ kind: 'run', folder: node.folder, runId: r.id, experimentId: r.experimentId }));
      }
      case 'run':
        return (['metrics', 'params', 'artifacts'] as const).map(group => ({ kind: 'group', folder: node.folder, runId: node.runId, group }));
      case 'group': {
        if (node.group === 'metrics') {
          const summary = this.runRows.get(node.runId) ?? (await this.summary(store, node.runId));
          // The worker reads the history and answers one step per metric, not every point.
          const lastStep = await store.op('lastSteps', node.runId);
          return Object.entries(summary?.finalMetrics ?? {}).sort(([a], [b]) => a.localeCompare(b))
            .map(([key, value]) => ({ kind: 'metric', folder: node.folder, runId: node.runId, key, value, step: lastStep[key] ?? 0 }));
        }
        if (node.group === 'params') {
          const run = await store.getRun(node.runId);
          return Object.entries(run?.params ?? {}).sort(([a], [b]) => a.localeCompare(b))
            .map(([key, value]) => ({ kind: 'param', folder: node.folder, runId: node.runId, key, value: typeof value === 'string' ? value : JSON.stringify(value) }));
        }
        return (await store.getArtifacts(node.runId)).map(a => ({ kind: 'artifact', folder: node.folder, runId: node.runId, path: a.path, artifactKind: a.kind, size: a.size, sha256: a.sha256 }));
      }
      default:
        return [];
    }
  }

  private async summary(store: RemoteStore, runId: string): Promise<RunSummary | undefined> {
    const run = await store.getRun(runId);
    if (!run) return undefined;
    const { configSnapshot: _c, environment: _e, ...rest } = run;
    return { ...rest, finalMetrics: await store.finalMetrics(runId) };
  }

  /** Experiments of every folder: those with runs in the store, and configs that have none yet. */
  private async roots(): Promise<ExperimentNode[]> {
    const out: ExperimentNode[] = [];
    for (const f of vscode.workspace.workspaceFolders ?? []) {
      const seen = new Set<string>();
      const store = await this.stores.ifExists(f);
      for (const e of (await store?.listExperiments()) ?? []) {
        seen.add(e.id);
        this.experimentRows.set(`${f.uri.toString()}|${e.id}`, e);
        out.push({ kind: 'experiment', folder: f.uri.toString(), experimentId: e.id, configPath: e.configPath ?? undefined });
      }
      for (const c of this.validation.configs) {
        const id = c.experimentId?.id;
        if (!id || seen.has(id) || vscode.workspace.getWorkspaceFolder(c.uri)?.uri.toString() !== f.uri.toString()) continue;
        seen.add(id);
        out.push({ kind: 'experiment', folder: f.uri.toString(), experimentId: id, configPath: vscode.workspace.asRelativePath(c.uri, false) });
      }
    }
    void vscode.commands.executeCommand('setContext', ContextKeys.hasExperiments, out.length > 0);
    return out.sort((a, b) => (a as { experimentId: string }).experimentId.localeCompare((b as { experimentId: string }).experimentId));
  }

  async getTreeItem(node: ExperimentNode): Promise<vscode.TreeItem> {
    const store = await this.storeOf(node.folder);
    switch (node.kind) {
      case 'experiment': {
        const summary = this.experimentRows.get(`${node.folder}|${node.experimentId}`);
        const e = summary;
        const count = summary?.runCount ?? 0;
        const item = new vscode.TreeItem(node.experimentId, count ? vscode.TreeItemCollapsibleState.Collapsed : vscode.TreeItemCollapsibleState.None);
        item.id = `exp:${node.folder}:${node.experimentId}`;
        const latest = count && store ? (await store.listRuns({ experimentId: node.experimentId, limit: 1 }))[0] : undefined;
        const km = latest ? keyMetric(latest.finalMetrics, this.configuredKeyMetric()) : undefined;
        const verdict = e?.hypothesisStatus && e.hypothesisStatus !== 'open' ? hypothesisLabel(e.hypothesisStatus) : undefined;
        item.description = [
          summary?.runCount ? vscode.l10n.t('{0} run(s)', summary.runCount) : vscode.l10n.t('no runs yet'),
          km ? `${km[0]} ${formatMetric(km[1])}` : undefined,
          verdict,
        ].filter(Boolean).join(' · ');
        const md = new vscode.MarkdownString();
        md.appendMarkdown(`**${escapeMd(node.experimentId)}**${e?.name ? ` — ${escapeMd(e.name)}` : ''}\n\n`);
        if (e?.hypothesis) md.appendMarkdown(`${escapeMd(vscode.l10n.t('Hypothesis: {0}', e.hypothesis))}\n\n`);
        md.appendMarkdown(`${escapeMd(vscode.l10n.t('Status: {0}', hypothesisLabel(e?.hypothesisStatus ?? 'open')))}${e?.hypothesisDecidedBy ? ` — ${escapeMd(e.hypothesisDecidedBy)}` : ''}\n\n`);
        if (node.configPath) md.appendMarkdown(escapeMd(node.configPath));
        item.tooltip = md;
        item.iconPath = new vscode.ThemeIcon('beaker');
        item.contextValue = node.configPath ? 'edd.experiment.config' : 'edd.experiment';
        return item;
      }
      case 'run': {
        const s = this.runRows.get(node.runId) ?? (store ? await this.summary(store, node.runId) : undefined);
        const started = s?.startedAt ?? s?.createdAt;
        const label = started ? new Date(started).toLocaleString() : node.runId.slice(0, 8);
        const item = new vscode.TreeItem(label, vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `run:${node.folder}:${node.runId}`;
        const status = s?.status ?? 'queued';
        const km = s ? keyMetric(s.finalMetrics, this.configuredKeyMetric()) : undefined;
        const origin = s ? runOrigin(s) : 'local';
        item.description = [
          km ? `${km[0]} ${formatMetric(km[1])}` : undefined,
          duration(s?.durationMs ?? null),
          status !== 'finished' ? runStatusLabel(status) : undefined,
          origin === 'remote' ? vscode.l10n.t('remote') : origin === 'imported' ? vscode.l10n.t('imported') : undefined,
        ].filter(Boolean).join(' · ');
        item.iconPath = statusIcon[status];
        const live = this.runs.isRunning(node.runId);
        item.contextValue = `edd.run.${live ? 'running' : status}`;
        return item;
      }
      case 'sweep': {
        const p = sweepProgress(store ? await store.listRuns({ experimentId: node.experimentId, tags: { [SWEEP_TAGS.id]: node.sweepId } }) : []);
        const item = new vscode.TreeItem(vscode.l10n.t('Sweep {0}', node.sweepId), vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `sweep:${node.folder}:${node.experimentId}:${node.sweepId}`;
        item.description = p.total === null
          ? vscode.l10n.t('{0} done · {1} running · {2} failed', p.done, p.running, p.failed)
          : vscode.l10n.t('{0} done · {1} running · {2} failed of {3}', p.done, p.running, p.failed, p.total);
        item.iconPath = p.running ? new vscode.ThemeIcon('sync~spin', new vscode.ThemeColor('charts.blue')) : new vscode.ThemeIcon('run-all');
        item.contextValue = 'edd.sweep';
        return item;
      }
      case 'more': {
        const item = new vscode.TreeItem(vscode.l10n.t('Show more runs…'), vscode.TreeItemCollapsibleState.None);
        item.command = { command: Commands.showMoreRuns, title: vscode.l10n.t('Show more runs…'), arguments: [node] };
        item.iconPath = new vscode.ThemeIcon('ellipsis');
        return item;
      }
      case 'group': {
        const labels = { metrics: vscode.l10n.t('Metrics'), params: vscode.l10n.t('Params'), artifacts: vscode.l10n.t('Artifacts') };
        const icons = { metrics: 'graph-line', params: 'settings', artifacts: 'package' };
        const item = new vscode.TreeItem(labels[node.group], node.group === 'metrics' ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.Collapsed);
        item.id = `grp:${node.folder}:${node.runId}:${node.group}`;
        item.iconPath = new vscode.ThemeIcon(icons[node.group]);
        return item;
      }
      case 'metric': {
        const item = new vscode.TreeItem(node.key, vscode.TreeItemCollapsibleState.None);
        item.description = `${formatMetric(node.value)} @ ${vscode.l10n.t('step {0}', node.step)}`;
        item.iconPath = new vscode.ThemeIcon('symbol-number');
        item.contextValue = 'edd.metric';
        return item;
      }
      case 'param': {
        const item = new vscode.TreeItem(node.key, vscode.TreeItemCollapsibleState.None);
        item.description = node.value;
        item.tooltip = `${node.key} = ${node.value}`;
        item.iconPath = new vscode.ThemeIcon('symbol-parameter');
        return item;
      }
      case 'artifact': {
        const item = new vscode.TreeItem(path.basename(node.path), vscode.TreeItemCollapsibleState.None);
        item.description = [node.artifactKind, node.size === null ? undefined : formatBytes(node.size)].filter(Boolean).join(' · ');
        item.tooltip = `${node.path}\nsha256 ${node.sha256 ?? '?'}`;
        item.resourceUri = this.artifactUri(node);
        item.iconPath = vscode.ThemeIcon.File;
        item.contextValue = 'edd.artifact';
        item.command = { command: Commands.revealArtifact, title: vscode.l10n.t('Reveal Artifact'), arguments: [node] };
        return item;
      }
    }
  }

  /** Tooltips of runs need the full record (params, environment): built only when the user hovers. */
  async resolveTreeItem(item: vscode.TreeItem, node: ExperimentNode): Promise<vscode.TreeItem> {
    if (node.kind !== 'run') return item;
    const store = await this.storeOf(node.folder);
    const run = await store?.getRun(node.runId);
    if (!run) return item;
    const env = (run.environment ?? {}) as { node?: string; os?: { platform?: string; release?: string }; python?: { version?: string; packages?: Record<string, string> } };
    const md = new vscode.MarkdownString();
    md.appendMarkdown(`**${vscode.l10n.t('Run')}** \`${run.id}\` — ${runStatusLabel(run.status)}\n\n`);
    const rows: Array<[string, string]> = [
      [vscode.l10n.t('Started'), run.startedAt ? new Date(run.startedAt).toLocaleString() : '—'],
      [vscode.l10n.t('Duration'), duration(run.durationMs) || '—'],
      [vscode.l10n.t('Exit code'), run.exitCode === null ? '—' : String(run.exitCode)],
      [vscode.l10n.t('Peak memory'), run.peakMemoryBytes === null ? '—' : formatBytes(run.peakMemoryBytes)],
      [vscode.l10n.t('Seed'), run.seed === null ? '—' : String(run.seed)],
      [vscode.l10n.t('Git commit'), run.gitCommit ? `${run.gitCommit.slice(0, 10)}${run.gitDirty ? ` (${vscode.l10n.t('uncommitted changes')})` : ''}` : '—'],
      [vscode.l10n.t('Data fingerprint'), run.datasetFingerprint ? run.datasetFingerprint.slice(0, 16) : '—'],
      ['Node.js', env.node ?? '—'],
      ['Python', env.python?.version ?? '—'],
      [vscode.l10n.t('OS'), env.os ? `${env.os.platform} ${env.os.release}` : '—'],
    ];
    for (const [k, v] of Object.entries(run.params)) rows.push([k, typeof v === 'string' ? v : JSON.stringify(v)]);
    md.appendMarkdown(`| | |\n|---|---|\n${rows.map(([k, v]) => `| ${escapeMd(k)} | ${escapeMd(v)} |`).join('\n')}\n`);
    if (run.error) md.appendMarkdown(`\n\n${escapeMd(run.error)}`);
    item.tooltip = md;
    return item;
  }

  artifactUri(node: Extract<ExperimentNode, { kind: 'artifact' }>): vscode.Uri {
    const folder = this.folderOf(node.folder);
    return path.isAbsolute(node.path) || !folder ? vscode.Uri.file(node.path) : vscode.Uri.joinPath(folder.uri, node.path);
  }

  private configuredKeyMetric(): string | undefined {
    return vscode.workspace.getConfiguration(Settings.section).get<string>(Settings.keyMetric) || undefined;
  }
}

/** A run status in the user's language. */
export function runStatusLabel(status: RunStatus): string {
  switch (status) {
    case 'queued': return vscode.l10n.t('queued');
    case 'running': return vscode.l10n.t('running');
    case 'finished': return vscode.l10n.t('finished');
    case 'failed': return vscode.l10n.t('failed');
    case 'cancelled': return vscode.l10n.t('cancelled');
    case 'interrupted': return vscode.l10n.t('interrupted');
  }
}

/** The hypothesis status in the user's language. */
export function hypothesisLabel(status: string): string {
  switch (status) {
    case 'supported': return vscode.l10n.t('hypothesis supported');
    case 'refuted': return vscode.l10n.t('hypothesis refuted');
    case 'inconclusive': return vscode.l10n.t('hypothesis inconclusive');
    default: return vscode.l10n.t('hypothesis open');
  }
}

/** User strings go into Markdown tooltips as text: escape every Markdown metacharacter. */
export function escapeMd(s: string): string {
  return s.replace(/[\\`*_{}[\]()#+\-.!|<>~]/g, '\\$&').replace(/\r?\n/g, ' ');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  if (n < 1024 ** 3) return `${(n / 1024 / 1024).toFixed(1)} MB`;
  return `${(n / 1024 ** 3).toFixed(2)} GB`;
}
