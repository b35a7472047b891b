import * as assert from 'assert';
import { configKindOf } from '../../src/extension/configKinds';

describe('configKindOf: which YAML files the editor parses', () => {
  it('tells EDD kinds by path, glob and marker, and leaves every other YAML file alone', () => {
    assert.strictEqual(configKindOf('/w/experiments/a.yaml', 'experiment:\n', true), 'experiment');
    assert.strictEqual(configKindOf('/w/other/a.yaml', '# edd: experiment\nexperiment:\n', false), 'experiment');
    assert.strictEqual(configKindOf('/w/gate.policy.yaml', '', false), 'policy');
    assert.strictEqual(configKindOf('/w/policies/prod.yml', '', false), 'policy');
    assert.strictEqual(configKindOf('/w/x.yaml', '# edd: policy\n', false), 'policy');
    assert.strictEqual(configKindOf('/w/penguins.data.yaml', '', false), 'data-schema');
    assert.strictEqual(configKindOf('/w/x.yaml', '# edd: data-schema\n', false), 'data-schema');
    // A policy inside experiments/ is still a policy.
    assert.strictEqual(configKindOf('/w/experiments/gate.policy.yaml', '', true), 'policy');
    assert.strictEqual(configKindOf('/w/deploy/service.yaml', 'apiVersion: apps/v1\nkind: Deployment\n', false), undefined);
    assert.strictEqual(configKindOf('/w/x.yaml', 'a: 1\n\n\n\n\n# edd: experiment\n', false), undefined, 'the marker counts only in the first lines');
  });
});
