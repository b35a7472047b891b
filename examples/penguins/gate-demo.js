#!/usr/bin/env node
// The end of `npm start`: the promotion gate on two candidates of the example.
//   exp_20250101_001 (the baseline)        must pass  (exit 0)
//   exp_20250101_004 (short training)     must fail  (exit 1: its F1 and accuracy are below the policy's minimums)
// Exits non-zero if either gate does not end the way it should.
'use strict';
const { spawnSync } = require('child_process');
const path = require('path');

const cli = path.join(__dirname, '..', '..', 'dist', 'cli.js');
const policy = 'examples/penguins/penguins.policy.yaml';
let ok = true;
for (const [experiment, expected] of [['exp_20250101_001', 0], ['exp_20250101_004', 1]]) {
  console.log(`\n$ edd gate ${policy} --experiment ${experiment}`);
  const r = spawnSync(process.execPath, [cli, 'gate', policy, '--experiment', experiment, '--junit', `.edd/gate-${experiment}.xml`], { stdio: 'inherit' });
  const verdict = r.status === expected ? 'as expected' : `UNEXPECTED (wanted exit ${expected})`;
  console.log(`→ exit ${r.status}: ${expected === 0 ? 'passes' : 'fails'} ${verdict}; JUnit in .edd/gate-${experiment}.xml`);
  if (r.status !== expected) ok = false;
}
process.exitCode = ok ? 0 : 1;
