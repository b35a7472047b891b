import * as fs from 'fs';
import * as path from 'path';
import * as vscode from 'vscode';
import { GateInputError } from '../../core/checks/gate';
import { PolicyError } from '../../core/checks/policy';
import {
  describeAuditProblem, describeThresholdsEntry, gateRequired, policiesForModel, RegistryError, resolveActor, validPolicies, type StoreGateResult,
} from '../../core/registry';
import { NAME_PATTERN, type AuditEntry, type AuditVerification, type ModelVersionRecord, type Stage } from '../../core/store';
import { Disposable } from '../dispose';
import { QuestionSteps } from '../questionSteps';
import { Commands, Settings } from '../ids';
import type { ExperimentNode } from '../runs/experimentsTree';
import type { RemoteStore, StoreService } from '../runs/storeService';
import { stageLabel, type ModelNode, type ModelsTree } from './modelsTree';

type VersionNode = Extract<ModelNode, { kind: 'version' }>;
type RunNode = Extract<ExperimentNode, { kind: 'run' }>;

/** Which question a registry command is asking (integration tests wait for it before answering). */
export type RegistryStep = 'model-name' | 'stage' | 'override' | 'reason' | 'alias' | 'confirm-rollback' | 'pick-version' | 'pick-policy';

/**
 * The Models view's commands: register a run's model, promote (quick pick of the stage, an explicit override step
 * when the gate refuses, a reason in an input box), set an alias, roll back, compare with production (shadow
 * evaluation), reveal the model file, and show the audit log. Every change goes through src/core/registry, so the
 * editor and `edd promote` follow the same rules.
 */
export class RegistryCommands extends Disposable {
  /** The question a command is asking (tests answer it). */
  readonly steps = this.track(new QuestionSteps<RegistryStep>());
  /** The last shadow evaluation (tests read it). */
  lastShadow: StoreGateResult | undefined;

  constructor(private readonly stores: StoreService, private readonly tree: ModelsTree) {
    super();
    const reg = (id: string, f: (...args: never[]) => unknown) => this.track(vscode.commands.registerCommand(id, f as (...args: unknown[]) => unknown));
    reg(Commands.registerModel, (node?: RunNode) => this.guard(() => this.register(node)));
    reg(Commands.promoteVersion, (node?: VersionNode) => this.guard(() => this.promote(node)));
    reg(Commands.setAlias, (node?: VersionNode) => this.guard(() => this.alias(node)));
    reg(Commands.rollbackModel, (node?: ModelNode) => this.guard(() => this.rollback(node)));
    reg(Commands.compareWithProduction, (node?: VersionNode) => this.guard(() => this.shadow(node)));
    reg(Commands.revealModelFile, (node?: VersionNode) => this.guard(() => this.reveal(node)));
    reg(Commands.showAuditLog, (node?: ModelNode) => this.guard(() => this.audit(node)));
    reg(Commands.refreshModels, () => this.tree.refresh());
  }

  /** Registry refusals and bad input become messages; anything else is a bug and is shown as such. */
  private async guard<T>(f: () => Promise<T>): Promise<T | undefined> {
    try {
      return await f();
    } catch (e) {
      if (e instanceof RegistryError && e.kind === 'refused') void vscode.window.showErrorMessage(e.message);
      else if (e instanceof RegistryError || e instanceof PolicyError || e instanceof GateInputError) void vscode.window.showErrorMessage(e.message);
      else void vscode.window.showErrorMessage(vscode.l10n.t('EDD: the registry command failed: {0}', e instanceof Error ? e.message : String(e)));
      return undefined;
    }
  }

  private requireTrust(): boolean {
    if (vscode.workspace.isTrusted) return true;
    void vscode.window.showErrorMessage(vscode.l10n.t('EDD changes the model registry and runs models only in a trusted workspace.'));
    return false;
  }

  private actor(folder: vscode.WorkspaceFolder): Promise<string> {
    const setting = vscode.workspace.getConfiguration(Settings.section, folder.uri).get<string>(Settings.registryUser);
    return resolveActor(folder.uri.fsPath, setting);
  }

  private async storeFor(folderUri: string): Promise<{ folder: vscode.WorkspaceFolder; store: RemoteStore }> {
    const folder = this.tree.folderOf(folderUri);
    if (!folder) throw new RegistryError(vscode.l10n.t('That workspace folder is no longer open.'), 'invalid');
    return { folder, store: await this.stores.get(folder) };
  }

  /** The version a command acts on: the tree node, else the selection, else a pick from all versions. */
  private async versionNode(node?: VersionNode): Promise<VersionNode | undefined> {
    if (node?.kind === 'version') return node;
    const selected = this.tree.view.selection.find((n): n is VersionNode => n.kind === 'version');
    if (selected) return selected;
    const picks: Array<vscode.QuickPickItem & { node: VersionNode }> = [];
    for (const f of vscode.workspace.workspaceFolders ?? []) {
      const store = await this.stores.ifExists(f);
      for (const m of (await store?.listModels()) ?? []) {
        for (const v of await store!.listModelVersions(m.name)) {
          picks.push({ label: `${v.model}@${v.version}`, description: [stageLabel(v.stage), ...v.aliases.map(a => `@${a}`)].join(' '), node: { kind: 'version', folder: f.uri.toString(), model: v.model, version: v.version } });
        }
      }
    }
    if (!picks.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('No models are registered yet. Register a finished run\'s model from the Experiments view ("Register Model…").'));
      return undefined;
    }
    return (await this.steps.ask('pick-version', vscode.window.showQuickPick(picks, { placeHolder: vscode.l10n.t('Which model version?') })))?.node;
  }

  private async register(node?: RunNode): Promise<ModelVersionRecord | undefined> {
    if (!this.requireTrust()) return undefined;
    if (node?.kind !== 'run') {
      void vscode.window.showInformationMessage(vscode.l10n.t('Choose "Register Model…" on a finished run in the Experiments view.'));
      return undefined;
    }
    const { folder, store } = await this.storeFor(node.folder);
    const known = (await store.listModels()).map(m => m.name);
    // the `model:` names of the folder's policies, in path order
    const fromPolicies = [...new Set(validPolicies(folder.uri.fsPath).map(p => p.policy.model).filter((m): m is string => !!m))];
    const suggestion = known[0] ?? fromPolicies[0] ?? node.experimentId.replace(/[^A-Za-z0-9._-]/g, '-');
    const name = await this.steps.ask('model-name', vscode.window.showInputBox({
      title: vscode.l10n.t('Register the model of run {0}', node.runId.slice(0, 8)),
      prompt: known.length ? vscode.l10n.t('Model name (registered: {0})', known.join(', ')) : vscode.l10n.t('Model name (e.g. the `model:` of your promotion policy)'),
      value: suggestion,
      validateInput: v => (NAME_PATTERN.test(v) ? undefined : vscode.l10n.t('Letters, digits, `.`, `_` or `-`, starting with a letter or digit.')),
    }));
    if (!name) return undefined;
    const v = await store.op('registerRun', { root: folder.uri.fsPath, runId: node.runId, model: name, actor: await this.actor(folder) });
    void vscode.window.showInformationMessage(v.alreadyRegistered
      ? vscode.l10n.t('This model file is already registered as {0}@{1}.', v.model, v.version)
      : vscode.l10n.t('Registered {0}@{1}.', v.model, v.version));
    this.tree.refresh();
    return v;
  }

  private async promote(target?: VersionNode): Promise<ModelVersionRecord | undefined> {
    if (!this.requireTrust()) return undefined;
    const node = await this.versionNode(target);
    if (!node) return undefined;
    const { folder, store } = await this.storeFor(node.folder);
    const current = await store.findModelVersion(node.model, node.version);
    if (!current) throw new RegistryError(vscode.l10n.t('{0}@{1} is no longer in the registry.', node.model, node.version), 'invalid');
    const name = `${node.model}@${node.version}`;
    const production = await store.findModelVersion(node.model, 'production');
    const stages: Array<vscode.QuickPickItem & { stage: Stage }> = ([
      { stage: 'production', label: `$(rocket) ${stageLabel('production')}`, detail: production && production.version !== node.version ? vscode.l10n.t('Replaces v{0}, which is archived.', production.version) : vscode.l10n.t('Needs a reason; the gate must have passed.') },
      { stage: 'staging', label: `$(beaker) ${stageLabel('staging')}`, detail: vscode.l10n.t('For trying the version out before production; the gate must not have failed.') },
      { stage: 'archived', label: `$(archive) ${stageLabel('archived')}`, detail: vscode.l10n.t('Retire the version. Never blocked by a gate.') },
    ] as Array<vscode.QuickPickItem & { stage: Stage }>).filter(s => s.stage !== current.stage);
    const picked = await this.steps.ask('stage', vscode.window.showQuickPick(stages, { title: vscode.l10n.t('Promote {0} ({1})', name, stageLabel(current.stage)), placeHolder: vscode.l10n.t('To which stage?') }));
    if (!picked) return undefined;
    const requireGate = gateRequired(folder.uri.fsPath, node.model);
    const plan = await store.op('planPromotion', { model: node.model, ref: node.version, to: picked.stage, requireGate });
    let force = false;
    if (plan.refusals.length) {
      const cancel = { label: vscode.l10n.t('$(close) Cancel'), detail: plan.refusals.join('; '), override: false };
      const override = { label: vscode.l10n.t('$(warning) Override the gate (recorded in the audit log)'), detail: vscode.l10n.t('Only with a reason that reviewers will read.'), override: true };
      const choice = await this.steps.ask('override', vscode.window.showQuickPick([cancel, override], { title: vscode.l10n.t('Promotion of {0} to {1} is refused', name, stageLabel(picked.stage)), placeHolder: plan.refusals.join('; ') }));
      if (!choice?.override) {
        // the attempt is part of the record, as it is for `edd promote`
        await store.op('recordRefusal', plan, await this.actor(folder));
        return undefined;
      }
      force = true;
    }
    const needsReason = force || picked.stage === 'production';
    const defaultReason = force ? '' : plan.gate.report ? vscode.l10n.t('Gate passed: {0} ({1})', plan.gate.report.policy, new Date(plan.gate.report.createdAt).toLocaleString()) : '';
    const reason = await this.steps.ask('reason', vscode.window.showInputBox({
      title: vscode.l10n.t('Why promote {0} to {1}?', name, stageLabel(picked.stage)),
      prompt: force ? vscode.l10n.t('Reason for overriding the gate (required; recorded with your name and the time)') : needsReason ? vscode.l10n.t('Reason (required; recorded with your name and the time)') : vscode.l10n.t('Reason (optional; recorded with your name and the time)'),
      value: defaultReason,
      validateInput: v => (needsReason && !v.trim() ? vscode.l10n.t('A reason is required.') : undefined),
    }));
    if (reason === undefined) return undefined;
    // saved at once, so that a promotion another process saved at the same time is merged and the message tells the truth
    const { result: r, outcome } = await store.op('promote', { model: node.model, ref: node.version, to: picked.stage, actor: await this.actor(folder), reason, force, requireGate });
    this.tree.refresh();
    if (!outcome.applied) {
      void vscode.window.showWarningMessage(outcome.production
        ? vscode.l10n.t('{0} was NOT promoted to {1}: another promotion was saved at the same time and came first. v{2} is in production (promoted by {3}). Promote again if {0} should replace it.', name, stageLabel(picked.stage), outcome.production.version, outcome.productionEntry?.actor ?? '?')
        : vscode.l10n.t('{0} was NOT promoted to {1}: the registry changed at the same time. Check the audit log and promote again.', name, stageLabel(picked.stage)));
      return outcome.version;
    }
    const msg = r.plan.replaces !== undefined
      ? vscode.l10n.t('{0} is now in {1}; v{2} was archived.', name, stageLabel(picked.stage), r.plan.replaces)
      : vscode.l10n.t('{0} is now in {1}.', name, stageLabel(picked.stage));
    void (force ? vscode.window.showWarningMessage(vscode.l10n.t('{0} (gate overridden: recorded)', msg)) : vscode.window.showInformationMessage(msg));
    return r.version;
  }

  private async alias(target?: VersionNode): Promise<ModelVersionRecord | undefined> {
    if (!this.requireTrust()) return undefined;
    const node = await this.versionNode(target);
    if (!node) return undefined;
    const { folder, store } = await this.storeFor(node.folder);
    const existing = [...new Set((await store.listModelVersions(node.model)).flatMap(v => v.aliases))];
    const alias = await this.steps.ask('alias', vscode.window.showInputBox({
      title: vscode.l10n.t('Alias for {0}@{1}', node.model, node.version),
      prompt: existing.length ? vscode.l10n.t('An alias names one version; giving an existing one moves it here ({0}).', existing.join(', ')) : vscode.l10n.t('e.g. champion or challenger'),
      value: existing.includes('champion') ? 'challenger' : 'champion',
      validateInput: v => (NAME_PATTERN.test(v) && !/^\d+$/.test(v) ? undefined : vscode.l10n.t('Letters, digits, `.`, `_` or `-`; not only digits.')),
    }));
    if (!alias) return undefined;
    const v = await store.op('setAlias', { model: node.model, ref: node.version, alias, actor: await this.actor(folder) });
    this.tree.refresh();
    void vscode.window.showInformationMessage(vscode.l10n.t('{0}@{1} now names v{2}.', node.model, alias, v.version));
    return v;
  }

  private async rollback(node?: ModelNode): Promise<ModelVersionRecord | undefined> {
    if (!this.requireTrust()) return undefined;
    let target = node;
    if (!target) target = await this.versionNode(undefined);
    if (!target) return undefined;
    const { folder, store } = await this.storeFor(target.folder);
    const plan = await store.rollbackPlan(target.model);
    if (!plan) {
      void vscode.window.showInformationMessage(vscode.l10n.t('{0} has no earlier production version to roll back to.', target.model));
      return undefined;
    }
    const reason = await this.steps.ask('confirm-rollback', vscode.window.showInputBox({
      title: vscode.l10n.t('Roll back {0}: v{1} → v{2}', target.model, plan.current, plan.target),
      prompt: vscode.l10n.t('v{0} is archived and v{1} goes back to production. Reason (recorded):', plan.current, plan.target),
      value: '',
    }));
    if (reason === undefined) return undefined;
    const { result: r, outcome } = await store.op('rollback', { model: target.model, actor: await this.actor(folder), reason });
    this.tree.refresh();
    if (!outcome.applied) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Rollback of {0} was NOT applied: another change to production was saved at the same time. In production now: {1}.', target.model, outcome.production ? `v${outcome.production.version}` : '—'));
      return outcome.production;
    }
    void vscode.window.showInformationMessage(vscode.l10n.t('Rolled back {0}: v{1} is in production again.', r.restored.model, r.restored.version));
    return r.restored;
  }

  private async shadow(target?: VersionNode): Promise<StoreGateResult | undefined> {
    if (!this.requireTrust()) return undefined;
    const node = await this.versionNode(target);
    if (!node) return undefined;
    const { folder, store } = await this.storeFor(node.folder);
    const policies = policiesForModel(folder.uri.fsPath, node.model);
    let policy: string | undefined = policies[0]?.file;
    if (policies.length > 1) {
      policy = (await this.steps.ask('pick-policy', vscode.window.showQuickPick(policies.map(p => ({ label: path.relative(folder.uri.fsPath, p.file), file: p.file })), { placeHolder: vscode.l10n.t('Whose evaluation data?') })))?.file;
    }
    if (!policy) {
      if (!policies.length) void vscode.window.showWarningMessage(vscode.l10n.t('No promotion policy with `model: {0}` in this folder: its evaluation data is what both models are run on.', node.model));
      return undefined;
    }
    const controller = new AbortController();
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('EDD: {0}@{1} against production…', node.model, node.version), cancellable: true },
      (_p, token) => {
        token.onCancellationRequested(() => controller.abort());
        return store.opWith('shadow', { signal: controller.signal }, policy!, { root: folder.uri.fsPath, target: { model: { model: node.model, ref: String(node.version) } } });
      },
    );
    this.lastShadow = result;
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: shadowMarkdown(result, path.relative(folder.uri.fsPath, policy)) });
    await vscode.window.showTextDocument(doc, { preview: true });
    return result;
  }

  private async reveal(target?: VersionNode): Promise<void> {
    const node = await this.versionNode(target);
    if (!node) return;
    const { store } = await this.storeFor(node.folder);
    const v = await store.findModelVersion(node.model, node.version);
    if (!v) return;
    const file = await store.op('versionFile', v);
    if (!fs.existsSync(file)) {
      void vscode.window.showWarningMessage(vscode.l10n.t('The registry\'s copy of {0}@{1} is missing ({2}). Register the run again to restore it.', v.model, v.version, file));
      return;
    }
    await vscode.commands.executeCommand('revealInExplorer', vscode.Uri.file(file));
  }

  private async audit(node?: ModelNode): Promise<vscode.TextDocument | undefined> {
    const folders = node ? [this.tree.folderOf(node.folder)].filter((f): f is vscode.WorkspaceFolder => !!f) : vscode.workspace.workspaceFolders ?? [];
    const parts: string[] = [];
    for (const f of folders) {
      const store = await this.stores.ifExists(f);
      if (!store) continue;
      parts.push(auditMarkdown(await store.auditLog(node?.model), node?.model ?? f.name, await store.verifyAuditLog()));
    }
    if (!parts.length) {
      void vscode.window.showInformationMessage(vscode.l10n.t('The audit log is empty: nothing was registered yet.'));
      return undefined;
    }
    const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content: parts.join('\n\n') });
    await vscode.window.showTextDocument(doc, { preview: true });
    return doc;
  }
}

const cell = (s: unknown) => String(s ?? '').replace(/\|/g, '\\|').replace(/\n/g, ' ');

function auditMarkdown(log: readonly AuditEntry[], title: string, verification: AuditVerification): string {
  const lines = [
    `# ${vscode.l10n.t('Audit log: {0}', title)}`,
    '',
    vscode.l10n.t('Append-only: every registration, promotion, alias, archive, rollback and applied threshold, oldest first.'),
    '',
    verification.ok
      ? vscode.l10n.t('Verified: {0} entries, hash chain intact; stages and aliases agree with the log.', verification.entries)
      : vscode.l10n.t('Verification FAILED: {0}. The entries below may be forged.', cell(describeAuditProblem(verification.problem!))),
    '',
    `| # | ${[vscode.l10n.t('When'), vscode.l10n.t('Who'), vscode.l10n.t('Model'), vscode.l10n.t('What'), vscode.l10n.t('Why')].join(' | ')} |`,
    '|---|---|---|---|---|---|',
  ];
  for (const e of log) {
    const stages = e.fromStage || e.toStage ? ` (${e.fromStage ?? '-'} → ${e.toStage ?? '-'})` : '';
    const what = e.action === 'alias'
      ? `alias @${e.alias} → v${e.version}`
      : e.action === 'promote-refused'
        ? (e.details.concurrent
          ? vscode.l10n.t('REFUSED promotion v{0}{1}: another promotion to production came first (v{2} was in production)', e.version ?? '?', stages, String((e.details.concurrent as { production?: number | null }).production ?? '—'))
          : vscode.l10n.t('REFUSED promotion v{0}{1}: {2}', e.version ?? '?', stages, Array.isArray(e.details.refusals) ? e.details.refusals.map(String).join('; ') : ''))
        : e.action === 'thresholds'
          ? describeThresholdsEntry(e)
          : `${e.action} v${e.version ?? '?'}${stages}${e.forced ? ` **${vscode.l10n.t('FORCED over the gate')}**` : ''}`;
    lines.push(`| ${e.seq} | ${cell(new Date(e.at).toISOString().replace('T', ' ').slice(0, 19))} | ${cell(e.actor)} | ${cell(e.model)} | ${cell(what)} | ${cell(e.reason ?? '')} |`);
  }
  return lines.join('\n');
}

function shadowMarkdown(r: StoreGateResult, policy: string): string {
  const c = r.report.checks[0];
  const m = (c?.measured ?? {}) as Record<string, number>;
  const ev = (c?.evidence ?? {}) as { rows?: number; disagreement_count?: number; disagreements?: Array<{ row: number; y_true: string; candidate: string; production: string }> };
  const prod = r.production ? `${r.production.model}@${r.production.version}` : '—';
  const lines = [
    `# ${vscode.l10n.t('Shadow evaluation: {0} against {1}', r.report.candidate.model ?? '?', prod)}`,
    '',
    vscode.l10n.t('Both models on the evaluation data of {0} ({1} rows).', policy, ev.rows ?? '?'),
    '',
    `- ${vscode.l10n.t('Agreement')}: ${m.agreement_rate === undefined ? '—' : `${(m.agreement_rate * 100).toFixed(1)}%`} (${vscode.l10n.t('{0} row(s) disagree', ev.disagreement_count ?? 0)})`,
    `- ${vscode.l10n.t('Verdict')}: ${c?.status ?? '?'} — ${cell(c?.message)}`,
  ];
  for (const [k, x] of Object.entries(m)) if (k !== 'agreement_rate') lines.push(`- \`${k}\`: ${x}`);
  if (ev.disagreements?.length) {
    lines.push('', `| ${vscode.l10n.t('Row')} | ${vscode.l10n.t('True')} | ${vscode.l10n.t('Candidate')} | ${vscode.l10n.t('Production')} |`, '|---|---|---|---|');
    for (const d of ev.disagreements) lines.push(`| ${d.row} | ${cell(d.y_true)} | ${cell(d.candidate)} | ${cell(d.production)} |`);
  }
  return lines.join('\n');
}
