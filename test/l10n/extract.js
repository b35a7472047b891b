#!/usr/bin/env node
// Finds every localised runtime string in src/**/*.ts and checks the Korean bundle against it.
//
//   node test/l10n/extract.js             list the strings, then report what l10n/bundle.l10n.ko.json lacks
//   node test/l10n/extract.js --write     also (re)write l10n/bundle.l10n.json, the English source bundle
//   node test/l10n/extract.js --prune     also remove unused keys from l10n/bundle.l10n.ko.json (and re-sort it)
//   node test/l10n/extract.js --quiet     skip the list of strings; print only problems and the summary
//   node test/l10n/extract.js --json      print the whole result as JSON (for scripts)
//
// Localised strings are the first argument of `t('…')` (imported from src/core/l10n), `l10n.t('…')` and
// `vscode.l10n.t('…')`. The first argument must be a string literal or a template without substitutions: anything
// else cannot be looked up in a bundle and is reported as an error. `vscode.l10n.t({ message, comment })` is
// understood too; its key is `message/comment`, as `@vscode/l10n-dev` makes it.
//
// Exit code: 0 when everything is translated and consistent; 1 when a call is not extractable, a translation is
// missing, unused or inconsistent (placeholders, backtick spans, surrounding whitespace), or l10n/bundle.l10n.json
// is out of date (run with --write).
'use strict';

const fs = require('fs');
const path = require('path');
const ts = require('typescript');

const REPO_ROOT = path.resolve(__dirname, '..', '..');
const SOURCE_BUNDLE = 'l10n/bundle.l10n.json';
const KO_BUNDLE = 'l10n/bundle.l10n.ko.json';

/** Module specifiers whose `t` / `l10n` exports are message lookups. */
const L10N_MODULE = /(^|\/)l10n$|^@vscode\/l10n$/;

function listTsFiles(dir) {
  const out = [];
  const walk = d => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules') walk(p);
      } else if (/\.tsx?$/.test(entry.name) && !entry.name.endsWith('.d.ts')) {
        out.push(p);
      }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort();
}

/** Local names under which a file can reach the lookup function. */
function l10nBindings(sf) {
  const tNames = new Set(); // t(...)
  const objectNames = new Set(['l10n']); // l10n.t(...)
  const namespaceNames = new Set(); // ns.t(...) for `import * as ns from './l10n'`
  for (const stmt of sf.statements) {
    if (!ts.isImportDeclaration(stmt) || !ts.isStringLiteral(stmt.moduleSpecifier) || !stmt.importClause) continue;
    const from = stmt.moduleSpecifier.text;
    const bindings = stmt.importClause.namedBindings;
    if (from === 'vscode') {
      if (bindings && ts.isNamedImports(bindings)) {
        for (const s of bindings.elements) if ((s.propertyName ?? s.name).text === 'l10n') objectNames.add(s.name.text);
      }
      continue;
    }
    if (!L10N_MODULE.test(from) || !bindings) continue;
    if (ts.isNamespaceImport(bindings)) {
      namespaceNames.add(bindings.name.text);
    } else {
      for (const s of bindings.elements) {
        const imported = (s.propertyName ?? s.name).text;
        if (imported === 't') tNames.add(s.name.text);
        else if (imported === 'l10n') objectNames.add(s.name.text);
      }
    }
  }
  return { tNames, objectNames, namespaceNames };
}

/** Is `call` a message lookup: `t(…)`, `l10n.t(…)`, `vscode.l10n.t(…)`, `ns.t(…)`? */
function isLookup(call, b) {
  const callee = call.expression;
  if (ts.isIdentifier(callee)) return b.tNames.has(callee.text);
  if (!ts.isPropertyAccessExpression(callee) || callee.name.text !== 't') return false;
  const obj = callee.expression;
  if (ts.isIdentifier(obj)) return b.objectNames.has(obj.text) || b.namespaceNames.has(obj.text);
  return ts.isPropertyAccessExpression(obj) && obj.name.text === 'l10n' && ts.isIdentifier(obj.expression);
}

function literalText(node) {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  return undefined;
}

/** The message (and translator comment) of a call's first argument, or a reason why there is none. */
function messageOf(call) {
  const arg = call.arguments[0];
  if (!arg) return { reason: 'no argument' };
  const text = literalText(arg);
  if (text !== undefined) return { message: text };
  if (ts.isObjectLiteralExpression(arg)) {
    let message;
    let comment;
    for (const p of arg.properties) {
      if (!ts.isPropertyAssignment(p) || !p.name || !ts.isIdentifier(p.name)) continue;
      if (p.name.text === 'message') message = literalText(p.initializer);
      if (p.name.text === 'comment') {
        const c = literalText(p.initializer);
        if (c !== undefined) comment = [c];
        else if (ts.isArrayLiteralExpression(p.initializer)) comment = p.initializer.elements.map(literalText).filter(s => s !== undefined);
      }
    }
    if (message !== undefined) return { message, comment: comment && comment.length ? comment : undefined };
    return { reason: '`message` is not a string literal' };
  }
  if (ts.isTemplateExpression(arg)) return { reason: 'template literal with ${…} substitutions: write {0}, {1}… and pass the values as arguments' };
  if (ts.isBinaryExpression(arg) && arg.operatorToken.kind === ts.SyntaxKind.PlusToken) return { reason: 'string concatenation: write one literal with {0}, {1}… placeholders' };
  return { reason: 'not a string literal' };
}

/** Walk up through parentheses and `?:` to where the value of `node` is used. */
function usageOf(node) {
  let n = node;
  while (n.parent && (ts.isParenthesizedExpression(n.parent) || (ts.isConditionalExpression(n.parent) && n.parent.condition !== n)
    || (ts.isBinaryExpression(n.parent) && [ts.SyntaxKind.QuestionQuestionToken, ts.SyntaxKind.BarBarToken].includes(n.parent.operatorToken.kind)))) {
    n = n.parent;
  }
  return n;
}

/** `{0}`, `{1}`, `{name}` placeholders of a message, sorted and without repeats. */
function placeholders(message) {
  return [...new Set(message.match(/\{\w+\}/g) ?? [])].sort();
}

/** Backtick-quoted spans of a message (`experiment.id`, `# edd: experiment`, …), sorted, with repeats. */
function backtickSpans(message) {
  return (message.match(/`[^`\n]*`/g) ?? []).sort();
}

/** `--flag` options named in a message: they are typed by the user and must survive translation. */
function optionTokens(message) {
  return [...new Set(message.match(/(?<![\w-])--[a-z][\w-]*/g) ?? [])].sort();
}

function edgeWhitespace(s) {
  return [/^\s*/.exec(s)[0], /\s*$/.exec(s)[0]];
}

/**
 * Extract every localised string from the TypeScript files under `srcDir`.
 * @returns {{
 *   strings: Map<string, { message: string, comment?: string[], occurrences: Array<{ file: string, line: number, column: number }> }>,
 *   errors: Array<{ file: string, line: number, column: number, message: string, code: string }>,
 *   warnings: Array<{ file: string, line: number, column: number, message: string, code: string, key?: string }>,
 *   files: string[],
 * }}
 */
function extract({ root = REPO_ROOT, srcDirs = ['src', 'webview'] } = {}) {
  const strings = new Map();
  const errors = [];
  const warnings = [];
  // src/ (extension, core, CLI) and webview/ (panels read the same bundle, passed in by their host)
  const files = srcDirs.flatMap(d => listTsFiles(path.join(root, d)));
  for (const abs of files) {
    const file = path.relative(root, abs).split(path.sep).join('/');
    const sf = ts.createSourceFile(abs, fs.readFileSync(abs, 'utf8'), ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
    const bindings = l10nBindings(sf);
    const where = node => {
      const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
      return { file, line: line + 1, column: character + 1 };
    };
    const visit = node => {
      if (ts.isTaggedTemplateExpression(node) && ts.isIdentifier(node.tag) && bindings.tNames.has(node.tag.text)) {
        errors.push({ ...where(node), code: 'not-a-literal', message: 't`…` as a tagged template is not supported: call t(\'…\', args)' });
      }
      if (ts.isCallExpression(node) && isLookup(node, bindings)) {
        const { message, comment, reason } = messageOf(node);
        if (message === undefined) {
          const arg = node.arguments[0];
          errors.push({ ...where(node), code: 'not-a-literal', message: `${reason}: ${node.expression.getText(sf)}(${arg ? arg.getText(sf) : ''}) cannot be translated` });
        } else {
          const key = comment ? `${message}/${comment.join('')}` : message;
          const at = where(node);
          const entry = strings.get(key) ?? { message, comment, occurrences: [] };
          entry.occurrences.push(at);
          strings.set(key, entry);
          checkCall(node, message, key, at, sf, bindings, warnings);
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return { strings, errors, warnings, files: files.map(f => path.relative(root, f).split(path.sep).join('/')) };
}

/** Warnings about one call: arguments that do not match the placeholders, fragments glued into other text. */
function checkCall(call, message, key, at, sf, bindings, warnings) {
  const args = call.arguments.slice(1);
  // Arguments can be checked only when they are listed: not with `...spread`, `{ message, args }` or named `{ key: value }`.
  const listed = !ts.isObjectLiteralExpression(call.arguments[0]) && !args.some(a => ts.isSpreadElement(a))
    && !(args.length === 1 && ts.isObjectLiteralExpression(args[0]));
  if (listed) {
    const used = placeholders(message).filter(p => /^\{\d+\}$/.test(p)).map(p => Number(p.slice(1, -1)));
    for (const i of used) if (i >= args.length) warnings.push({ ...at, key, code: 'placeholder-without-argument', message: `{${i}} has no argument (the call passes ${args.length})` });
    for (let i = 0; i < args.length; i++) if (!used.includes(i)) warnings.push({ ...at, key, code: 'argument-not-used', message: `argument ${i + 1} (${args[i].getText(sf)}) fills no placeholder {${i}}` });
  }
  const [lead, trail] = edgeWhitespace(message);
  if (lead || trail) warnings.push({ ...at, key, code: 'edge-whitespace', message: 'leading/trailing whitespace is part of the key: layout belongs in the code, not in the message' });
  const use = usageOf(call);
  const parent = use.parent;
  if (parent && ts.isTemplateSpan(parent)) {
    warnings.push({ ...at, key, code: 'concatenated', message: 'translated text is spliced into a template literal: the word order around it cannot be translated; put the whole sentence in one message' });
  } else if (parent && ts.isBinaryExpression(parent) && parent.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    warnings.push({ ...at, key, code: 'concatenated', message: 'translated text is concatenated with +: put the whole sentence in one message' });
  } else if (parent && ts.isCallExpression(parent) && parent.arguments.indexOf(use) > 0 && isLookup(parent, bindings)) {
    warnings.push({ ...at, key, code: 'fragment', message: 'fragment filled into a placeholder of another message: its translation must fit the outer sentence' });
  }
}

/** The English source bundle, as `@vscode/l10n-dev export` writes it: keys sorted, English → English. */
function sourceBundle(strings) {
  const out = {};
  for (const key of [...strings.keys()].sort()) {
    const { message, comment } = strings.get(key);
    out[key] = comment ? { message, comment } : message;
  }
  return out;
}

/** Problems of one translation against its English source; empty when it is fine. */
function translationProblems(english, translated) {
  const problems = [];
  if (typeof translated !== 'string') return ['the translation is not a string'];
  if (!translated.trim() && english.trim()) return ['the translation is empty'];
  const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);
  const ep = placeholders(english);
  const tp = placeholders(translated);
  if (!same(ep, tp)) problems.push(`placeholders differ: English has [${ep.join(' ')}], translation has [${tp.join(' ')}]`);
  const eb = backtickSpans(english);
  const tb = backtickSpans(translated);
  if (!same(eb, tb)) problems.push(`backtick spans differ: English has [${eb.join(' ')}], translation has [${tb.join(' ')}]`);
  const eo = optionTokens(english);
  const missingOptions = eo.filter(o => !translated.includes(o));
  if (missingOptions.length) problems.push(`command-line options missing: ${missingOptions.join(' ')}`);
  const [el, et] = edgeWhitespace(english);
  const [tl, tt] = edgeWhitespace(translated);
  if (el !== tl || et !== tt) problems.push(`leading/trailing whitespace differs: English ${JSON.stringify(el)}…${JSON.stringify(et)}, translation ${JSON.stringify(tl)}…${JSON.stringify(tt)}`);
  return problems;
}

/**
 * Compare a translated bundle with the extracted strings.
 * @param {Map<string, { message: string }>} strings
 * @param {Record<string, unknown>} translations
 */
function compareBundle(strings, translations) {
  const missing = [...strings.keys()].filter(k => !Object.prototype.hasOwnProperty.call(translations, k)).sort();
  const unused = Object.keys(translations).filter(k => !strings.has(k)).sort();
  const inconsistent = [];
  for (const [key, { message }] of strings) {
    if (!Object.prototype.hasOwnProperty.call(translations, key)) continue;
    const problems = translationProblems(message, translations[key]);
    if (problems.length) inconsistent.push({ key, problems });
  }
  inconsistent.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { missing, unused, inconsistent };
}

/** JSON text of a bundle: keys sorted (by UTF-16 code unit, like l10n-dev), 2-space indent, trailing newline. */
function formatBundle(bundle) {
  const sorted = {};
  for (const k of Object.keys(bundle).sort()) sorted[k] = bundle[k];
  return JSON.stringify(sorted, null, 2) + '\n';
}

function readJson(file, fallback) {
  if (!fs.existsSync(file)) return fallback;
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

/** Everything the CLI reports, as data: extraction, the Korean bundle's state, the source bundle's freshness. */
function analyse({ root = REPO_ROOT } = {}) {
  const result = extract({ root });
  const ko = readJson(path.join(root, KO_BUNDLE), {});
  const koText = fs.existsSync(path.join(root, KO_BUNDLE)) ? fs.readFileSync(path.join(root, KO_BUNDLE), 'utf8') : '';
  const source = sourceBundle(result.strings);
  const sourceText = formatBundle(source);
  const sourceFile = path.join(root, SOURCE_BUNDLE);
  return {
    ...result,
    ko,
    comparison: compareBundle(result.strings, ko),
    koFormatted: koText === formatBundle(ko),
    sourceBundle: source,
    sourceBundleText: sourceText,
    sourceBundleUpToDate: fs.existsSync(sourceFile) && fs.readFileSync(sourceFile, 'utf8') === sourceText,
  };
}

function main(argv) {
  const write = argv.includes('--write');
  const prune = argv.includes('--prune');
  const quiet = argv.includes('--quiet');
  const asJson = argv.includes('--json');
  const unknown = argv.filter(a => !['--write', '--prune', '--quiet', '--json'].includes(a));
  if (unknown.length) {
    console.error(`Unknown argument(s): ${unknown.join(' ')}. Use --write, --prune, --quiet or --json.`);
    return 2;
  }
  const a = analyse();
  const loc = o => `${o.file}:${o.line}:${o.column}`;
  const first = key => loc(a.strings.get(key).occurrences[0]);

  if (write && !a.sourceBundleUpToDate) {
    fs.mkdirSync(path.join(REPO_ROOT, 'l10n'), { recursive: true });
    fs.writeFileSync(path.join(REPO_ROOT, SOURCE_BUNDLE), a.sourceBundleText);
    a.sourceBundleUpToDate = true;
  }
  if (prune && (a.comparison.unused.length || !a.koFormatted)) {
    const kept = {};
    for (const [k, v] of Object.entries(a.ko)) if (a.strings.has(k)) kept[k] = v;
    fs.writeFileSync(path.join(REPO_ROOT, KO_BUNDLE), formatBundle(kept));
    a.comparison.unused = [];
    a.koFormatted = true;
  }

  const { missing, unused, inconsistent } = a.comparison;
  const failed = a.errors.length > 0 || missing.length > 0 || unused.length > 0 || inconsistent.length > 0 || !a.sourceBundleUpToDate || !a.koFormatted;

  if (asJson) {
    console.log(JSON.stringify({
      strings: Object.fromEntries([...a.strings].sort(([x], [y]) => (x < y ? -1 : 1)).map(([k, v]) => [k, v.occurrences.map(loc)])),
      errors: a.errors, warnings: a.warnings, missing, unused, inconsistent,
      sourceBundleUpToDate: a.sourceBundleUpToDate, koBundleFormatted: a.koFormatted, ok: !failed,
    }, null, 2));
    return failed ? 1 : 0;
  }

  const out = [];
  if (!quiet) {
    out.push(`Localised strings in src/ (${a.strings.size}, from ${a.files.length} files):`);
    for (const key of [...a.strings.keys()].sort()) {
      out.push(`  ${JSON.stringify(key)}`);
      for (const o of a.strings.get(key).occurrences) out.push(`      ${loc(o)}`);
    }
    out.push('');
  }
  if (a.errors.length) {
    out.push(`ERROR: ${a.errors.length} call(s) cannot be translated (the first argument must be a string literal):`);
    for (const e of a.errors) out.push(`  ${loc(e)}  ${e.message}`);
    out.push('');
  }
  if (a.warnings.length) {
    out.push(`Warnings (${a.warnings.length}): the string is extracted, but the code around it makes it hard to translate well:`);
    for (const w of a.warnings) out.push(`  ${loc(w)}  [${w.code}] ${JSON.stringify(w.key)}: ${w.message}`);
    out.push('');
  }
  if (missing.length) {
    out.push(`MISSING from ${KO_BUNDLE} (${missing.length}): add a Korean translation for each (same {0}… placeholders and \`backtick\` spans):`);
    for (const k of missing) out.push(`  ${first(k)}  ${JSON.stringify(k)}`);
    out.push('  Entries to fill in and merge into the bundle (then run `node test/l10n/extract.js --prune` to re-sort it):');
    out.push('  {');
    out.push(missing.map(k => `    ${JSON.stringify(k)}: ""`).join(',\n'));
    out.push('  }');
    out.push('');
  }
  if (unused.length) {
    out.push(`UNUSED in ${KO_BUNDLE} (${unused.length}): no source string has these keys any more (reworded or removed?). Reuse the translation for the new wording, or drop them with --prune:`);
    for (const k of unused) out.push(`  ${JSON.stringify(k)}`);
    out.push('');
  }
  if (inconsistent.length) {
    out.push(`INCONSISTENT translations in ${KO_BUNDLE} (${inconsistent.length}):`);
    for (const { key, problems } of inconsistent) {
      out.push(`  ${first(key)}  ${JSON.stringify(key)}`);
      out.push(`      ko: ${JSON.stringify(a.ko[key])}`);
      for (const p of problems) out.push(`      - ${p}`);
    }
    out.push('');
  }
  if (!a.koFormatted) out.push(`${KO_BUNDLE} is not in canonical form (sorted keys, 2-space indent, trailing newline): run with --prune to rewrite it.`);
  if (!a.sourceBundleUpToDate) out.push(`${SOURCE_BUNDLE} is out of date: run \`node test/l10n/extract.js --write\`.`);
  else if (write) out.push(`Wrote ${SOURCE_BUNDLE} (${a.strings.size} strings).`);
  const translated = a.strings.size - missing.length;
  out.push(`${failed ? 'FAILED' : 'OK'}: ${a.strings.size} strings, ${translated} translated, ${missing.length} missing, ${unused.length} unused, ${inconsistent.length} inconsistent, ${a.errors.length} untranslatable call(s), ${a.warnings.length} warning(s).`);
  console.log(out.join('\n'));
  return failed ? 1 : 0;
}

module.exports = {
  REPO_ROOT, SOURCE_BUNDLE, KO_BUNDLE,
  extract, analyse, sourceBundle, compareBundle, translationProblems, formatBundle, placeholders, backtickSpans, optionTokens,
};

if (require.main === module) process.exitCode = main(process.argv.slice(2));
