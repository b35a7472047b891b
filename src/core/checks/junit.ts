import { escapeControl, inert, inertLines } from '../inert';
import type { GateReport } from './types';

/**
 * XML text and attribute escaping (user strings end up in messages: column names, rule expressions). Control
 * characters are shown escaped (`\x1b`), not dropped: XML 1.0 forbids most of them even as character references,
 * and the reader should still see that they were there. Attribute values keep no line feed (a parser would turn it
 * into a space); text keeps its lines. U+FFFE, U+FFFF and lone surrogates are not XML characters either.
 */
function esc(s: string, keepLines = false): string {
  return (keepLines ? inertLines(s) : inert(s))
    .replace(/[\ufffe\uffff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, escapeControl)
    .replace(/[<>&"']/g, c => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/**
 * The gate report as JUnit XML: one test suite, one test case per check, so CI systems list every check. `fail`
 * becomes a <failure>, `error` an <error>, `warn` a passing case with the warning in <system-out>.
 */
export function gateJUnit(report: GateReport): string {
  const failures = report.checks.filter(c => c.status === 'fail').length;
  const errors = report.checks.filter(c => c.status === 'error').length;
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="edd gate" tests="${report.checks.length}" failures="${failures}" errors="${errors}" time="${(report.durationMs / 1000).toFixed(3)}">`,
    `  <testsuite name="${esc(`edd gate ${report.policy}`)}" tests="${report.checks.length}" failures="${failures}" errors="${errors}" skipped="0" time="${(report.durationMs / 1000).toFixed(3)}" timestamp="${esc(report.startedAt)}">`,
  ];
  for (const c of report.checks) {
    const details = JSON.stringify({ measured: c.measured, threshold: c.threshold, evidence: c.evidence }, null, 2);
    lines.push(`    <testcase classname="edd.gate.${esc(c.kind)}" name="${esc(`${c.id} ${c.title}`)}" time="${(c.durationMs / 1000).toFixed(3)}">`);
    if (c.status === 'fail') lines.push(`      <failure message="${esc(c.message)}" type="${esc(c.kind)}">${esc(details, true)}</failure>`);
    else if (c.status === 'error') lines.push(`      <error message="${esc(c.message)}" type="${esc(c.kind)}">${esc(details, true)}</error>`);
    lines.push(`      <system-out>${esc(`${c.status}: ${c.message}\n${details}`, true)}</system-out>`);
    lines.push('    </testcase>');
  }
  lines.push('  </testsuite>', '</testsuites>', '');
  return lines.join('\n');
}
