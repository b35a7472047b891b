import { randomUUID } from 'crypto';
import type { StoreDb } from './db';
import { verifyAuditLog } from './auditChain';
import {
  aliasOp, auditEntryById, auditLog, findVersion, gateReportOp, getGateReport, listGateReports, listModels, listVersions, promoteOp, promoteRefusedOp, registerOp, canaryOp, thresholdsOp,
  rollbackOp, rollbackTarget, versionByIdFull, type RegistryOp,
} from './registryOps';
import type {
  AliasChange, AuditEntry, CanaryDecision, AuditVerification, GateReportQuery, ModelRecord, ModelVersionRecord, NewGateReport, NewModelVersion, RefusedPromotion, RollbackPlan,
  RollbackRequest, StageChange, StoredGateReport, ThresholdsChange,
} from './registryTypes';

/** What the registry needs from the store that holds it: the current copy, and the way every mutation goes. */
export interface RegistryHost {
  /** The in-memory copy (replaced when another process's save is merged, so never kept). */
  db(): StoreDb;
  /** Applies a mutation to the copy and journals it for the next save. */
  apply(op: RegistryOp, runIds: string[]): void;
  assertOpen(): void;
}

/**
 * Gate reports and the model registry, over the run store's index: these record decisions; the rules (may this version
 * be promoted?) are in src/core/registry, which is what callers should use. Reached through `RunStore`'s methods.
 */
export class RegistryStore {
  constructor(private readonly host: RegistryHost) {}

  private read(): StoreDb {
    this.host.assertOpen();
    return this.host.db();
  }

  addGateReport(report: NewGateReport): StoredGateReport {
    const id = randomUUID();
    this.host.apply(gateReportOp(report, id, Date.now()), report.runId ? [report.runId] : []);
    return getGateReport(this.host.db(), id)!;
  }

  listGateReports(query: GateReportQuery = {}): StoredGateReport[] {
    return listGateReports(this.read(), query);
  }

  getGateReport(id: string): StoredGateReport | undefined {
    return getGateReport(this.read(), id);
  }

  listModels(): ModelRecord[] {
    return listModels(this.read());
  }

  listModelVersions(model: string): ModelVersionRecord[] {
    return listVersions(this.read(), model);
  }

  findModelVersion(model: string, ref: string | number): ModelVersionRecord | undefined {
    return findVersion(this.read(), model, ref);
  }

  modelVersionById(id: string): ModelVersionRecord | undefined {
    return versionByIdFull(this.read(), id);
  }

  auditLog(model?: string): AuditEntry[] {
    return auditLog(this.read(), model);
  }

  rollbackPlan(model: string): RollbackPlan | undefined {
    return rollbackTarget(this.read(), model);
  }

  registerModelVersion(v: NewModelVersion): ModelVersionRecord {
    const op = registerOp({ ...v, id: randomUUID(), auditId: randomUUID() }, Date.now());
    this.host.apply(op, []);
    return versionByIdFull(this.host.db(), op.id)!;
  }

  /**
   * A promotion to production remembers which version was in production when it was decided: when another process's
   * save overtakes it (promoted another version first), replaying it does not apply it but records `promote-refused`.
   */
  setModelStage(change: StageChange): ModelVersionRecord {
    const db = this.read();
    const model = versionByIdFull(db, change.versionId)?.model;
    const expectProduction = change.to === 'production' && model !== undefined ? (findVersion(db, model, 'production')?.id ?? null) : undefined;
    this.host.apply(promoteOp({ ...change, auditId: change.auditId ?? randomUUID(), expectProduction }, Date.now()), []);
    return versionByIdFull(this.host.db(), change.versionId)!;
  }

  /** Records a promotion the rules refused (nothing else changes). */
  recordRefusedPromotion(refused: RefusedPromotion): void {
    this.host.apply(promoteRefusedOp({ ...refused, auditId: randomUUID() }, Date.now()), []);
  }

  /** Records a canary decision (nothing else changes); returns the audit entry's id. */
  recordCanaryDecision(decision: CanaryDecision): string {
    const auditId = randomUUID();
    this.host.apply(canaryOp({ ...decision, auditId }, Date.now()), []);
    return auditId;
  }

  /** Records thresholds written into a service spec (an audit entry only); returns the entry. */
  recordThresholds(change: ThresholdsChange): AuditEntry {
    const auditId = randomUUID();
    this.host.apply(thresholdsOp({ ...change, auditId }, Date.now()), []);
    return auditEntryById(this.host.db(), auditId)!;
  }

  /** One audit entry by id (e.g. to learn after a save whether a promotion was applied or overtaken). */
  auditEntry(id: string): AuditEntry | undefined {
    return auditEntryById(this.read(), id);
  }

  /** The audit log's hash chain, and every version's stage and alias against the log (src/core/store/auditChain.ts). */
  verifyAuditLog(): AuditVerification {
    return verifyAuditLog(this.read());
  }

  setModelAlias(change: AliasChange): ModelVersionRecord {
    this.host.apply(aliasOp({ ...change, auditId: randomUUID() }, Date.now()), []);
    return versionByIdFull(this.host.db(), change.versionId)!;
  }

  /** A rollback whose save finds another process changed production first is not applied (no audit entry). */
  rollbackModel(request: RollbackRequest): ModelVersionRecord {
    const current = findVersion(this.read(), request.model, 'production');
    this.host.apply(rollbackOp({ ...request, auditId: request.auditId ?? randomUUID(), expectCurrent: current?.id }, Date.now()), []);
    return findVersion(this.host.db(), request.model, 'production')!;
  }
}
