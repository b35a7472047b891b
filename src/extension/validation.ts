import * as path from 'path';
import * as vscode from 'vscode';
import {
  LineIndex, dataSchemaSchemaJson, duplicateIdProblems, experimentSchemaJson,
  type ExperimentIdSite, type IdEntry, type Problem, type SchemaNode, type ValidateOptions,
} from '../core/config';
import { promotionSchemaJson } from '../core/checks/policy';
import { serviceSchemaJson } from '../core/serve/spec';
import { configKindOf } from './configKinds';
import { Disposable } from './dispose';
import { ValidationWorkerClient, validateAny, type ConfigKind, type ValidationAnswer } from './validationWorkerClient';
import { DEFAULT_GLOB, DIAGNOSTIC_SOURCE, Settings } from './ids';

/** What EDD knows about one experiment config. */
export interface ConfigState {
  uri: vscode.Uri;
  /** An experiment config, a promotion policy (schemas/promotion.schema.json) or a data schema (schemas/data-schema.schema.json). */
  kind: ConfigKind;
  /** Document version the problems belong to (`undefined` when read from disk). */
  version: number | undefined;
  text: string;
  lines: LineIndex;
  problems: Problem[];
  /** Problems that depend on other files (duplicate ids); recomputed when any config changes. */
  crossFile: Problem[];
  experimentId?: ExperimentIdSite;
}

/** Texts larger than this are validated in a worker thread so the extension host never stalls on them. */
const WORKER_THRESHOLD = 256 * 1024;
/** The worker's heap: far above what the largest file EDD reads needs (1 MiB of YAML takes well under 100 MB). */
const WORKER_HEAP_MB = 512;
const SCAN_LIMIT = 10000;
/** Data schemas by name (the marker comment is found by the workspace scan). */
const DATA_SCHEMA_GLOB = '**/*.data.{yaml,yml}';
/** Service specs by name. */
const SERVICE_GLOB = '**/*.service.{yaml,yml}';

/** The JSON Schema behind the completion and hover of each kind of file. */
export function schemaFor(kind: ConfigState['kind']): SchemaNode {
  switch (kind) {
    case 'experiment': return experimentSchemaJson;
    case 'policy': return promotionSchemaJson;
    case 'data-schema': return dataSchemaSchemaJson;
    case 'service': return serviceSchemaJson;
  }
}

/**
 * Validates experiment configs: open documents as they change (debounced), every config of the workspace at start
 * and when files change on disk; publishes the problems as diagnostics.
 */
export class ValidationService extends Disposable {
  private readonly collection = this.track(vscode.languages.createDiagnosticCollection(DIAGNOSTIC_SOURCE));
  private readonly states = new Map<string, ConfigState>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly changed = this.track(new vscode.EventEmitter<void>());
  private watcher: vscode.FileSystemWatcher | undefined;
  private readonly worker = new ValidationWorkerClient(path.join(__dirname, 'validationWorker.js'), { maxOldGenerationSizeMb: WORKER_HEAP_MB });
  private scanning: Promise<void> | undefined;

  /** Fires after diagnostics changed (any config). */
  readonly onDidChange = this.changed.event;

  constructor() {
    super();
    this.track(vscode.workspace.onDidOpenTextDocument(d => this.schedule(d, 0)));
    this.track(vscode.workspace.onDidChangeTextDocument(e => {
      if (e.contentChanges.length) this.schedule(e.document, this.debounceMs());
    }));
    this.track(vscode.workspace.onDidCloseTextDocument(d => this.onClosed(d)));
    this.track(vscode.workspace.onDidChangeConfiguration(e => {
      if (e.affectsConfiguration(`${Settings.section}.${Settings.glob}`)) {
        this.createWatcher();
        void this.scanWorkspace();
      } else if (e.affectsConfiguration(Settings.section)) {
        void this.revalidateAll();
      }
    }));
    this.track({ dispose: () => { for (const t of this.timers.values()) clearTimeout(t); this.timers.clear(); } });
    this.track({ dispose: () => void this.worker.dispose() });
    this.createWatcher();
    for (const glob of [DATA_SCHEMA_GLOB, SERVICE_GLOB]) {
      const watcher = this.track(vscode.workspace.createFileSystemWatcher(glob));
      watcher.onDidCreate(u => void this.validateFile(u));
      watcher.onDidChange(u => void this.validateFile(u));
      watcher.onDidDelete(u => this.forget(u));
    }
  }

  /** All known configs, sorted by path. */
  get configs(): ConfigState[] {
    return [...this.states.values()].sort((a, b) => a.uri.fsPath.localeCompare(b.uri.fsPath));
  }

  state(uri: vscode.Uri): ConfigState | undefined {
    return this.states.get(uri.toString());
  }

  glob(scope?: vscode.Uri): string {
    return vscode.workspace.getConfiguration(Settings.section, scope).get<string>(Settings.glob) || DEFAULT_GLOB;
  }

  private debounceMs(): number {
    return vscode.workspace.getConfiguration(Settings.section).get<number>(Settings.debounceMs) ?? 250;
  }

  private options(scope?: vscode.Uri): ValidateOptions {
    return {
      f1Tolerance: vscode.workspace.getConfiguration(Settings.section, scope).get<number>(Settings.f1Tolerance),
      root: scope && vscode.workspace.getWorkspaceFolder(scope)?.uri.fsPath,
    };
  }

  /** Is this document an experiment config or a promotion policy (by name, glob or marker comment)? */
  isConfig(doc: vscode.TextDocument): boolean {
    return this.kindOf(doc) !== undefined;
  }

  /**
   * `policy` for `*.policy.yaml`, `policies/*.yaml` or `# edd: policy`; `data-schema` for `*.data.yaml` or
   * `# edd: data-schema`; `experiment` for the glob or `# edd: experiment`.
   */
  kindOf(doc: vscode.TextDocument): ConfigState['kind'] | undefined {
    if (doc.uri.scheme !== 'file' && doc.uri.scheme !== 'untitled' && doc.uri.scheme !== 'vscode-remote') return undefined;
    if (!/\.ya?ml$/i.test(doc.uri.path) && doc.languageId !== 'yaml') return undefined;
    const known = this.states.get(doc.uri.toString());
    if (known) return known.kind;
    const head = doc.getText(new vscode.Range(0, 0, 5, 0));
    return configKindOf(doc.uri.path, head, vscode.languages.match({ pattern: this.glob(doc.uri) }, doc) > 0);
  }

  /** A file the watchers found: they watch only the glob and EDD's own names, so the glob counts as matched. */
  private kindOfFile(uri: vscode.Uri, text: string): ConfigState['kind'] {
    return configKindOf(uri.path, text, true)!;
  }

  private validateAs(kind: ConfigState['kind'], text: string, uri: vscode.Uri): ValidationAnswer {
    return validateAny({ kind, text, options: this.options(uri) });
  }

  private schedule(doc: vscode.TextDocument, delay: number): void {
    if (!this.isConfig(doc)) return;
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      void this.validateDocument(doc);
    }, delay));
  }

  /** Validate an open document now (tests and commands use it; typing goes through the debounce). */
  async validateDocument(doc: vscode.TextDocument): Promise<ConfigState | undefined> {
    const kind = doc.isClosed ? undefined : this.kindOf(doc);
    if (!kind) return undefined;
    return this.validateText(doc.uri, doc.getText(), doc.version, kind);
  }

  /**
   * The state for exactly the text the editor shows now. When typing is still inside the debounce window the
   * document is validated at once (small documents only), so quick fixes never apply to stale offsets.
   */
  freshState(doc: vscode.TextDocument): ConfigState | undefined {
    const s = this.states.get(doc.uri.toString());
    if (s && s.version === doc.version) return s;
    const text = doc.getText();
    if (s && s.text === text) return s;
    const kind = this.kindOf(doc);
    if (!kind || text.length > WORKER_THRESHOLD) return undefined;
    clearTimeout(this.timers.get(doc.uri.toString()));
    this.timers.delete(doc.uri.toString());
    return this.store(doc.uri, kind, text, doc.version, this.validateAs(kind, text, doc.uri));
  }

  private store(uri: vscode.Uri, kind: ConfigState['kind'], text: string, version: number | undefined, result: ValidationAnswer): ConfigState {
    const state: ConfigState = {
      uri, kind, version, text, lines: new LineIndex(text), problems: result.problems, crossFile: [], experimentId: result.experimentId,
    };
    this.states.set(uri.toString(), state);
    if (this.batch) {
      // A scan: duplicate ids, diagnostics and listeners once at the end, not once per file (that was quadratic).
      this.batch.add(uri.toString());
      return state;
    }
    this.refreshCrossFile(new Set([uri.toString()]));
    this.changed.fire();
    return state;
  }

  /** Files stored during a scan, published when it ends. */
  private batch: Set<string> | undefined;

  /**
   * Validate `text` as version `version` of `uri` (undefined: read from disk), once: a version (or a disk text) that
   * was validated already is not parsed again, whoever asks. `force` re-validates (the settings changed).
   */
  private async validateText(uri: vscode.Uri, text: string, version: number | undefined, kind = this.kindOfFile(uri, text), force = false): Promise<ConfigState | undefined> {
    const known = this.states.get(uri.toString());
    if (!force && known && known.kind === kind && known.version === version && (version !== undefined || known.text === text)) return known;
    const result = text.length > WORKER_THRESHOLD || this.batch
      ? await this.worker.validate({ kind, text, options: this.options(uri), messages: vscode.l10n.bundle })
      : this.validateAs(kind, text, uri);
    if (this.isDisposed) return undefined;
    // The worker died (out of memory, or a bug): keep what this file showed before rather than a guess.
    if (!result) return this.states.get(uri.toString());
    const open = vscode.workspace.textDocuments.find(d => d.uri.toString() === uri.toString());
    // A newer version arrived while this one was validated: its own run will publish.
    if (open && version !== undefined && open.version !== version) return this.states.get(uri.toString());
    return this.store(uri, kind, text, version, result);
  }

  /** Recompute duplicate experiment ids across all configs; republish every config whose diagnostics changed. */
  private refreshCrossFile(changed?: ReadonlySet<string>): void {
    const entries: IdEntry[] = [];
    for (const s of this.states.values()) {
      if (!s.experimentId) continue;
      entries.push({ ...s.experimentId, file: vscode.workspace.asRelativePath(s.uri), line: s.lines.position(s.experimentId.offset).line + 1 });
    }
    const dupes = duplicateIdProblems(entries);
    for (const s of this.states.values()) {
      const next = dupes.get(vscode.workspace.asRelativePath(s.uri)) ?? [];
      const same = JSON.stringify(next) === JSON.stringify(s.crossFile);
      s.crossFile = next;
      if (!same || changed?.has(s.uri.toString())) this.publish(s);
    }
  }

  private publish(s: ConfigState): void {
    const diagnostics = [...s.problems, ...s.crossFile].sort((a, b) => a.offset - b.offset).map(p => toDiagnostic(p, s.lines));
    this.collection.set(s.uri, diagnostics);
  }

  private forget(uri: vscode.Uri): void {
    if (!this.states.delete(uri.toString())) return;
    this.collection.delete(uri);
    this.refreshCrossFile();
    this.changed.fire();
  }

  private async onClosed(doc: vscode.TextDocument): Promise<void> {
    const key = doc.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    if (!this.states.has(key)) return;
    // Unsaved edits are gone: what counts now is the file on disk (or nothing, for an untitled document).
    if (doc.uri.scheme === 'untitled') return this.forget(doc.uri);
    await this.validateFile(doc.uri);
  }

  private async validateFile(uri: vscode.Uri): Promise<void> {
    if (vscode.workspace.textDocuments.some(d => d.uri.toString() === uri.toString())) return; // the editor's text wins
    let text: string;
    try {
      text = new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch {
      return this.forget(uri);
    }
    await this.validateText(uri, text, undefined);
  }

  private createWatcher(): void {
    this.watcher?.dispose();
    const w = vscode.workspace.createFileSystemWatcher(this.glob());
    w.onDidCreate(u => void this.validateFile(u));
    w.onDidChange(u => void this.validateFile(u));
    w.onDidDelete(u => this.forget(u));
    this.watcher = w;
    this.track(w);
  }

  /** Find every config of the workspace (glob + marker files) and validate it. */
  scanWorkspace(token?: vscode.CancellationToken): Promise<void> {
    this.scanning ??= this.doScan(token).finally(() => { this.scanning = undefined; });
    return this.scanning;
  }

  /**
   * Linear in the number of files: each YAML file is read once, its kind told from its path and first lines
   * (`configKindOf`), and only EDD's files are parsed, in the validation worker; duplicate ids, diagnostics and the
   * change event come once at the end. Progress shows in the status bar.
   */
  private doScan(token?: vscode.CancellationToken): Promise<void> {
    if (!vscode.workspace.workspaceFolders?.length) return Promise.resolve();
    return Promise.resolve(vscode.window.withProgress(
      { location: vscode.ProgressLocation.Window, title: vscode.l10n.t('EDD: checking configs') },
      progress => this.scanFiles(progress, token),
    ));
  }

  private async scanFiles(progress: vscode.Progress<{ message?: string }>, token?: vscode.CancellationToken): Promise<void> {
    const exclude = '{**/node_modules/**,**/.git/**,**/.edd/**}';
    const inGlob = new Set((await vscode.workspace.findFiles(this.glob(), exclude, SCAN_LIMIT, token)).map(u => u.toString()));
    const files = new Map<string, vscode.Uri>();
    for (const u of await vscode.workspace.findFiles('**/*.{yaml,yml}', exclude, SCAN_LIMIT, token)) files.set(u.toString(), u);
    // The glob may name files that do not end in .yaml (a custom `edd.glob`).
    for (const key of inGlob) if (!files.has(key)) files.set(key, vscode.Uri.parse(key));
    const batch = new Set<string>();
    this.batch = batch;
    try {
      const found = new Set<string>();
      const queue = [...files.values()];
      let done = 0;
      const step = async (u: vscode.Uri): Promise<void> => {
        if (token?.isCancellationRequested) return;
        if (vscode.workspace.textDocuments.some(d => d.uri.toString() === u.toString())) {
          found.add(u.toString()); // the editor's text wins: validated below
          return;
        }
        let text: string;
        try {
          text = new TextDecoder().decode(await vscode.workspace.fs.readFile(u));
        } catch {
          return; // unreadable: not ours to report
        }
        const kind = configKindOf(u.path, text.slice(0, 2048), inGlob.has(u.toString()));
        if (!kind) return;
        found.add(u.toString());
        await this.validateText(u, text, undefined, kind);
      };
      // A few files in flight at once: reads overlap, and the worker always has the next file waiting.
      const lanes = Array.from({ length: 8 }, async () => {
        for (let u = queue.shift(); u; u = queue.shift()) {
          await step(u);
          if (++done % 100 === 0) progress.report({ message: vscode.l10n.t('{0} of {1} files', done, files.size) });
        }
      });
      await Promise.all(lanes);
      if (token?.isCancellationRequested) return;
      for (const [key, s] of [...this.states]) {
        if (!found.has(key) && s.version === undefined) {
          this.states.delete(key);
          this.collection.delete(s.uri);
        }
      }
    } finally {
      this.batch = undefined;
      this.refreshCrossFile(batch);
      this.changed.fire();
    }
    for (const d of vscode.workspace.textDocuments) await this.validateDocument(d);
  }

  private async revalidateAll(): Promise<void> {
    for (const s of this.configs) {
      const doc = vscode.workspace.textDocuments.find(d => d.uri.toString() === s.uri.toString());
      if (doc && !doc.isClosed) await this.validateText(doc.uri, doc.getText(), doc.version, s.kind, true);
      else await this.validateText(s.uri, s.text, undefined, s.kind, true);
    }
  }
}

const severities: Record<Problem['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

export function problemRange(p: Problem, lines: LineIndex): vscode.Range {
  const s = lines.position(p.offset);
  const e = lines.position(p.offset + p.length);
  return new vscode.Range(s.line, s.character, e.line, e.character);
}

function toDiagnostic(p: Problem, lines: LineIndex): vscode.Diagnostic {
  const d = new vscode.Diagnostic(problemRange(p, lines), p.message, severities[p.severity]);
  d.source = DIAGNOSTIC_SOURCE;
  d.code = p.code;
  return d;
}
