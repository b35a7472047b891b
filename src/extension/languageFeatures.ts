import * as vscode from 'vscode';
import { completeAt, hoverAt, type Problem } from '../core/config';
import { Disposable } from './dispose';
import { DIAGNOSTIC_SOURCE } from './ids';
import { problemRange, schemaFor, type ValidationService } from './validation';

const selector: vscode.DocumentSelector = [{ language: 'yaml' }, { pattern: '**/*.{yaml,yml}' }];

/** Completion, hover and quick fixes for experiment configs, policies and data schemas, computed by the core from their schema. */
export class LanguageFeatures extends Disposable {
  constructor(private readonly validation: ValidationService) {
    super();
    this.track(vscode.languages.registerCompletionItemProvider(selector, { provideCompletionItems: (d, p) => this.complete(d, p) }, ':', ' '));
    this.track(vscode.languages.registerHoverProvider(selector, { provideHover: (d, p) => this.hover(d, p) }));
    this.track(vscode.languages.registerCodeActionsProvider(selector, { provideCodeActions: (d, r, c) => this.codeActions(d, r, c) }, {
      providedCodeActionKinds: [vscode.CodeActionKind.QuickFix],
    }));
  }

  private complete(doc: vscode.TextDocument, pos: vscode.Position): vscode.CompletionItem[] | undefined {
    const kind = this.validation.kindOf(doc);
    if (!kind) return undefined;
    const entries = completeAt(doc.getText(), doc.offsetAt(pos), schemaFor(kind));
    return entries.map((e, i) => {
      const item = new vscode.CompletionItem(e.label, e.kind === 'property' ? vscode.CompletionItemKind.Property : vscode.CompletionItemKind.Value);
      item.insertText = e.snippet ? new vscode.SnippetString(e.insertText) : e.insertText;
      item.detail = e.detail;
      if (e.documentation) item.documentation = new vscode.MarkdownString(e.documentation);
      item.range = new vscode.Range(pos.translate(0, -Math.min(e.replaceLength, pos.character)), pos);
      item.preselect = e.preselect;
      item.sortText = `${e.preselect ? 0 : 1}${String(i).padStart(3, '0')}`;
      return item;
    });
  }

  private hover(doc: vscode.TextDocument, pos: vscode.Position): vscode.Hover | undefined {
    const kind = this.validation.kindOf(doc);
    if (!kind) return undefined;
    const h = hoverAt(doc.getText(), doc.offsetAt(pos), schemaFor(kind));
    if (!h) return undefined;
    return new vscode.Hover(new vscode.MarkdownString(h.contents), new vscode.Range(doc.positionAt(h.offset), doc.positionAt(h.offset + h.length)));
  }

  private codeActions(doc: vscode.TextDocument, range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    // Fixes carry offsets into the validated text: they must come from exactly the text the editor shows.
    const state = this.validation.freshState(doc);
    if (!state) return [];
    const lines = state.lines;
    const actions: vscode.CodeAction[] = [];
    for (const p of state.problems) {
      if (!p.fixes?.length) continue;
      const r = problemRange(p, lines);
      if (!r.intersection(range) && !r.contains(range)) continue;
      const diagnostic = context.diagnostics.find(d => d.source === DIAGNOSTIC_SOURCE && String(codeOf(d)) === p.code && d.range.isEqual(r));
      for (const fix of p.fixes) actions.push(toAction(doc, p, fix, diagnostic));
    }
    return actions;
  }
}

function codeOf(d: vscode.Diagnostic): string | number | undefined {
  return typeof d.code === 'object' ? d.code.value : d.code;
}

function toAction(doc: vscode.TextDocument, _p: Problem, fix: NonNullable<Problem['fixes']>[number], diagnostic?: vscode.Diagnostic): vscode.CodeAction {
  const action = new vscode.CodeAction(fix.title, vscode.CodeActionKind.QuickFix);
  const edit = new vscode.WorkspaceEdit();
  for (const e of fix.edits) edit.replace(doc.uri, new vscode.Range(doc.positionAt(e.offset), doc.positionAt(e.offset + e.length)), e.newText);
  action.edit = edit;
  action.isPreferred = fix.preferred;
  if (diagnostic) action.diagnostics = [diagnostic];
  return action;
}
