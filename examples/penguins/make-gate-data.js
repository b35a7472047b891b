#!/usr/bin/env node
// Writes the gate's data sets from the same penguins rows and the same fixed split as train.js:
//   data/reference.csv  the training split (what the model learned from: the drift reference)
//   data/eval.csv       the validation + test splits (held out: what the gate evaluates on)
// Columns: row_id, the four raw measurements (the model's input, in order), species (label), island, sex.
// Usage: node examples/penguins/make-gate-data.js   (deterministic; the CSVs are committed)
'use strict';
const fs = require('fs');
const path = require('path');
const { loadRows, split, findDataFile, CLASSES, DEFAULT_SPLIT_SEED } = require('./train.js');

const COLUMNS = ['row_id', 'bill_length_mm', 'bill_depth_mm', 'flipper_length_mm', 'body_mass_g', 'species', 'island', 'sex'];
const { rows } = loadRows(findDataFile());
const sets = split(rows, { train: 233, val: 50, test: 50 }, DEFAULT_SPLIT_SEED);
const csv = list => [COLUMNS.join(','), ...list.map(r => [r.row_id, ...r.x, CLASSES[r.y], r.island, r.sex].join(','))].join('\n') + '\n';
const dir = path.join(__dirname, 'data');
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'reference.csv'), csv(sets.train));
fs.writeFileSync(path.join(dir, 'eval.csv'), csv([...sets.val, ...sets.test]));
console.log(`wrote ${path.relative(process.cwd(), dir)}/reference.csv (${sets.train.length} rows) and eval.csv (${sets.val.length + sets.test.length} rows)`);
