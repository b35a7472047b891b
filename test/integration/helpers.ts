import * as assert from 'assert';
import * as vscode from 'vscode';
import type { EddApi } from '../../src/extension/extension';
import type { QuestionSteps } from '../../src/extension/questionSteps';
import type { ExperimentNode } from '../../src/extension/runs/experimentsTree';

export const EXTENSION_ID = 'edd.edd';

export async function activateEdd(): Promise<EddApi> {
  const ext = vscode.extensions.getExtension<EddApi>(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not installed in the host`);
  return ext.activate();
}

export function workspaceUri(relative: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test workspace folder is not open');
  return vscode.Uri.joinPath(folder.uri, relative);
}

// A quick input accepted before its items are active resolves to nothing (on a busy CI machine 300 ms was once not
// enough: a promotion's stage pick came back empty). There is no event for "rendered" to wait on instead.
const RENDER_MS = 1000;

/** Resolves when a command asks `step` (it may already be asking), once the quick input had time to render. */
export function asked<Step extends string>(steps: QuestionSteps<Step>, step: Step, timeoutMs = 20000): Promise<void> {
  return new Promise((resolve, reject) => {
    if (steps.current === step) return void setTimeout(resolve, RENDER_MS);
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`the command never asked "${step}" (last: ${steps.current})`));
    }, timeoutMs);
    const sub = steps.onDidChange(s => {
      if (s !== step) return;
      clearTimeout(timer);
      sub.dispose();
      setTimeout(resolve, RENDER_MS);
    });
  });
}

const ours = (d: vscode.Diagnostic) => d.source === 'edd';

/**
 * Resolve with the EDD diagnostics of `uri` once `accept` holds for them: checks now, then on every
 * onDidChangeDiagnostics for that uri, failing after `timeoutMs` with what was last seen.
 */
export function diagnosticsWhen(uri: vscode.Uri, accept: (d: vscode.Diagnostic[]) => boolean, timeoutMs = 20000): Promise<vscode.Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const current = vscode.languages.getDiagnostics(uri).filter(ours);
      if (accept(current)) {
        cleanup();
        resolve(current);
        return true;
      }
      return false;
    };
    const sub = vscode.languages.onDidChangeDiagnostics(e => {
      if (e.uris.some(u => u.toString() === uri.toString())) check();
    });
    const timer = setTimeout(() => {
      cleanup();
      const seen = vscode.languages.getDiagnostics(uri).filter(ours).map(d => `${d.code}@${d.range.start.line}:${d.range.start.character}`);
      reject(new Error(`diagnostics of ${uri.path} did not reach the expected state in ${timeoutMs} ms; last seen: [${seen.join(', ')}]`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      sub.dispose();
    };
    check();
  });
}

export const codes = (ds: vscode.Diagnostic[]) => ds.map(d => String(typeof d.code === 'object' ? d.code.value : d.code)).sort();
export const hasCode = (code: string) => (ds: vscode.Diagnostic[]) => codes(ds).includes(code);

/** Range of the `n`-th occurrence of `needle` in the document. */
export function rangeOf(doc: vscode.TextDocument, needle: string, n = 0): vscode.Range {
  let at = -1;
  for (let i = 0; i <= n; i++) {
    at = doc.getText().indexOf(needle, at + 1);
    assert.ok(at >= 0, `"${needle}" not found in ${doc.uri.path}`);
  }
  return new vscode.Range(doc.positionAt(at), doc.positionAt(at + needle.length));
}

export function byCode(ds: vscode.Diagnostic[], code: string): vscode.Diagnostic {
  const d = ds.find(x => String(typeof x.code === 'object' ? x.code.value : x.code) === code);
  assert.ok(d, `no ${code} diagnostic among [${codes(ds).join(', ')}]`);
  return d;
}

export function sameRange(actual: vscode.Range, expected: vscode.Range, what: string): void {
  const fmt = (r: vscode.Range) => `${r.start.line}:${r.start.character}-${r.end.line}:${r.end.character}`;
  assert.strictEqual(fmt(actual), fmt(expected), `range of ${what}`);
}

/** Wait until `check` returns a value, re-checking whenever the store or the tree changes (no fixed sleeps). */
export function when<T>(api: EddApi, check: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs = 30000): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    const subs: vscode.Disposable[] = [];
    const finish = (v?: T, e?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      subs.forEach(s => s.dispose());
      if (e) reject(e);
      else resolve(v as T);
    };
    const attempt = async () => {
      try {
        const v = await check();
        if (v !== undefined && v !== false) finish(v);
      } catch (e) {
        finish(undefined, e as Error);
      }
    };
    subs.push(api.stores.onDidChange(() => void attempt()), api.experiments.onDidChangeTreeData(() => void attempt()), api.runs.onDidChangeActive(() => void attempt()));
    const timer = setTimeout(() => finish(undefined, new Error(`timed out waiting for ${what}`)), timeoutMs);
    void attempt();
  });
}

export async function experimentNode(api: EddApi, id: string): Promise<ExperimentNode | undefined> {
  return (await api.experiments.getChildren()).find(n => n.kind === 'experiment' && n.experimentId === id);
}
