import * as assert from 'assert';
import { inert, inertLines, markdownCell } from '../../src/core/inert';

describe('inert: user text made safe to print', () => {
  it('shows every C0, DEL, C1, separator and bidi control escaped, and leaves the rest alone', () => {
    assert.strictEqual(inert('a\x1b[2Jb\x1b]0;t\x07\n\r\t\b\x00\x7f\x85\x9b\u2028\u2029\u202a\u202e\u2066\u2069'),
      'a\\x1b[2Jb\\x1b]0;t\\x07\\n\\r\\t\\x08\\x00\\x7f\\x85\\x9b\\u2028\\u2029\\u202a\\u202e\\u2066\\u2069');
    assert.strictEqual(inert('C:\\runs\\été ✓ 한국어 <b>|'), 'C:\\runs\\été ✓ 한국어 <b>|');
    assert.strictEqual(inertLines('one\x1b[1m\ntwo\r'), 'one\\x1b[1m\ntwo\\r');
  });

  it('makes a Markdown cell show exactly its text: HTML, pipes, code, links and emphasis escaped, val_loss kept', () => {
    assert.strictEqual(markdownCell('<img src=x onerror=alert(1)>&'), '&lt;img src=x onerror=alert(1)&gt;&amp;');
    assert.strictEqual(markdownCell('a|b\nc'), 'a\\|b\\\\nc');
    assert.strictEqual(markdownCell('![x](http://t/) `code` *em* ~~s~~ \\'), '!\\[x\\](http://t/) \\`code\\` \\*em\\* \\~\\~s\\~\\~ \\\\');
    assert.strictEqual(markdownCell('val_loss _em_ x_'), 'val_loss \\_em\\_ x\\_');
  });
});
