import * as assert from 'assert';
import * as fs from 'fs';
import * as path from 'path';
import { Commands, ContextKeys, DEFAULT_GLOB, Settings, TASK_TYPE, Views } from '../../src/extension/ids';

const root = path.resolve(__dirname, '../../..');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'));
const contributes = pkg.contributes;

describe('package.json manifest', () => {
  it('contributes exactly the commands the code registers', () => {
    const declared = contributes.commands.map((c: { command: string }) => c.command).sort();
    assert.deepStrictEqual(declared, Object.values(Commands).sort());
    for (const c of contributes.commands) assert.ok(c.command.startsWith('edd.'), `${c.command} is namespaced`);
  });

  it('declares the view container and views the code uses', () => {
    assert.ok(contributes.viewsContainers.activitybar.some((c: { id: string }) => c.id === Views.container));
    const views = Object.values(contributes.views).flat().map(v => (v as { id: string }).id);
    assert.deepStrictEqual(views.sort(), [Views.configs, Views.experiments, Views.models].sort());
    for (const v of [Views.configs, Views.experiments, Views.models]) {
      assert.ok(contributes.viewsWelcome.some((w: { view: string }) => w.view === v), `${v} has a welcome (empty state)`);
    }
    assert.ok(fs.existsSync(path.join(root, contributes.viewsContainers.activitybar[0].icon)), 'activity bar icon exists');
  });

  it('declares every setting the code reads, with scope and markdownDescription', () => {
    const props = contributes.configuration.properties;
    const keys = [Settings.glob, Settings.debounceMs, Settings.f1Tolerance, Settings.storePath, Settings.keyMetric, Settings.goals, Settings.registryUser, Settings.pythonPath, Settings.trackingUri, Settings.servePort].map(k => `${Settings.section}.${k}`).sort();
    assert.deepStrictEqual(Object.keys(props).sort(), keys);
    for (const k of keys) {
      assert.ok(props[k].scope, `${k} has a scope`);
      assert.match(props[k].markdownDescription, /^%.+%$/, `${k} description is localised`);
    }
    assert.strictEqual(props[`${Settings.section}.${Settings.glob}`].default, DEFAULT_GLOB);
  });

  it('activates on workspaces with experiment configs and on YAML files (for the marker comment)', () => {
    assert.ok(pkg.activationEvents.includes('workspaceContains:**/experiments/**/*.yaml'));
    assert.ok(pkg.activationEvents.includes('workspaceContains:**/experiments/**/*.yml'));
    assert.ok(pkg.activationEvents.includes('onLanguage:yaml'));
  });

  it('tells Red Hat\'s YAML extension about the schema', () => {
    const [entry] = contributes.yamlValidation;
    assert.ok(fs.existsSync(path.join(root, entry.url)), `${entry.url} exists`);
    assert.ok(entry.fileMatch.includes('**/experiments/**/*.yaml'));
  });

  it('keeps @types/vscode no newer than engines.vscode (vsce refuses otherwise)', () => {
    const engine = pkg.engines.vscode.replace(/^\^/, '');
    const types = JSON.parse(fs.readFileSync(path.join(root, 'node_modules/@types/vscode/package.json'), 'utf8')).version;
    const [em, en] = engine.split('.').map(Number);
    const [tm, tn] = types.split('.').map(Number);
    assert.ok(tm < em || (tm === em && tn <= en), `@types/vscode ${types} vs engines ${engine}`);
    assert.strictEqual(pkg.name, 'edd');
    assert.strictEqual(pkg.engines.vscode, '^1.100.0');
  });

  it('uses namespaced context keys, and the menus name only contributed commands', () => {
    assert.ok(Object.values(ContextKeys).every(k => k.startsWith('edd.')));
    const known = new Set(Object.values(Commands) as string[]);
    for (const [menu, entries] of Object.entries(contributes.menus as Record<string, Array<{ command: string }>>)) {
      for (const e of entries) assert.ok(known.has(e.command), `${menu} names ${e.command}`);
    }
    const stateValues = ['edd.run.running', 'edd.run.finished', 'edd.run.failed', 'edd.run.cancelled'];
    const contextMenus = contributes.menus['view/item/context'].map((m: { when: string }) => m.when).join(' ');
    for (const v of stateValues) assert.ok(contextMenus.includes(v.split('.').pop()!), `a context menu handles ${v}`);
  });

  it('declares the `edd` task type with its required config property', () => {
    const [task] = contributes.taskDefinitions;
    assert.strictEqual(task.type, TASK_TYPE);
    assert.deepStrictEqual(task.required, ['config']);
  });
});
