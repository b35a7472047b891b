import * as vscode from 'vscode';
import { Disposable } from './dispose';
import { Commands } from './ids';
import type { ValidationService } from './validation';

/** `$(beaker) EDD ⓧ 2 ⚠ 1`: the state of every experiment config, one click from the Problems panel. */
export class StatusBar extends Disposable {
  private readonly item = this.track(vscode.window.createStatusBarItem('edd.status', vscode.StatusBarAlignment.Left, 10));

  constructor(private readonly validation: ValidationService) {
    super();
    this.item.name = vscode.l10n.t('EDD experiment configs');
    this.item.command = Commands.showProblems;
    this.track(validation.onDidChange(() => this.update()));
    this.update();
  }

  update(): void {
    const configs = this.validation.configs;
    if (configs.length === 0) {
      this.item.hide();
      return;
    }
    let errors = 0;
    let warnings = 0;
    for (const c of configs) {
      for (const p of [...c.problems, ...c.crossFile]) {
        if (p.severity === 'error') errors++;
        else if (p.severity === 'warning') warnings++;
      }
    }
    this.item.text = errors || warnings ? `$(beaker) EDD $(error) ${errors} $(warning) ${warnings}` : '$(beaker) EDD $(check)';
    this.item.tooltip = vscode.l10n.t('{0} experiment config(s): {1} error(s), {2} warning(s). Click to open the Problems panel.', configs.length, errors, warnings);
    this.item.backgroundColor = errors ? new vscode.ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.show();
  }
}
