/**
 * Architecture rules checked on the source. No import cycle anywhere in lib/: every file's imports are read with
 * the TypeScript API (`import`, `import type`, `export … from`, `import()` and `require`), relative `.js`
 * specifiers are resolved to the `.ts` file, and every strongly connected group of files is reported with one
 * cycle through it. Type-only imports count too: a type cycle still ties the files into one unit that cannot be
 * read, tested or moved apart, and it turns into a runtime cycle as soon as someone needs a value across it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

const LIB = join(process.cwd(), 'lib');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The lib/ files `file` imports (relative specifiers only; packages are outside the graph). */
function importsOf(file: string, text = readFileSync(file, 'utf8')): string[] {
  const { importedFiles } = ts.preProcessFile(text, true, true);
  const targets = new Set<string>();
  for (const { fileName } of importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const base = resolve(dirname(file), fileName);
    const candidates = [base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')];
    const found = candidates.find((candidate) => candidate.endsWith('.ts') && existsSync(candidate));
    if (!found) throw new Error(`${relative(LIB, file)} imports '${fileName}', which resolves to no .ts file`);
    targets.add(found);
  }
  return [...targets];
}

/** Every import cycle of the graph, one per strongly connected group (Tarjan), as a closed path of files. */
function importCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const groups: string[][] = [];
  const connect = (node: string): void => {
    index.set(node, next);
    low.set(node, next++);
    stack.push(node);
    onStack.add(node);
    for (const target of graph.get(node) ?? []) {
      if (!index.has(target)) {
        connect(target);
        low.set(node, Math.min(low.get(node)!, low.get(target)!));
      } else if (onStack.has(target)) {
        low.set(node, Math.min(low.get(node)!, index.get(target)!));
      }
    }
    if (low.get(node) !== index.get(node)) return;
    const group: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      group.push(member);
    } while (member !== node);
    if (group.length > 1 || (graph.get(node) ?? []).includes(node)) groups.push(group);
  };
  for (const node of [...graph.keys()].sort()) if (!index.has(node)) connect(node);
  return groups.map((group) => cycleThrough(graph, new Set(group)));
}

/** One closed path inside a strongly connected group, starting from its first file in name order. */
function cycleThrough(graph: ReadonlyMap<string, readonly string[]>, group: ReadonlySet<string>): string[] {
  const start = [...group].sort()[0];
  // Breadth-first from `start` back to `start`, staying inside the group: the shortest cycle through it.
  const previous = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const node = queue.shift()!;
    for (const target of graph.get(node) ?? []) {
      if (!group.has(target)) continue;
      if (target === start) {
        const path = [start];
        for (let at = node; at !== start; at = previous.get(at)!) path.splice(1, 0, at);
        return [...path, start];
      }
      if (!previous.has(target)) {
        previous.set(target, node);
        queue.push(target);
      }
    }
  }
  return [start, start];
}

describe('architecture', () => {
  it('lib/ has no import cycle (type-only imports included)', () => {
    const graph = new Map(sources(LIB).map((file) => [file, importsOf(file)] as const));
    expect(graph.size).toBeGreaterThan(50);
    const cycles = importCycles(graph).map((cycle) => cycle.map((file) => relative(LIB, file)).join(' -> '));
    expect(cycles).toEqual([]);
  });

  it('the cycle finder sees value, type-only, re-export and dynamic imports', () => {
    const a = join(LIB, 'a.ts');
    const b = join(LIB, 'b.ts');
    const c = join(LIB, 'c.ts');
    const text = [
      "import { x } from './x.js';",
      "import type { Y } from './y.js';",
      "export { z } from './z.js';",
      "const w = await import('./w.js');",
      "import { readFileSync } from 'node:fs';",
    ].join('\n');
    const specifiers = ts.preProcessFile(text, true, true).importedFiles.map((file) => file.fileName);
    expect(specifiers).toEqual(expect.arrayContaining(['./x.js', './y.js', './z.js', './w.js']));
    const graph = new Map([
      [a, [b]],
      [b, [c]],
      [c, [a]],
    ]);
    expect(importCycles(graph)).toEqual([[a, b, c, a]]);
    expect(
      importCycles(
        new Map([
          [a, [b]],
          [b, [c]],
          [c, []],
        ]),
      ),
    ).toEqual([]);
  });
});
