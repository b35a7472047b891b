import * as vscode from 'vscode';

/**
 * Which question a multi-step command is asking now (a quick pick, an input box). The commands' own flow does not
 * need it; tests do: they answer a quick input only once it was asked, and `onDidChange` tells them when.
 */
export class QuestionSteps<Step extends string> implements vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Step | undefined>();
  /** Fires with the step asked, and with undefined when it was answered or dismissed. */
  readonly onDidChange = this.changed.event;
  current: Step | undefined;

  /** Awaits `question` as step `step`. */
  ask<T>(step: Step, question: Thenable<T>): Promise<T> {
    this.current = step;
    this.changed.fire(step);
    return Promise.resolve(question).finally(() => {
      if (this.current === step) {
        this.current = undefined;
        this.changed.fire(undefined);
      }
    });
  }

  dispose(): void {
    this.changed.dispose();
  }
}
