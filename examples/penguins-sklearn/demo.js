#!/usr/bin/env node
// The scikit-learn part of `npm start` (after the Node example), from the repository root:
//   1. train the three designs (logistic regression, gradient boosting, random forest) with three seeds each: the
//      committed config (seed 1) and two copies of it with seeds 2 and 3, written to .edd/seeds/penguins-sklearn/;
//      an experiment that already has three finished runs is not trained again (delete .edd/ to start over);
//   2. compare logistic regression with random forest (`edd compare … --markdown`): Welch's t across their seeds,
//      McNemar and a paired bootstrap between runs on the same test penguins, Wilson intervals, cost;
//   3. pick the design with the lower mean validation log loss, and its run with the lowest validation log loss; gate that run's model.onnx with penguins-sklearn.policy.yaml and
//      register it as a version of `penguins-sklearn`.
// Without the Python environment (.venv, made by `npm test` or `node test/harness/setup.js`) it says so in one line
// and exits 0. Exits non-zero if a step does not end the way it should.
'use strict';
const { spawnSync } = require('child_process');
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..', '..');
const { eddRunner } = require('../demo-cli');
const example = 'examples/penguins-sklearn';
const policy = `${example}/penguins-sklearn.policy.yaml`;
const python = path.join(root, '.venv', 'bin', 'python');
const DESIGNS = [
  { config: 'logistic-regression', experiment: 'exp_20250301_001' },
  { config: 'gradient-boosting', experiment: 'exp_20250301_002' },
  { config: 'random-forest', experiment: 'exp_20250301_003' },
];
const EXTRA_SEEDS = [2, 3];

const { run } = eddRunner();
function edd(args, { expected = 0, capture = false } = {}) {
  const r = run(args, expected, { quiet: capture, echo: !capture, cwd: root });
  if (r.status !== expected) throw new Error(`edd ${args.join(' ')} exited ${r.status ?? r.signal} (expected ${expected})`);
  return r.stdout;
}

/** Why the Python environment cannot train the example, or '' when it can. */
function pythonProblem() {
  if (!fs.existsSync(python)) return 'no .venv/bin/python';
  const probe = 'import importlib.util as u, sys; m=[n for n in ("sklearn","skl2onnx","onnxruntime","numpy") if u.find_spec(n) is None]; sys.stdout.write(",".join(m))';
  const r = spawnSync(python, ['-c', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `.venv/bin/python does not start (${(r.stderr || r.error?.message || '').trim().split('\n').pop()})`;
  return r.stdout ? `.venv lacks ${r.stdout}` : '';
}

/** A copy of a committed config with another seed (PYTHONHASHSEED follows it, as seed_everything wants). */
function seedCopy(config, seed) {
  const YAML = require('yaml');
  const doc = YAML.parseDocument(fs.readFileSync(path.join(root, example, 'experiments', `${config}.yaml`), 'utf8'));
  doc.setIn(['experiment', 'random_seed'], seed);
  doc.setIn(['experiment', 'run', 'env', 'PYTHONHASHSEED'], String(seed));
  const file = path.join('.edd', 'seeds', 'penguins-sklearn', `${config}-seed-${seed}.yaml`);
  fs.mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), `# Written by ${example}/demo.js: ${example}/experiments/${config}.yaml with random_seed ${seed}.\n${doc.toString()}`);
  return file.split(path.sep).join('/');
}

function main() {
  const problem = pythonProblem();
  if (problem) {
    console.log(`\npenguins-sklearn: skipped (${problem}): \`npm test\` or \`node test/harness/setup.js\` creates the Python environment, then \`npm start\` trains it.`);
    return 0;
  }
  console.log('\n=== penguins-sklearn: scikit-learn pipelines through the Python client, 3 designs × 3 seeds ===');
  for (const d of DESIGNS) {
    const finished = JSON.parse(edd(['runs', '--experiment', d.experiment, '--json'], { capture: true }) || '[]').filter(r => r.status === 'finished');
    if (finished.length >= 1 + EXTRA_SEEDS.length) {
      console.log(`\n${d.experiment} (${d.config}) already has ${finished.length} finished runs: not trained again (delete .edd/ to start over).`);
      continue;
    }
    // The committed config last: the experiment then points at it, not at a copy.
    for (const file of [...EXTRA_SEEDS.map(s => seedCopy(d.config, s)), `${example}/experiments/${d.config}.yaml`]) edd(['run', file, '--quiet']);
  }

  // Gradient boosting is trained for its curves (validation scores per boosting stage): open all three experiments
  // in the editor's comparison panel to see them.
  const ids = [DESIGNS[0].experiment, DESIGNS[2].experiment];
  edd(['compare', ...ids, '--markdown', '--no-latency']);
  const comparison = JSON.parse(edd(['compare', ...ids, '--json', '--no-latency'], { capture: true }));
  const loss = comparison.metrics.find(m => m.key === 'val_log_loss');
  const runsOf = experiment => comparison.runs.filter(r => r.experiment_id === experiment).map(r => ({ ...r, loss: loss.final[r.run_id] }));
  const mean = runs => runs.reduce((s, r) => s + r.loss, 0) / runs.length;
  const [logreg, forest] = ids.map(runsOf);
  const welch = comparison.significance.find(s => s.test === 'welch_t' && s.metric === 'val_log_loss' && s.b === ids[1]);
  const winner = mean(forest) < mean(logreg) ? forest : logreg;
  const best = winner.reduce((a, b) => (b.loss < a.loss ? b : a));
  console.log(`\nMean validation log loss over the seeds: logistic regression ${mean(logreg).toFixed(4)} (${logreg.length} runs), ` +
    `random forest ${mean(forest).toFixed(4)} (${forest.length} runs); Welch's t: ${welch ? welch.verdict : 'not computed'}.`);
  console.log(`Gating the better design's best run: ${best.label} (${best.run_id}), validation log loss ${best.loss.toFixed(4)}.`);
  edd(['gate', policy, '--run', best.run_id, '--junit', '.edd/gate-penguins-sklearn.xml']);
  const version = JSON.parse(edd(['register', best.run_id, '--model', 'penguins-sklearn', '--reason', 'best run of the better design (validation log loss)', '--json'], { capture: true }));
  console.log(`→ penguins-sklearn@${version.version}${version.already_registered ? ' (already registered)' : ''}`);
  edd(['models', 'penguins-sklearn']);
  return 0;
}

try {
  process.exitCode = main();
} catch (e) {
  console.error(`penguins-sklearn/demo.js: ${e.message}`);
  process.exitCode = 1;
}
