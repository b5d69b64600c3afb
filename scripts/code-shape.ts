// `npm run check:shape`: the house rules on size. Lists every file under src/ (and console/src)
// over 400 lines, and every function over 80 lines that has no comment right above it saying
// why it is long. Exits 1 when it lists anything.
import fs from 'node:fs';
import path from 'node:path';
import { parse } from '@babel/parser';

const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 80;
const ROOTS = ['src', 'console/src'];

type Node = { type: string; loc?: { start: { line: number }; end: { line: number } }; leadingComments?: Array<{ value: string }>; [k: string]: unknown };

function* files(dir: string): Generator<string> {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* files(p);
    else if (/\.tsx?$/.test(e.name) && !e.name.endsWith('.d.ts')) yield p;
  }
}

const FUNCTION_TYPES = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression', 'ClassMethod', 'ObjectMethod', 'ClassPrivateMethod']);

/** Walks the tree; `owner` is the statement or property that carries a function's comments. */
function walk(node: unknown, visit: (n: Node, owner: Node | undefined) => void, owner?: Node): void {
  if (Array.isArray(node)) {
    for (const n of node) walk(n, visit, owner);
    return;
  }
  if (!node || typeof node !== 'object' || typeof (node as Node).type !== 'string') return;
  const n = node as Node;
  const carries = n.leadingComments?.length ? n : owner;
  visit(n, carries);
  for (const [k, v] of Object.entries(n)) {
    if (k === 'loc' || k === 'leadingComments' || k === 'trailingComments' || k === 'innerComments') continue;
    walk(v, visit, FUNCTION_TYPES.has(n.type) ? undefined : carries);
  }
}

const problems: string[] = [];
for (const root of ROOTS) {
  for (const file of files(root)) {
    const text = fs.readFileSync(file, 'utf8');
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (lines > MAX_FILE_LINES) problems.push(`${file}: ${lines} lines (at most ${MAX_FILE_LINES})`);
    const ast = parse(text, { sourceType: 'module', plugins: file.endsWith('x') ? ['typescript', 'jsx'] : ['typescript'] });
    walk(ast.program, (n, owner) => {
      if (!FUNCTION_TYPES.has(n.type) || !n.loc) return;
      const length = n.loc.end.line - n.loc.start.line + 1;
      if (length <= MAX_FUNCTION_LINES) return;
      const said = (n.leadingComments ?? owner?.leadingComments ?? []).some((c) => /\blong\b|\blines\b/i.test(c.value));
      if (!said) problems.push(`${file}:${n.loc.start.line}: a function of ${length} lines without a comment saying why it is long`);
    });
  }
}
for (const p of problems) console.log(p);
if (problems.length > 0) process.exit(1);
console.log('code shape: every file and function within bounds');
