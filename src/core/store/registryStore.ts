import { randomUUID } from 'crypto';
import type { StoreDb } from './db';
import { aliasOp, auditLog, findVersion, gateReportOp, getGateReport, listGateReports, listModels, listVersions, promoteOp, registerOp, rollbackOp, rollbackTarget, versionByIdFull, type RegistryOp } from './registryOps';
import type {
  AliasChange, AuditEntry, GateReportQuery, ModelRecord, ModelVersionRecord, NewGateReport, NewModelVersion, RollbackPlan, RollbackRequest, StageChange,
  StoredGateReport,
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
    const op = gateReportOp(report, randomUUID(), Date.now());
    this.host.apply(op, report.runId ? [report.runId] : []);
    return getGateReport(this.host.db(), op.row[0] as string)!;
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

  setModelStage(change: StageChange): ModelVersionRecord {
    this.host.apply(promoteOp({ ...change, auditId: randomUUID() }, Date.now()), []);
    return versionByIdFull(this.host.db(), change.versionId)!;
  }

  setModelAlias(change: AliasChange): ModelVersionRecord {
    this.host.apply(aliasOp({ ...change, auditId: randomUUID() }, Date.now()), []);
    return versionByIdFull(this.host.db(), change.versionId)!;
  }

  rollbackModel(request: RollbackRequest): ModelVersionRecord {
    this.host.apply(rollbackOp({ ...request, auditId: randomUUID() }, Date.now()), []);
    return findVersion(this.host.db(), request.model, 'production')!;
  }
}
