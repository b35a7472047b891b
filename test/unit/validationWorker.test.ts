import * as assert from 'assert';
import * as path from 'path';
import { validateExperiment } from '../../src/core/config';
import { ValidationWorkerClient, type ValidationRequest } from '../../src/extension/validationWorkerClient';
import { largeConfig } from '../bench/inputs';

// The editor's validation worker, driven for real: the worker script compiled by tsc, in a real worker thread.

const script = path.resolve(__dirname, '../../src/extension/validationWorker.js');
const head = 'experiment:\n  id: "exp_20250101_001"\n  name: "worker"\n  hypothesis: "Other files keep their problems"\n  parameters:\n    model_type: "mlp"\n';
const request = (text: string, kind: ValidationRequest['kind'] = 'experiment'): ValidationRequest => ({ kind, text, options: {} });

describe('validation worker', () => {
  let client: ValidationWorkerClient;
  afterEach(() => client?.dispose());

  it('answers every pending file, including one that used to crash the worker (a control character in a string)', async () => {
    client = new ValidationWorkerClient(script);
    const before = `${head}  results:\n    accuracy: "high"\n`; // one wrong-type problem
    const crasher = `${head}  description: "a\x01 with an escape \\n"\n`;
    const after = `${head}  unknown_key: 1\n`; // one unknown-key problem
    const answers = await Promise.all([before, crasher, after].map(text => client.validate(request(text))));
    assert.deepStrictEqual(answers[0], { problems: validateExperiment(before).problems, experimentId: validateExperiment(before).experimentId });
    assert.deepStrictEqual(answers[2]?.problems, validateExperiment(after).problems);
    assert.deepStrictEqual(answers[0]?.problems.map(p => p.code), ['wrong-type']);
    assert.deepStrictEqual(answers[2]?.problems.map(p => p.code), ['unknown-key']);
    assert.deepStrictEqual(answers[1]?.problems.map(p => p.code), ['yaml-syntax'], 'the file gets its own problem');
  });

  it('validates policies and data schemas as well as configs', async () => {
    client = new ValidationWorkerClient(script);
    const policy = await client.validate(request('data:\n  eval: e.csv\n', 'policy'));
    assert.ok(policy?.problems.some(p => p.code === 'missing-key'));
    const schema = await client.validate(request('columns:\n  a: { type: nope }\n', 'data-schema'));
    assert.ok(schema?.problems.some(p => p.code === 'invalid-value'), JSON.stringify(schema));
  });

  it('when the worker dies, answers "no new result" for every pending file (so they keep their problems) and restarts', async () => {
    // A heap too small for a large config: the worker runs out of memory, as it would on a hostile file.
    client = new ValidationWorkerClient(script, { maxOldGenerationSizeMb: 4, maxYoungGenerationSizeMb: 1 });
    const big = largeConfig(20000);
    const pending = [client.validate(request(big)), client.validate(request(head)), client.validate(request(big))];
    assert.deepStrictEqual(await Promise.all(pending), [undefined, undefined, undefined]);
    assert.strictEqual(client.waiting, 0);
    await client.dispose();

    client = new ValidationWorkerClient(script);
    const again = await client.validate(request(head));
    assert.deepStrictEqual(again?.problems, []);
  });
});
