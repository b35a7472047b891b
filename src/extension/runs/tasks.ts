import * as vscode from 'vscode';
import { Disposable } from '../dispose';
import { TASK_TYPE } from '../ids';
import type { ValidationService } from '../validation';
import type { RunController } from './runController';

/** `tasks.json`: `{ "type": "edd", "config": "experiments/baseline.yaml" }` runs that config like the command does. */
interface EddTaskDefinition extends vscode.TaskDefinition {
  config: string;
}

/** The `edd` task type: one task per experiment config, run through the same controller as the command. */
export class RunTaskProvider extends Disposable implements vscode.TaskProvider {
  constructor(private readonly validation: ValidationService, private readonly runs: RunController) {
    super();
    this.track(vscode.tasks.registerTaskProvider(TASK_TYPE, this));
  }

  provideTasks(): vscode.Task[] {
    const tasks: vscode.Task[] = [];
    for (const c of this.validation.configs.filter(x => x.kind === 'experiment')) {
      const folder = vscode.workspace.getWorkspaceFolder(c.uri);
      if (!folder) continue;
      tasks.push(this.build({ type: TASK_TYPE, config: vscode.workspace.asRelativePath(c.uri, false) }, folder));
    }
    return tasks;
  }

  resolveTask(task: vscode.Task): vscode.Task | undefined {
    const def = task.definition as EddTaskDefinition;
    if (typeof def.config !== 'string') return undefined;
    const folder = typeof task.scope === 'object' ? task.scope : vscode.workspace.workspaceFolders?.[0];
    return folder ? this.build(def, folder) : undefined;
  }

  private build(def: EddTaskDefinition, folder: vscode.WorkspaceFolder): vscode.Task {
    const uri = vscode.Uri.joinPath(folder.uri, def.config);
    const task = new vscode.Task(def, folder, vscode.l10n.t('run {0}', def.config), 'edd', new vscode.CustomExecution(async () => this.terminal(uri)));
    task.group = vscode.TaskGroup.Test;
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated };
    return task;
  }

  /** A pseudoterminal that streams the run's log and closes with the training's exit code. */
  private terminal(uri: vscode.Uri): vscode.Pseudoterminal {
    const write = new vscode.EventEmitter<string>();
    const close = new vscode.EventEmitter<number>();
    const controller = new AbortController();
    const line = (s: string) => write.fire(`${s.replace(/\r?\n/g, '\r\n')}\r\n`);
    return {
      onDidWrite: write.event,
      onDidClose: close.event,
      open: () => {
        this.runs.run({ uri, progress: 'none', signal: controller.signal, onEvent: e => { if (e.type === 'log') line(e.text); } })
          .then(r => {
            line(vscode.l10n.t('EDD: run {0} {1}', r.run.id, r.run.status));
            close.fire(r.run.status === 'finished' ? 0 : r.run.exitCode && r.run.exitCode > 0 ? r.run.exitCode : 1);
          })
          .catch(e => {
            line(String(e instanceof Error ? e.message : e));
            close.fire(2);
          });
      },
      close: () => controller.abort(),
      handleInput: data => { if (data === '\x03') controller.abort(); },
    };
  }
}
