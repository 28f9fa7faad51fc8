// A readable diff between two stored cluster configurations (the portal shows it between any two
// versions). Both are first put into a canonical form with one element or attribute per line
// (Pacemaker CIB XML; a Windows backup manifest is JSON, pretty-printed with sorted keys), so a
// changed attribute shows as one changed line, then compared line by line (Myers' shortest edit
// script, i.e. a longest common subsequence) and grouped into hunks with context.

export type DiffFormat = 'xml' | 'json' | 'text';

export interface DiffLine {
  op: ' ' | '-' | '+';
  text: string;
  /** 1-based line in the canonical old text (null for an added line). */
  oldLine: number | null;
  /** 1-based line in the canonical new text (null for a removed line). */
  newLine: number | null;
}

export interface DiffHunk {
  oldStart: number;
  oldLines: number;
  newStart: number;
  newLines: number;
  lines: DiffLine[];
}

export interface ClusterConfigDiff {
  format: DiffFormat;
  identical: boolean;
  added: number;
  removed: number;
  hunks: DiffHunk[];
  /** The texts differed too much to compare line by line: one hunk replaces everything. */
  tooLarge: boolean;
}

interface XmlElement {
  tag: string;
  attrs: [string, string][];
  children: (XmlElement | string)[];
}

/** A forgiving parse of XML into elements and text (no entities decoded; a stray close tag is ignored). */
function parseXml(text: string): XmlElement {
  const root: XmlElement = { tag: '', attrs: [], children: [] };
  const stack: XmlElement[] = [root];
  const top = () => stack[stack.length - 1]!;
  let i = 0;
  while (i < text.length) {
    const lt = text.indexOf('<', i);
    const chunk = (lt === -1 ? text.slice(i) : text.slice(i, lt)).trim();
    if (chunk) top().children.push(chunk.replace(/\s+/g, ' '));
    if (lt === -1) break;
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      const body = text.slice(lt + 4, end === -1 ? text.length : end).trim();
      top().children.push(`<!-- ${body.replace(/\s+/g, ' ')} -->`);
      i = end === -1 ? text.length : end + 3;
      continue;
    }
    if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9);
      const body = text.slice(lt + 9, end === -1 ? text.length : end).trim();
      if (body) top().children.push(body.replace(/\s+/g, ' '));
      i = end === -1 ? text.length : end + 3;
      continue;
    }
    if (text.startsWith('<?', lt) || text.startsWith('<!', lt)) {
      const end = text.indexOf('>', lt);
      i = end === -1 ? text.length : end + 1;
      continue;
    }
    // A tag ends at the first '>' outside quotes.
    let j = lt + 1;
    let quote: string | null = null;
    for (; j < text.length; j++) {
      const c = text[j]!;
      if (quote) {
        if (c === quote) quote = null;
      } else if (c === '"' || c === "'") quote = c;
      else if (c === '>') break;
    }
    const inner = text.slice(lt + 1, j);
    i = j + 1;
    if (inner.startsWith('/')) {
      const name = inner.slice(1).trim();
      const at = stack.map((e) => e.tag).lastIndexOf(name);
      if (at > 0) stack.length = at;
      continue;
    }
    const selfClosing = inner.endsWith('/');
    const body = selfClosing ? inner.slice(0, -1) : inner;
    const tag = /^\S+/.exec(body)?.[0] ?? '';
    const attrs: [string, string][] = [];
    for (const m of body.slice(tag.length).matchAll(/([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
      attrs.push([m[1]!, (m[2] ?? m[3] ?? '').replace(/"/g, '&quot;')]);
    }
    const el: XmlElement = { tag, attrs, children: [] };
    top().children.push(el);
    if (!selfClosing) stack.push(el);
  }
  return root;
}

/** id first (it names the element), then the rest by name: attribute order carries no meaning. */
const attrOrder = (a: [string, string], b: [string, string]) => (a[0] === 'id' ? -1 : b[0] === 'id' ? 1 : a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

function xmlLines(el: XmlElement, depth: number, out: string[]) {
  const pad = '  '.repeat(depth);
  const attrs = [...el.attrs].sort(attrOrder);
  const id = attrs[0]?.[0] === 'id' ? attrs.shift()! : null;
  const head = `<${el.tag}${id ? ` id="${id[1]}"` : ''}`;
  if (attrs.length === 0 && el.children.length === 0) {
    out.push(`${pad}${head}/>`);
    return;
  }
  out.push(`${pad}${head}>`);
  for (const [name, value] of attrs) out.push(`${pad}  ${name}="${value}"`);
  for (const c of el.children) {
    if (typeof c === 'string') out.push(`${pad}  ${c}`);
    else xmlLines(c, depth + 1, out);
  }
  out.push(`${pad}</${el.tag}>`);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]));
  return v;
}

/** The canonical lines of a configuration, and which form it was read as. */
export function canonicalClusterConfig(text: string): { format: DiffFormat; lines: string[] } {
  const t = text.trim();
  if (t.startsWith('<')) {
    const out: string[] = [];
    for (const c of parseXml(t).children) {
      if (typeof c === 'string') out.push(c);
      else xmlLines(c, 0, out);
    }
    return { format: 'xml', lines: out };
  }
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      return { format: 'json', lines: JSON.stringify(sortKeys(JSON.parse(t)), null, 2).split('\n') };
    } catch {
      // Not JSON after all: compared as text.
    }
  }
  return { format: 'text', lines: t === '' ? [] : t.split(/\r?\n/).map((l) => l.trimEnd()) };
}

type Edit = { op: ' ' | '-' | '+'; a: number; b: number };

/** Beyond this many differing lines the comparison gives up (the texts are unrelated). */
const MAX_EDIT_DISTANCE = 20_000;

/** Myers' O((N+M)D) shortest edit script; null when the distance exceeds the limit. */
function editScript(a: readonly string[], b: readonly string[]): Edit[] | null {
  const n = a.length;
  const m = b.length;
  const max = Math.min(n + m, MAX_EDIT_DISTANCE);
  // v[k] = the furthest x on diagonal k; trace[d] keeps v for k in [-d-1, d+1] as it was before round d.
  let v = new Map<number, number>([[1, 0]]);
  const trace: Int32Array[] = [];
  const get = (map: Map<number, number>, k: number) => map.get(k) ?? -1;
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    const snap = new Int32Array(2 * d + 3);
    for (let k = -d - 1; k <= d + 1; k++) snap[k + d + 1] = get(v, k);
    trace.push(snap);
    const next = new Map(v);
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && get(v, k - 1) < get(v, k + 1)) ? get(v, k + 1) : get(v, k - 1) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      next.set(k, x);
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
    v = next;
  }
  if (!found) return null;
  const edits: Edit[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const snap = trace[d]!;
    const at = (k: number) => snap[k + d + 1]!;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = d === 0 ? 0 : at(prevK);
    const prevY = d === 0 ? 0 : prevX - prevK;
    while (x > prevX && y > prevY) {
      edits.push({ op: ' ', a: x - 1, b: y - 1 });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) edits.push({ op: '+', a: x, b: y - 1 });
      else edits.push({ op: '-', a: x - 1, b: y });
    }
    x = prevX;
    y = prevY;
  }
  return edits.reverse();
}

/** Differences between two configurations (a: the older, b: the newer), in hunks with `context` unchanged lines around each change. */
export function diffClusterConfig(a: string, b: string, context = 3): ClusterConfigDiff {
  const left = canonicalClusterConfig(a);
  const right = canonicalClusterConfig(b);
  const format = left.format === right.format ? left.format : 'text';
  const A = left.lines;
  const B = right.lines;
  let edits = editScript(A, B);
  const tooLarge = edits === null;
  edits ??= [...A.map((_, i) => ({ op: '-' as const, a: i, b: 0 })), ...B.map((_, i) => ({ op: '+' as const, a: A.length, b: i }))];
  const lines: DiffLine[] = edits.map((e) =>
    e.op === ' '
      ? { op: ' ', text: A[e.a]!, oldLine: e.a + 1, newLine: e.b + 1 }
      : e.op === '-'
        ? { op: '-', text: A[e.a]!, oldLine: e.a + 1, newLine: null }
        : { op: '+', text: B[e.b]!, oldLine: null, newLine: e.b + 1 },
  );
  const added = lines.filter((l) => l.op === '+').length;
  const removed = lines.filter((l) => l.op === '-').length;

  // Changed lines with their context, merged where the context overlaps.
  const hunks: DiffHunk[] = [];
  const changed = lines.flatMap((l, i) => (l.op === ' ' ? [] : [i]));
  let start = -1;
  let end = -1;
  const flush = () => {
    if (start < 0) return;
    const part = lines.slice(start, end + 1);
    // Where the hunk starts in each text: its first line there, or (none) the line after the one before it.
    const firstOld = part.find((l) => l.oldLine !== null)?.oldLine ?? (lines.slice(0, start).reverse().find((l) => l.oldLine !== null)?.oldLine ?? 0) + 1;
    const firstNew = part.find((l) => l.newLine !== null)?.newLine ?? (lines.slice(0, start).reverse().find((l) => l.newLine !== null)?.newLine ?? 0) + 1;
    const oldLines = part.filter((l) => l.op !== '+').length;
    const newLines = part.filter((l) => l.op !== '-').length;
    hunks.push({ oldStart: oldLines ? firstOld : firstOld - 1, oldLines, newStart: newLines ? firstNew : firstNew - 1, newLines, lines: part });
  };
  for (const i of changed) {
    const from = Math.max(0, i - context);
    const to = Math.min(lines.length - 1, i + context);
    if (start >= 0 && from <= end + 1) end = Math.max(end, to);
    else {
      flush();
      start = from;
      end = to;
    }
  }
  flush();
  return { format, identical: added === 0 && removed === 0, added, removed, hunks, tooLarge };
}
