// Shared by the config tests: the fixture configs, what a problem underlines, and applying quick-fix edits.
import * as fs from 'fs';
import * as path from 'path';
import type { Problem, TextEdit } from '../../src/core/config';

export const fixtures = path.resolve(__dirname, '../../../test/fixtures/configs');

/** The text of a fixture config in test/fixtures/configs. */
export const fixture = (name: string): string => fs.readFileSync(path.join(fixtures, name), 'utf8');

/** The text a problem (or any offset/length range) underlines. */
export const site = (text: string, p: { offset: number; length: number }): string => text.slice(p.offset, p.offset + p.length);

export const codes = (problems: Problem[]): string[] => problems.map(p => p.code);

/** Applies non-overlapping edits, last first, as the editor does. */
export const applyEdits = (text: string, edits: TextEdit[]): string =>
  [...edits].sort((a, b) => b.offset - a.offset).reduce((s, e) => s.slice(0, e.offset) + e.newText + s.slice(e.offset + e.length), text);
