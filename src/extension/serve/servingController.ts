import { spawn, type ChildProcess } from 'child_process';
import * as vscode from 'vscode';
import { resolveActor } from '../../core/registry';
import { isFinal, type CanaryStatus } from '../../core/serve/canary';
import {
  CanaryPlanError, canaryHeadline, canaryStartPlan, canaryStatusLines, readCanaryStatus, requestCanaryStart, requestCanaryStop, waitForCanaryStatus,
} from '../../core/serve/canaryControl';
import { loadServiceSpec, ServiceSpecError } from '../../core/serve/spec';
import { Disposable } from '../dispose';
import { QuestionSteps } from '../questionSteps';
import { Commands, Settings } from '../ids';
import type { ModelNode } from '../registry/modelsTree';
import type { StoreService } from '../runs/storeService';

const SPEC_GLOB = '**/*.service.{yaml,yml}';
/** How long a server may take from spawn to a ready `/v2/health/ready` (loading the store and the model, warm-up). */
const READY_DEADLINE_MS = 60_000;
/** How long a server may take to stop cleanly after SIGTERM (answering in-flight requests) before it is killed. */
const STOP_DEADLINE_MS = 5_000;
/** How often the status bar asks the served servers what they serve. */
const POLL_MS = 2_000;
/** How many characters of a server's stderr an error message quotes. */
const STDERR_TAIL = 1_500;

/** One `edd serve` this window started. */
export interface ServedService {
  readonly spec: vscode.Uri;
  readonly folder: vscode.WorkspaceFolder;
  readonly model: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** The version `/v2/models/{name}` last answered (the server follows the registry, so it can change). */
  version?: number;
  /** The canary state file as last read (a running, promoting or ended canary). */
  canary?: CanaryStatus;
}

/** The defaults of `edd canary start` (canaryPlan's), offered first in the quick picks. */
const PERCENTS = [10, 5, 20, 25, 50];
const STEPS = [10, 5, 20, 25, 50];
const INTERVALS = ['60s', '30s', '5m', '15m', '1h'];

/** Which question a serving command is asking (integration tests wait for it before answering). */
export type ServingStep = 'spec' | 'served' | 'model' | 'version' | 'mode' | 'percent' | 'step' | 'interval' | 'action';

type VersionNode = Extract<ModelNode, { kind: 'version' }>;

class ServingError extends Error {}

/**
 * Serving from the editor: "Start Serving" runs `edd serve <spec>` (the bundled CLI, through the extension host's Node)
 * on 127.0.0.1 and waits until it is ready; "Stop Serving" stops it (SIGTERM, then a kill after a deadline; also when
 * the window closes); "Start Canary…", "Canary Status" and "Stop Canary" go through the same request and state files as
 * `edd canary`. One server per model and workspace folder: a second would share the first's canary files and log.
 * The status bar shows what is served: `$(server) penguins v3 · canary v4 25%`. Everything is refused in Restricted
 * Mode: serving runs the workspace's models and reads its data.
 */
export class ServingController extends Disposable {
  private readonly output = this.track(vscode.window.createOutputChannel(vscode.l10n.t('EDD Serving')));
  private readonly canaryOutput = this.track(vscode.window.createOutputChannel(vscode.l10n.t('EDD Canary')));
  private readonly item = this.track(vscode.window.createStatusBarItem('edd.serving', vscode.StatusBarAlignment.Left, 9));
  private readonly served = new Map<string, ServedService>();
  private readonly starting = new Map<string, ChildProcess>();
  /** Models whose Start Serving is under way (from the check to the server's readiness). */
  private readonly pending = new Set<string>();
  /** Servers being stopped on purpose (their exit is no surprise). */
  private readonly stopping = new Set<ChildProcess>();
  private poll: NodeJS.Timeout | undefined;
  /** Servers spawned by this window so far (tests check that a refusal spawned none). */
  spawned = 0;
  private readonly changed = this.track(new vscode.EventEmitter<void>());
  /** Fires when what is served or its status bar text changed. */
  readonly onDidChange = this.changed.event;
  /** The question a command is asking (tests answer it). */
  readonly steps = this.track(new QuestionSteps<ServingStep>());

  constructor(private readonly extensionUri: vscode.Uri, private readonly stores: StoreService) {
    super();
    this.item.name = vscode.l10n.t('EDD serving');
    this.item.command = Commands.servingActions;
    const reg = (id: string, f: (arg?: unknown) => unknown) => this.track(vscode.commands.registerCommand(id, f));
    reg(Commands.startServing, arg => this.trusted(() => this.start(arg)));
    reg(Commands.stopServing, arg => this.trusted(() => this.stop(arg)));
    reg(Commands.startCanary, arg => this.trusted(() => this.startCanary(arg)));
    reg(Commands.canaryStatus, arg => this.trusted(() => this.canaryStatus(arg)));
    reg(Commands.stopCanary, arg => this.trusted(() => this.stopCanary(arg)));
    reg(Commands.servingActions, () => this.trusted(() => this.actions()));
    // The window closing: stop every server (deactivate awaits stopAll; this is the last resort if it did not run).
    this.track({ dispose: () => { for (const s of this.served.values()) this.kill(s.child); for (const c of this.starting.values()) this.kill(c); } });
    this.track({ dispose: () => this.stopPolling() });
    this.render();
  }

  /** What this window serves now. */
  get services(): readonly ServedService[] {
    return [...this.served.values()];
  }

  /** The status bar item's text ('' when hidden): tests cannot read the status bar itself. */
  get statusText(): string {
    return this.served.size ? this.item.text : '';
  }

  get statusTooltip(): string {
    const tip = this.item.tooltip;
    return this.served.size ? (typeof tip === 'string' ? tip : tip?.value ?? '') : '';
  }

  /** Workspace Trust first; then known failures become messages, anything else a bug report line. */
  private async trusted<T>(f: () => Promise<T>): Promise<T | undefined> {
    if (!vscode.workspace.isTrusted) {
      const manage = vscode.l10n.t('Manage Workspace Trust');
      void vscode.window.showErrorMessage(vscode.l10n.t('EDD does not serve models or run canaries in an untrusted workspace: serving runs the workspace\'s models and reads its data. Trust the workspace to serve.'), manage)
        .then(choice => { if (choice === manage) void vscode.commands.executeCommand('workbench.trust.manage'); });
      return undefined;
    }
    try {
      return await f();
    } catch (e) {
      if (e instanceof ServingError || e instanceof ServiceSpecError || e instanceof CanaryPlanError) void vscode.window.showErrorMessage(e.message);
      else void vscode.window.showErrorMessage(vscode.l10n.t('EDD: the serving command failed: {0}', e instanceof Error ? e.message : String(e)));
      return undefined;
    }
  }

  private key(folder: vscode.WorkspaceFolder, model: string): string {
    return `${folder.uri.toString()}|${model}`;
  }

  // ---- Start / Stop Serving ----

  /** "EDD: Start Serving": the spec given (a file or a Models view model), the active editor's, or one picked. */
  async start(arg?: unknown): Promise<ServedService | undefined> {
    const spec = await this.specFor(arg);
    if (!spec) return undefined;
    const folder = vscode.workspace.getWorkspaceFolder(spec);
    if (!folder || folder.uri.scheme !== 'file') throw new ServingError(vscode.l10n.t('{0} is not inside a local workspace folder: EDD serves only specs in an open folder.', spec.fsPath));
    const doc = vscode.workspace.textDocuments.find(d => d.uri.toString() === spec.toString());
    if (doc?.isDirty) await doc.save();
    // Read and check the spec here: a bad one is reported at its lines without starting a process.
    const model = loadServiceSpec(spec.fsPath, folder.uri.fsPath).model;
    const key = this.key(folder, model);
    const running = this.served.get(key);
    if (running) {
      void vscode.window.showInformationMessage(vscode.l10n.t('{0} is already served at {1} (from {2}). Stop Serving it first to serve another spec of the same model.', model, running.url, vscode.workspace.asRelativePath(running.spec)));
      return running;
    }
    if (this.pending.has(key)) throw new ServingError(vscode.l10n.t('A server of {0} is already starting.', model));
    this.pending.add(key);
    const rel = vscode.workspace.asRelativePath(spec, false);
    try {
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('EDD: starting the server of {0}…', rel), cancellable: true },
        async (_progress, token) => {
          const served = await this.spawnServer(spec, folder, model, key, token);
          this.served.set(key, served);
          await this.refresh();
          this.startPolling();
          void vscode.window.showInformationMessage(vscode.l10n.t('Serving {0} version {1} at {2}', model, served.version ?? '?', served.url), vscode.l10n.t('Show Output'))
            .then(choice => { if (choice) this.output.show(true); });
          return served;
        });
    } finally {
      this.pending.delete(key);
    }
  }

  private async spawnServer(spec: vscode.Uri, folder: vscode.WorkspaceFolder, model: string, key: string, token: vscode.CancellationToken): Promise<ServedService> {
    const port = vscode.workspace.getConfiguration(Settings.section, folder.uri).get<number>(Settings.servePort) ?? 0;
    const cli = vscode.Uri.joinPath(this.extensionUri, 'dist', 'cli.js').fsPath;
    const args = [cli, 'serve', spec.fsPath, '--host', '127.0.0.1', '--port', String(port), '--store', this.stores.storeFile(folder), '--stop-with-stdin'];
    const rel = vscode.workspace.asRelativePath(spec, false);
    this.output.appendLine(vscode.l10n.t('[{0}] starting: edd {1}', model, args.slice(1).join(' ')));
    this.spawned++;
    const child = spawn(process.execPath, args, {
      cwd: folder.uri.fsPath, stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1', EDD_LOCALE: vscode.env.language },
    });
    let stdout = '';
    let stderr = '';
    const lines = (prefix: string) => {
      let partial = '';
      return (chunk: Buffer) => {
        const text = partial + chunk.toString('utf8');
        const parts = text.split('\n');
        partial = parts.pop() ?? '';
        for (const l of parts) this.output.appendLine(`[${prefix}] ${l}`);
      };
    };
    const out = lines(model), err = lines(model);
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString('utf8'); out(d); });
    child.stderr!.on('data', (d: Buffer) => { stderr = (stderr + d.toString('utf8')).slice(-64 * 1024); err(d); });
    const tail = () => {
      const s = stderr.split('\n').filter(l => l.trim() && !/edd --help/.test(l)).map(l => l.replace(/^edd: /, '')).join('\n');
      return s.length > STDERR_TAIL ? `…${s.slice(-STDERR_TAIL)}` : s;
    };
    this.starting.set(key, child);
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let spawnError: Error | undefined;
    child.on('error', e => { spawnError = e; });
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      this.output.appendLine(vscode.l10n.t('[{0}] the server exited (code {1}, signal {2})', model, String(code), String(signal)));
      this.onExit(key, child, code, tail());
    });
    try {
      const url = await this.ready(rel, () => stdout, () => exited, () => spawnError, tail, token);
      return { spec, folder, model, url, child };
    } catch (e) {
      await this.terminate(child);
      throw e;
    } finally {
      this.starting.delete(key);
    }
  }

  /** Waits for the URL on stdout, then for `/v2/health/ready` to answer 200; fails if the server exits, is cancelled or the deadline passes. */
  private async ready(rel: string, stdout: () => string, exited: () => { code: number | null; signal: NodeJS.Signals | null } | undefined,
    spawnError: () => Error | undefined, tail: () => string, token: vscode.CancellationToken): Promise<string> {
    const deadline = Date.now() + READY_DEADLINE_MS;
    let url: string | undefined;
    for (;;) {
      const e = spawnError();
      if (e) throw new ServingError(vscode.l10n.t('The server of {0} could not start: {1}', rel, e.message));
      const x = exited();
      if (x) {
        const why = tail();
        throw new ServingError(why
          ? vscode.l10n.t('The server of {0} exited before it was ready (exit code {1}):\n{2}', rel, String(x.code ?? x.signal), why)
          : vscode.l10n.t('The server of {0} exited before it was ready (exit code {1}); its output is in the EDD Serving channel.', rel, String(x.code ?? x.signal)));
      }
      if (token.isCancellationRequested) throw new ServingError(vscode.l10n.t('Start Serving of {0} cancelled.', rel));
      if (Date.now() > deadline) {
        const why = tail();
        throw new ServingError(vscode.l10n.t('The server of {0} was not ready within {1} s; it was stopped.{2}', rel, READY_DEADLINE_MS / 1000, why ? `\n${why}` : ''));
      }
      url ??= /(http:\/\/127\.0\.0\.1:\d+)/.exec(stdout())?.[1];
      if (url) {
        try {
          const res = await fetch(`${url}/v2/health/ready`, { signal: AbortSignal.timeout(2000) });
          if (res.ok) return url;
        } catch {
          // not listening yet
        }
      }
      await new Promise(r => setTimeout(r, 100));
    }
  }

  private onExit(key: string, child: ChildProcess, code: number | null, tail: string): void {
    const s = this.served.get(key);
    if (!s || s.child !== child) return;
    this.served.delete(key);
    this.render();
    if (!this.stopping.delete(child)) {
      void vscode.window.showWarningMessage(vscode.l10n.t('The server of {0} stopped (exit code {1}).{2}', s.model, String(code), tail ? `\n${tail}` : ''), vscode.l10n.t('Show Output'))
        .then(choice => { if (choice) this.output.show(true); });
    }
    if (this.served.size === 0) this.stopPolling();
  }

  /** "EDD: Stop Serving": the model given (a Models view model or a spec), the only one served, or one picked. */
  async stop(arg?: unknown): Promise<boolean> {
    const s = await this.servedFor(arg, vscode.l10n.t('Server to stop'));
    if (!s) return false;
    await this.terminate(s.child);
    this.served.delete(this.key(s.folder, s.model));
    this.render();
    if (this.served.size === 0) this.stopPolling();
    void vscode.window.showInformationMessage(vscode.l10n.t('Stopped serving {0}.', s.model));
    return true;
  }

  /** Stops every server this window started (deactivation). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.served.values()].map(s => this.terminate(s.child)));
    this.served.clear();
    this.stopPolling();
    this.render();
  }

  /** SIGTERM (the server answers what is in flight and flushes its log), then SIGKILL after the deadline. */
  private terminate(child: ChildProcess): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    this.stopping.add(child);
    return new Promise(resolve => {
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
      child.once('exit', () => { clearTimeout(timer); resolve(); });
      child.kill('SIGTERM');
    });
  }

  private kill(child: ChildProcess): void {
    if (child.exitCode !== null || child.signalCode !== null) return;
    this.stopping.add(child);
    child.kill('SIGTERM');
    setTimeout(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); }, STOP_DEADLINE_MS).unref();
  }

  // ---- what to act on ----

  private async specFor(arg: unknown): Promise<vscode.Uri | undefined> {
    if (arg instanceof vscode.Uri) return arg;
    const node = arg as ModelNode | undefined;
    const files = await vscode.workspace.findFiles(SPEC_GLOB, '**/node_modules/**', 500);
    let candidates = files;
    if (node && (node.kind === 'model' || node.kind === 'version')) {
      const folder = vscode.workspace.workspaceFolders?.find(f => f.uri.toString() === node.folder);
      candidates = files.filter(f => {
        if (!folder || vscode.workspace.getWorkspaceFolder(f)?.uri.toString() !== folder.uri.toString()) return false;
        try {
          return loadServiceSpec(f.fsPath, folder.uri.fsPath).model === node.model;
        } catch {
          return false; // a broken spec serves nothing; Start Serving on the file itself reports why
        }
      });
      if (candidates.length === 0) {
        void vscode.window.showInformationMessage(vscode.l10n.t('No valid service spec (*.service.yaml) serves {0}: write one with `model: {0}` (see the README\'s serving section).', node.model));
        return undefined;
      }
    } else {
      const active = vscode.window.activeTextEditor?.document.uri;
      if (active && /\.service\.ya?ml$/.test(active.path)) return active;
    }
    if (candidates.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No service spec (*.service.yaml) in the workspace: write one to serve a registered model (see the README\'s serving section).'));
      return undefined;
    }
    if (candidates.length === 1) return candidates[0];
    const pick = await this.steps.ask('spec', vscode.window.showQuickPick(candidates.map(f => ({ label: vscode.workspace.asRelativePath(f), uri: f })), { placeHolder: vscode.l10n.t('Service spec to serve') }));
    return pick?.uri;
  }

  /** The served service a command means: a node's or spec's model, the only one served, or one picked. */
  private async servedFor(arg: unknown, placeHolder: string): Promise<ServedService | undefined> {
    const all = this.services;
    const node = arg as ModelNode | undefined;
    if (arg instanceof vscode.Uri) {
      const s = all.find(x => x.spec.toString() === arg.toString());
      if (!s) void vscode.window.showInformationMessage(vscode.l10n.t('{0} is not served from this window.', vscode.workspace.asRelativePath(arg)));
      return s;
    }
    if (node && (node.kind === 'model' || node.kind === 'version')) {
      const s = all.find(x => x.folder.uri.toString() === node.folder && x.model === node.model);
      if (!s) void vscode.window.showInformationMessage(vscode.l10n.t('{0} is not served from this window.', node.model));
      return s;
    }
    if (all.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Nothing is served from this window: Start Serving a service spec first.'));
      return undefined;
    }
    if (all.length === 1) return all[0];
    const pick = await this.steps.ask('served', vscode.window.showQuickPick(all.map(s => ({ label: s.model, description: s.url, detail: vscode.workspace.asRelativePath(s.spec), s })), { placeHolder }));
    return pick?.s;
  }

  /** The model (and folder) a canary command means: a node's, the served one, or one picked from the registries. */
  private async modelFor(arg: unknown): Promise<{ folder: vscode.WorkspaceFolder; model: string; version?: number } | undefined> {
    const node = arg as ModelNode | undefined;
    if (node && (node.kind === 'model' || node.kind === 'version')) {
      const folder = vscode.workspace.workspaceFolders?.find(f => f.uri.toString() === node.folder);
      if (!folder) throw new ServingError(vscode.l10n.t('That workspace folder is no longer open.'));
      return { folder, model: node.model, ...(node.kind === 'version' ? { version: (node as VersionNode).version } : {}) };
    }
    if (this.served.size) {
      const s = await this.servedFor(undefined, vscode.l10n.t('Which served model?'));
      return s && { folder: s.folder, model: s.model };
    }
    const picks: Array<vscode.QuickPickItem & { folder: vscode.WorkspaceFolder; model: string }> = [];
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const store = await this.stores.ifExists(folder);
      for (const m of (await store?.listModels()) ?? []) picks.push({ label: m.name, description: folder.name, folder, model: m.name });
    }
    if (picks.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No models are registered yet. Register a finished run\'s model from the Experiments view ("Register Model…").'));
      return undefined;
    }
    const pick = await this.steps.ask('model', vscode.window.showQuickPick(picks, { placeHolder: vscode.l10n.t('Which model?') }));
    return pick && { folder: pick.folder, model: pick.model };
  }

  // ---- canary ----

  /**
   * "EDD: Start Canary…": the version (a Models view version, else picked from the registry), then the first share,
   * the step and the interval (the defaults of `edd canary start` first). Does what `edd canary start` does.
   */
  async startCanary(arg?: unknown): Promise<CanaryStatus | undefined> {
    const target = await this.modelFor(arg);
    if (!target) return undefined;
    const { folder, model } = target;
    let version = target.version;
    if (version === undefined) {
      const store = await this.stores.get(folder);
      const versions = await store.listModelVersions(model);
      if (versions.length === 0) throw new ServingError(vscode.l10n.t('{0} has no registered versions.', model));
      // The production version is what the canary is compared with: the others come first.
      const ordered = [...versions.filter(v => v.stage !== 'production'), ...versions.filter(v => v.stage === 'production')];
      const pick = await this.steps.ask('version', vscode.window.showQuickPick(ordered.map(v => ({
        label: `${model}@${v.version}`, description: [v.stage === 'none' ? '' : v.stage, ...v.aliases.map(a => `@${a}`)].filter(Boolean).join(' '), version: v.version,
      })), { placeHolder: vscode.l10n.t('Version to try as the canary') }));
      if (!pick) return undefined;
      version = pick.version;
    }
    const mode = (await this.steps.ask('mode', vscode.window.showQuickPick([
      { label: vscode.l10n.t('Canary'), description: vscode.l10n.t('default (as edd canary start)'), detail: vscode.l10n.t('Answers a share of live requests; promoted step by step while its guards pass'), mode: 'canary' as const },
      { label: vscode.l10n.t('Shadow'), detail: vscode.l10n.t('Production answers every request; the candidate runs on a copy, is judged by the same guards, and is never promoted'), mode: 'shadow' as const },
    ], { placeHolder: vscode.l10n.t('How the candidate meets traffic') })))?.mode;
    if (!mode) return undefined;
    // A shadow answers no one: no share to start from or to step up.
    let percent: number | undefined;
    let step: number | undefined;
    if (mode === 'canary') {
      percent = await this.pickNumber('percent', PERCENTS, n => vscode.l10n.t('{0}% of requests at first', n), vscode.l10n.t('First share of requests the canary answers'));
      if (percent === undefined) return undefined;
      step = await this.pickNumber('step', STEPS, n => vscode.l10n.t('+{0}% after each interval that passes', n), vscode.l10n.t('Share added after each interval whose guards pass'));
      if (step === undefined) return undefined;
    }
    const interval = await this.pickOne('interval', INTERVALS, s => vscode.l10n.t('guards judged every {0}', s), vscode.l10n.t('How often the guards compare the canary with production'));
    if (interval === undefined) return undefined;
    const plan = canaryStartPlan(version, { percent, step, interval, mode });
    const root = folder.uri.fsPath;
    const actor = await resolveActor(root, vscode.workspace.getConfiguration(Settings.section, folder.uri).get<string>(Settings.registryUser));
    const request = requestCanaryStart(root, { model, plan, actor });
    const s = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('EDD: starting a canary of {0}@{1}…', model, version) },
      () => waitForCanaryStatus(root, model, 10, x => x.id === request.id));
    await this.refresh();
    if (!s) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Canary of {0}@{1} requested. No server of {0} answered yet: it starts when one serves {0} (Start Serving).', model, version));
      return undefined;
    }
    this.writeStatus(s);
    if (s.state === 'refused') void vscode.window.showErrorMessage(`${canaryHeadline(s)}${s.reason ? ` — ${s.reason}` : ''}`);
    else void this.offerDetails(canaryHeadline(s), s);
    return s;
  }

  private async pickNumber(step: ServingStep, values: number[], label: (n: number) => string, placeHolder: string): Promise<number | undefined> {
    const v = await this.pickOne(step, values.map(String), s => label(Number(s)), placeHolder);
    return v === undefined ? undefined : Number(v);
  }

  private async pickOne(step: ServingStep, values: string[], label: (v: string) => string, placeHolder: string): Promise<string | undefined> {
    const items = values.map((v, i) => ({ label: label(v), description: i === 0 ? vscode.l10n.t('default (as edd canary start)') : undefined, value: v }));
    return (await this.steps.ask(step, vscode.window.showQuickPick(items, { placeHolder })))?.value;
  }

  /** "EDD: Canary Status": the headline as a message, the guards' numbers and the decisions in the EDD Canary channel. */
  async canaryStatus(arg?: unknown): Promise<CanaryStatus | undefined> {
    const target = await this.modelFor(arg);
    if (!target) return undefined;
    const s = readCanaryStatus(target.folder.uri.fsPath, target.model);
    if (!s) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No canary of {0} has run here: Start Canary… on a served model.', target.model));
      return undefined;
    }
    this.writeStatus(s);
    const last = s.decisions.at(-1);
    void this.offerDetails(last ? `${canaryHeadline(s)} — ${last.decision}: ${last.reason}` : canaryHeadline(s), s);
    return s;
  }

  /** "EDD: Stop Canary": asks the server to end the canary (share 0, production answers everything). */
  async stopCanary(arg?: unknown): Promise<CanaryStatus | undefined> {
    const target = await this.modelFor(arg);
    if (!target) return undefined;
    const root = target.folder.uri.fsPath;
    const actor = await resolveActor(root, vscode.workspace.getConfiguration(Settings.section, target.folder.uri).get<string>(Settings.registryUser));
    const before = requestCanaryStop(root, { model: target.model, actor, reason: vscode.l10n.t('stopped from the editor') });
    if (!before) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No canary of {0} is running.', target.model));
      return undefined;
    }
    const s = await waitForCanaryStatus(root, target.model, 10, x => x.id !== before.id || isFinal(x.state));
    await this.refresh();
    if (!s) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Stop of the canary of {0} requested; the server has not answered yet.', target.model));
      return undefined;
    }
    this.writeStatus(s);
    void vscode.window.showInformationMessage(canaryHeadline(s));
    return s;
  }

  private writeStatus(s: CanaryStatus): void {
    this.canaryOutput.appendLine(`— ${new Date().toISOString().replace('T', ' ').slice(0, 19)}`);
    for (const line of canaryStatusLines(s)) this.canaryOutput.appendLine(line);
  }

  private async offerDetails(message: string, s: CanaryStatus): Promise<void> {
    const details = vscode.l10n.t('Show Details'), stop = vscode.l10n.t('Stop Canary');
    const buttons = isFinal(s.state) ? [details] : [details, stop];
    const choice = await vscode.window.showInformationMessage(message, ...buttons);
    if (choice === details) this.canaryOutput.show(true);
    else if (choice === stop) void vscode.commands.executeCommand(Commands.stopCanary, { kind: 'model', folder: this.folderOf(s)?.uri.toString(), model: s.model });
  }

  private folderOf(s: CanaryStatus): vscode.WorkspaceFolder | undefined {
    return this.services.find(x => x.model === s.model)?.folder ?? vscode.workspace.workspaceFolders?.[0];
  }

  /** The status bar's click: what can be done with the served models. */
  private async actions(): Promise<void> {
    type Action = vscode.QuickPickItem & { run: () => unknown };
    const items: Action[] = [];
    for (const s of this.services) {
      const node: ModelNode = { kind: 'model', folder: s.folder.uri.toString(), model: s.model };
      const running = s.canary && !isFinal(s.canary.state);
      items.push({ label: vscode.l10n.t('Canary Status'), description: s.model, run: () => this.canaryStatus(node) });
      if (running) items.push({ label: vscode.l10n.t('Stop Canary'), description: s.model, run: () => this.stopCanary(node) });
      else items.push({ label: vscode.l10n.t('Start Canary…'), description: s.model, run: () => this.startCanary(node) });
      items.push({ label: vscode.l10n.t('Open Monitoring'), description: s.model, run: () => vscode.commands.executeCommand(Commands.openMonitoring, s.spec) });
      items.push({ label: vscode.l10n.t('Stop Serving'), description: `${s.model} · ${s.url}`, run: () => this.stop(node) });
    }
    items.push({ label: vscode.l10n.t('Show Server Output'), run: () => this.output.show(true) });
    const pick = await this.steps.ask('action', vscode.window.showQuickPick(items, { placeHolder: vscode.l10n.t('EDD serving') }));
    await pick?.run();
  }

  // ---- the status bar ----

  private startPolling(): void {
    this.poll ??= setInterval(() => void this.refresh(), POLL_MS);
  }

  private stopPolling(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
  }

  /** Asks each server what it serves and reads its canary's state, then redraws the status bar. */
  async refresh(): Promise<void> {
    await Promise.all(this.services.map(async s => {
      try {
        const res = await fetch(`${s.url}/v2/models/${encodeURIComponent(s.model)}`, { signal: AbortSignal.timeout(2000) });
        if (res.ok) {
          const body = await res.json() as { versions?: string[] };
          const v = Number(body.versions?.[0]);
          if (Number.isInteger(v)) s.version = v;
        }
      } catch {
        // a busy or stopping server: keep what it said last
      }
      s.canary = readCanaryStatus(s.folder.uri.fsPath, s.model);
    }));
    this.render();
  }

  private render(): void {
    const all = this.services;
    if (all.length === 0) {
      this.item.hide();
      this.changed.fire();
      return;
    }
    const parts = all.map(s => {
      const head = s.version === undefined ? s.model : vscode.l10n.t('{0} v{1}', s.model, s.version);
      const c = s.canary;
      if (!c || c.state !== 'running' && c.state !== 'promoting') return head;
      return c.mode === 'shadow'
        ? vscode.l10n.t('{0} · shadow v{1}', head, c.version)
        : vscode.l10n.t('{0} · canary v{1} {2}%', head, c.version, c.share);
    });
    this.item.text = `$(server) ${parts.join('  ')}`;
    const tip = new vscode.MarkdownString();
    tip.isTrusted = false;
    tip.supportThemeIcons = false;
    for (const s of all) {
      tip.appendText(vscode.l10n.t('{0}: version {1} at {2} (from {3})', s.model, s.version ?? '?', s.url, vscode.workspace.asRelativePath(s.spec)));
      if (s.canary) tip.appendText(`\n${canaryHeadline(s.canary)}`);
      tip.appendText('\n\n');
    }
    tip.appendText(vscode.l10n.t('Click for Canary Status, Start Canary…, Open Monitoring or Stop Serving.'));
    this.item.tooltip = tip;
    this.item.show();
    this.changed.fire();
  }
}

