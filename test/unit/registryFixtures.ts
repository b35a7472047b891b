// Shared by the registry tests: the CLI as a real process, a workspace whose store has runs with real ONNX models,
// and editing a store file the way someone bypassing EDD would (sql.js on the file, triggers dropped).
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import initSqlJs from 'sql.js';
import { onnx } from 'onnx-proto';
import { RunStore } from '../../src/core/store';

export const root = path.resolve(__dirname, '../../..');
export const FIXTURE_MODEL = path.join(root, 'test/fixtures/workspace/models/penguins.onnx');
export const CLI = path.join(root, 'dist/cli.js');

export interface CliResult { code: number; stdout: string; stderr: string }

/** `node dist/cli.js …` in `cwd`, as a user would run it (EDD_USER set so the actor does not depend on git). */
export function edd(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise(resolve => {
    execFile(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, EDD_USER: 'Tester <t@example.com>', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
    });
  });
}

/** The fixture model with its weights negated: a real ONNX model that gets most rows wrong. */
export function flippedModel(dest: string): void {
  const model = onnx.ModelProto.decode(fs.readFileSync(FIXTURE_MODEL));
  for (const init of model.graph!.initializer!) {
    if (init.rawData?.length) {
      const raw = Buffer.from(init.rawData);
      for (let i = 0; i + 4 <= raw.length; i += 4) raw.writeFloatLE(-raw.readFloatLE(i), i);
      init.rawData = raw;
      break;
    }
  }
  fs.writeFileSync(dest, onnx.ModelProto.encode(model).finish());
}

/**
 * A temp workspace whose store has one finished run per model file given (kind `model` artifacts inside the
 * workspace). Returns the run ids in the same order.
 */
export async function workspaceWithRuns(models: string[]): Promise<{ dir: string; file: string; runs: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-registry-'));
  const file = RunStore.defaultPath(dir);
  const store = await RunStore.open(file, { autoSave: false });
  const runs: string[] = [];
  for (const [i, model] of models.entries()) {
    const r = store.createRun({ experimentId: `exp-${i}`, status: 'finished' });
    store.addMetrics([{ runId: r.id, key: 'val_accuracy', step: 1, value: 0.9 }]);
    fs.mkdirSync(path.join(dir, 'runs', r.id), { recursive: true });
    fs.copyFileSync(model, path.join(dir, 'runs', r.id, 'model.onnx'));
    store.addArtifact({ runId: r.id, path: `runs/${r.id}/model.onnx`, kind: 'model', sha256: null, size: null });
    runs.push(r.id);
  }
  await store.close();
  return { dir, file, runs };
}

/**
 * Edits the store file directly with sql.js, as someone bypassing EDD would: the append-only triggers are dropped,
 * `sql` runs, the triggers are re-created exactly as they were, and the file is written back.
 */
/** Makes the store's index file hold everything (the saves since the last checkpoint are in its operation log). */
export async function checkpoint(file: string): Promise<void> {
  const store = await RunStore.open(file, { autoSave: false });
  await store.checkpoint();
  await store.close();
}

export async function tamper(file: string, sql: string): Promise<void> {
  await checkpoint(file);
  const SQL = await initSqlJs();
  const db = new SQL.Database(fs.readFileSync(file));
  try {
    const triggers = db.exec("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")[0].values.map(r => String(r[0]));
    db.exec('DROP TRIGGER audit_log_append_only_update; DROP TRIGGER audit_log_append_only_delete');
    db.exec(sql);
    for (const t of triggers) if (!/audit_log_chained/.test(t)) db.exec(t);
    fs.writeFileSync(file, db.export());
  } finally {
    db.close();
  }
}
