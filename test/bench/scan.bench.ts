/**
 * Benchmark: the editor's workspace scan, 2,000 experiment configs beside 3,000 other YAML files (issue 11: ≤ 3 s of
 * extension-host CPU).
 *
 *   npm run bench:scan
 *
 * The scan itself (ValidationService.scanFiles) needs VS Code; this runs the same host-side steps in plain node on the
 * same inputs: read each file once, tell its kind from its path and first lines (configKindOf), send EDD's files to
 * the real validation worker (dist/validationWorker.js) a few at a time, store each answer (its LineIndex), then the
 * duplicate-id pass once. What is measured is the CPU time of this process's main thread (Linux counts it per
 * thread), i.e. what the extension host's thread would spend; the worker's parsing is off that thread. For reference
 * it also runs the parsing on the main thread (what the scan cost when it validated there).
 *
 * Prints; never asserts on timings. Exits non-zero only if something is broken.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { performance } from 'perf_hooks';
import { duplicateIdProblems, LineIndex, type IdEntry } from '../../src/core/config';
import { configKindOf } from '../../src/extension/configKinds';
import { validateAny, ValidationWorkerClient, type ValidationAnswer } from '../../src/extension/validationWorkerClient';

const CONFIGS = 2000;
const OTHERS = 3000;
const TARGET_CPU_MS = 3000;
const root = path.resolve(__dirname, '../../..');

function mainThreadCpuMs(): number {
  const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
}

function config(i: number): string {
  return `experiment:
  id: "exp_20250101_${String(i).padStart(4, '0')}"
  name: "sweep_${i}"
  objective: "Predict the species of a penguin with macro F1 ≥ 0.95"
  hypothesis: "A wider hidden layer (${64 + (i % 8) * 16} units) improves macro F1"
  random_seed: ${i}
  parameters:
    model_type: "mlp"
    learning_rate: ${(0.001 * (1 + (i % 10))).toFixed(3)}
    batch_size: 32
    epochs: 200
  data:
    dataset_version: "v1.0.0"
    train_size: 233
    val_size: 50
    test_size: 50
  run:
    command: [node, train.js]
    timeout: 300
`;
}

/** A Kubernetes-style manifest: YAML EDD must not parse. */
function other(i: number): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: service-${i}
  labels: { app: service-${i}, tier: backend }
spec:
  replicas: ${1 + (i % 3)}
  template:
    spec:
      containers:
        - name: app
          image: registry.example.com/service-${i}:1.${i % 20}.0
          ports: [{ containerPort: 8080 }]
          env:
${Array.from({ length: 20 }, (_, k) => `            - { name: VAR_${k}, value: "${i * k}" }`).join('\n')}
`;
}

function workspace(): { dir: string; files: string[]; inGlob: Set<string> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'edd-scan-bench-'));
  const files: string[] = [];
  const inGlob = new Set<string>();
  for (let i = 0; i < CONFIGS; i++) {
    const f = path.join(dir, 'experiments', `group_${i % 40}`, `exp_${i}.yaml`);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, config(i));
    files.push(f);
    inGlob.add(f);
  }
  for (let i = 0; i < OTHERS; i++) {
    const f = path.join(dir, 'deploy', `team_${i % 60}`, `service_${i}.yaml`);
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, other(i));
    files.push(f);
  }
  return { dir, files, inGlob };
}

interface State { text: string; lines: LineIndex; answer: ValidationAnswer }

async function scan(files: string[], inGlob: Set<string>, validate: (text: string) => Promise<ValidationAnswer | undefined>): Promise<Map<string, State>> {
  const states = new Map<string, State>();
  const queue = [...files];
  const lanes = Array.from({ length: 8 }, async () => {
    for (let f = queue.shift(); f; f = queue.shift()) {
      const text = await fs.promises.readFile(f, 'utf8');
      const kind = configKindOf(f, text.slice(0, 2048), inGlob.has(f));
      if (!kind) continue;
      const answer = await validate(text);
      if (!answer) throw new Error(`no answer for ${f}`);
      states.set(f, { text, lines: new LineIndex(text), answer });
    }
  });
  await Promise.all(lanes);
  const entries: IdEntry[] = [];
  for (const [f, s] of states) {
    if (s.answer.experimentId) entries.push({ ...s.answer.experimentId, file: f, line: s.lines.position(s.answer.experimentId.offset).line + 1 });
  }
  duplicateIdProblems(entries);
  return states;
}

async function main(): Promise<void> {
  const { dir, files, inGlob } = workspace();
  try {
    console.log(`workspace scan: ${CONFIGS} experiment configs + ${OTHERS} other YAML files (main-thread CPU, ${os.cpus().length} cores, load ${os.loadavg()[0].toFixed(1)})`);
    for (let rep = 1; rep <= 2; rep++) {
      const client = new ValidationWorkerClient(path.join(root, 'dist/validationWorker.js'));
      const messages = { hello: 'hello' };
      let cpu0 = mainThreadCpuMs();
      let t0 = performance.now();
      const states = await scan(files, inGlob, text => client.validate({ kind: 'experiment', text, options: {}, messages }));
      const workerCpu = mainThreadCpuMs() - cpu0;
      const workerWall = performance.now() - t0;
      await client.dispose();
      if (states.size !== CONFIGS) throw new Error(`found ${states.size} configs, expected ${CONFIGS}`);
      const errors = [...states.values()].filter(s => s.answer.problems.some(p => p.severity === 'error')).length;
      if (errors) throw new Error(`${errors} generated configs have errors`);
      cpu0 = mainThreadCpuMs();
      t0 = performance.now();
      await scan(files, inGlob, async text => validateAny({ kind: 'experiment', text, options: {} }));
      const hostCpu = mainThreadCpuMs() - cpu0;
      const hostWall = performance.now() - t0;
      console.log(`  run ${rep}: parsing in the worker: ${workerCpu} ms main-thread CPU (${workerWall.toFixed(0)} ms wall) — target ≤ ${TARGET_CPU_MS} ms ${workerCpu <= TARGET_CPU_MS ? 'met' : 'MISSED'}`);
      console.log(`         parsing on the main thread (for reference): ${hostCpu} ms CPU (${hostWall.toFixed(0)} ms wall)`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch(e => {
  console.error(e);
  process.exit(1);
});
