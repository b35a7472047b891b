// Reads two things from an index file (the head) without SQLite: its schema version (`PRAGMA user_version`, in the
// file's header) and the rows of its `meta` table (key → value). `edd run` appends a short run to the operation log
// without starting sql.js (quickStore.ts), and needs just these: which log continues the head (`log_id`) and the
// generation to count from. The reader follows the SQLite file format (https://www.sqlite.org/fileformat2.html) for
// what such a file holds — table b-trees, records, UTF-8 text — and answers `undefined` for anything else (another
// encoding, a value spilling into overflow pages, a page it cannot place): the caller then opens the store with
// SQLite as always. It never guesses.

export interface HeadMeta {
  userVersion: number;
  meta: Map<string, string>;
}

const MAGIC = 'SQLite format 3\0';
const LEAF_TABLE = 0x0d;
const INTERIOR_TABLE = 0x05;
/** More pages than this in one walk is a loop in a damaged file, not a `meta` table. */
const MAX_PAGES = 10_000;

class Unreadable extends Error {}

function fail(): never {
  throw new Unreadable();
}

/** The schema version and `meta` rows of the SQLite file `bytes`, or undefined when the file is not one this reads. */
export function readHeadMeta(bytes: Uint8Array): HeadMeta | undefined {
  try {
    return read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (e) {
    if (e instanceof Unreadable || e instanceof RangeError) return undefined;
    throw e;
  }
}

function read(file: Buffer): HeadMeta {
  if (file.length < 100 || file.toString('latin1', 0, 16) !== MAGIC) fail();
  const rawSize = file.readUInt16BE(16);
  const pageSize = rawSize === 1 ? 65536 : rawSize;
  if (pageSize < 512 || (pageSize & (pageSize - 1)) !== 0) fail();
  const usable = pageSize - file[20];
  if (file.readUInt32BE(56) !== 1) fail(); // text encoding: UTF-8 only
  const userVersion = file.readInt32BE(60);
  const pages = Math.floor(file.length / pageSize);

  // sqlite_master (page 1): type, name, tbl_name, rootpage, sql
  let metaRoot: number | undefined;
  walkTable(file, pageSize, usable, pages, 1, values => {
    if (values[0] === 'table' && values[1] === 'meta') {
      if (typeof values[3] !== 'number') fail();
      metaRoot = values[3];
    }
  }, 4);
  if (metaRoot === undefined) fail();
  const meta = new Map<string, string>();
  walkTable(file, pageSize, usable, pages, metaRoot, values => {
    if (typeof values[0] === 'string' && typeof values[1] === 'string') meta.set(values[0], values[1]);
  }, 2);
  return { userVersion, meta };
}

type Value = string | number | null | Uint8Array;

/** Calls `row` with the first `columns` values of every row of the table b-tree rooted at `root`, in key order. */
function walkTable(file: Buffer, pageSize: number, usable: number, pages: number, root: number, row: (values: Value[]) => void, columns: number): void {
  const stack = [root];
  let visited = 0;
  while (stack.length) {
    const page = stack.pop()!;
    if (page < 1 || page > pages || ++visited > MAX_PAGES) fail();
    const base = (page - 1) * pageSize;
    const at = page === 1 ? base + 100 : base;
    const type = file[at];
    const cells = file.readUInt16BE(at + 3);
    if (type === INTERIOR_TABLE) {
      const children: number[] = [];
      for (let i = 0; i < cells; i++) children.push(file.readUInt32BE(base + file.readUInt16BE(at + 12 + 2 * i)));
      children.push(file.readUInt32BE(at + 8)); // the right-most child
      for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]); // first child on top: key order
    } else if (type === LEAF_TABLE) {
      for (let i = 0; i < cells; i++) {
        let p = base + file.readUInt16BE(at + 8 + 2 * i);
        const [payload, n1] = varint(file, p);
        p += n1;
        const [, n2] = varint(file, p); // rowid
        p += n2;
        // The part of the payload on this page (the rest, if any, is on overflow pages, which are not read: a value
        // that reaches into them fails; a `meta` row and the first columns of a sqlite_master row are short).
        let local = payload;
        if (payload > usable - 35) {
          const min = Math.floor(((usable - 12) * 32) / 255) - 23;
          const k = min + ((payload - min) % (usable - 4));
          local = k <= usable - 35 ? k : min;
        }
        row(record(file, p, local, columns));
      }
    } else {
      fail();
    }
  }
}

/** The first `columns` values of the record at `p`, of which `local` bytes are on the page. */
function record(file: Buffer, p: number, local: number, columns: number): Value[] {
  const [headerSize, n] = varint(file, p);
  if (headerSize > local) fail();
  let h = p + n;
  let body = p + headerSize;
  const values: Value[] = [];
  while (h < p + headerSize && values.length < columns) {
    const [type, m] = varint(file, h);
    h += m;
    const size = serialSize(type);
    if (body + size > p + local) fail();
    values.push(serialValue(file, body, type, size));
    body += size;
  }
  return values;
}

function serialSize(type: number): number {
  if (type >= 12) return Math.floor((type - 12) / 2);
  return [0, 1, 2, 3, 4, 6, 8, 8, 0, 0, -1, -1][type] ?? fail();
}

function serialValue(file: Buffer, at: number, type: number, size: number): Value {
  switch (type) {
    case 0: return null;
    case 1: return file.readInt8(at);
    case 2: return file.readInt16BE(at);
    case 3: return file.readIntBE(at, 3);
    case 4: return file.readInt32BE(at);
    case 5: return file.readIntBE(at, 6);
    case 6: {
      const v = file.readBigInt64BE(at);
      if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) fail();
      return Number(v);
    }
    case 7: return file.readDoubleBE(at);
    case 8: return 0;
    case 9: return 1;
    default:
      if (type < 12) fail();
      return type % 2 === 1 ? file.toString('utf8', at, at + size) : new Uint8Array(file.subarray(at, at + size));
  }
}

/** A SQLite varint at `p`: its value and its length in bytes. */
function varint(file: Buffer, p: number): [number, number] {
  let v = 0;
  for (let i = 0; i < 8; i++) {
    const b = file[p + i];
    if (b === undefined) fail();
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) return [v, i + 1];
  }
  const last = file[p + 8];
  if (last === undefined) fail();
  return [v * 256 + last, 9];
}
