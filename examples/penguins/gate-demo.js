#!/usr/bin/env node
// The end of `npm start`: the promotion gate on two candidates, then the registry.
//   exp_20250101_001 (the baseline)        must pass  (exit 0)
//   exp_20250101_004 (short training)     must fail  (exit 1: its F1 and accuracy are below the policy's minimums)
// Then: register the baseline, the short-training and the higher-lr models as versions of `penguins`; the
// short-training version's promotion is refused by its failed gate; the baseline goes to production, the higher-lr
// version replaces it, a rollback restores the baseline; the audit log shows every step.
// Exits non-zero if any step does not end the way it should. Safe to run again (the same model file registers as the
// version it already is).
'use strict';

const policy = 'examples/penguins/penguins.policy.yaml';
const { run: edd, ok: allAsExpected } = require('../demo-cli').eddRunner();
let ok = true;


for (const [experiment, expected] of [['exp_20250101_001', 0], ['exp_20250101_004', 1]]) {
  const r = edd(['gate', policy, '--experiment', experiment, '--junit', `.edd/gate-${experiment}.xml`], expected);
  console.log(`→ exit ${r.status}: ${expected === 0 ? 'passes' : 'fails'}${r.status === expected ? ' as expected' : ''}; JUnit in .edd/gate-${experiment}.xml`);
}

// The registry.
const versionOf = experiment => {
  const r = edd(['register', '--experiment', experiment, '--model', 'penguins', '--json'], 0, { quiet: true });
  const v = JSON.parse(r.stdout || '{}');
  console.log(`→ penguins@${v.version}${v.already_registered ? ' (already registered)' : ''}`);
  return v.version;
};
const baseline = versionOf('exp_20250101_001');
const short = versionOf('exp_20250101_004');
const higherLr = versionOf('exp_20250101_002');
const stageOf = version => {
  const models = JSON.parse(edd(['models', 'penguins', '--json'], 0, { quiet: true }).stdout || '[]');
  return models[0]?.versions.find(v => v.version === version)?.stage;
};

// A version's gate reports are found through its file: the gates above count. The higher-lr one is gated here.
edd(['gate', policy, '--model', `penguins@${higherLr}`], 0, { quiet: true });
const refused = edd(['promote', `penguins@${short}`, '--to', 'production', '--reason', 'shorter training is cheaper'], 1);
console.log(`→ exit ${refused.status}: ${refused.status === 1 ? 'refused by its failed gate, as expected' : 'UNEXPECTED'}`);
if (stageOf(baseline) !== 'production') edd(['promote', `penguins@${baseline}`, '--to', 'production', '--alias', 'champion', '--reason', 'baseline passed its gate'], 0);
edd(['promote', `penguins@${higherLr}`, '--to', 'production', '--reason', 'higher learning rate: lower validation loss, gate passed'], 0);
edd(['shadow', `penguins@${short}`, '--policy', policy], 1);
edd(['rollback', 'penguins', '--reason', 'demo: back to the baseline'], 0);
edd(['models'], 0);
edd(['audit', 'penguins'], 0);
if (stageOf(baseline) !== 'production') {
  console.log('→ UNEXPECTED: the baseline should be in production after the rollback');
  ok = false;
}
process.exitCode = ok && allAsExpected() ? 0 : 1;
