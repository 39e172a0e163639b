/**
 * The `@example` blocks are what users copy from their editor's hover or the `.d.ts`. They must hold no invisible
 * character (a U+200D before `@` used to make pasted code fail with TS1127), TypeScript's JSDoc parser must keep
 * each one whole, and the code in them must parse. TypeScript reads any `@` after whitespace in a JSDoc tag as a
 * new tag, even inside a code fence, so decorator lines start with `;` (an empty statement or class element).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

const LIB = join(process.cwd(), 'lib');
const INVISIBLE = /[\u200B-\u200F\u2060-\u2064\uFEFF\u00AD]/u;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts') ? [path] : [];
  });
}

/** Every JSDoc tag TypeScript finds in `file`, with the text it attaches to the tag. */
function jsDocTags(file: string): { name: string; text: string }[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const tags: { name: string; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    for (const doc of ts.getJSDocCommentsAndTags(node)) {
      if (!ts.isJSDoc(doc)) continue;
      for (const tag of doc.tags ?? []) {
        tags.push({ name: tag.tagName.text, text: ts.getTextOfJSDocComment(tag.comment) ?? '' });
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return tags;
}

/** The code of a fenced example, wrapped in a class when it is decorated class members. */
function exampleCode(text: string): string | undefined {
  const fenced = /```ts\n([\s\S]*?)\n```/.exec(text);
  if (!fenced) return undefined;
  const code = fenced[1];
  const members = /^;@[A-Z]/m.test(code) && !/^(export |;@Module)/m.test(code);
  return members ? `class Example {\n${code}\n}` : code;
}

const files = sources(LIB);
const examples = files.flatMap((file) =>
  jsDocTags(file)
    .filter((tag) => tag.name === 'example')
    .map((tag) => ({ file: file.slice(LIB.length + 1), text: tag.text })),
);

describe('JSDoc examples', () => {
  it('no source in lib/ holds an invisible character', () => {
    const found = files.filter((file) => INVISIBLE.test(readFileSync(file, 'utf8')));
    expect(found).toEqual([]);
  });

  it('every decorator has a fenced example TypeScript keeps whole', () => {
    const decoratorExamples = examples.filter((example) => /^;@[A-Z]/m.test(example.text));
    // one per decorator file, plus the module's
    expect(decoratorExamples.length).toBeGreaterThanOrEqual(13);
    for (const file of files) {
      // A tag named like a decorator means TypeScript cut an example at its '@'.
      const cut = jsDocTags(file).filter((tag) => /^[A-Z]/.test(tag.name));
      expect(cut).toEqual([]);
    }
  });

  it.each(examples.filter((example) => exampleCode(example.text)).map((example) => [example.file, example.text]))(
    '%s: the example parses as TypeScript',
    (_file, text) => {
      const code = exampleCode(text)!;
      const output = ts.transpileModule(code, {
        reportDiagnostics: true,
        compilerOptions: { experimentalDecorators: true, target: ts.ScriptTarget.ES2022 },
      });
      const errors = (output.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      expect(errors).toEqual([]);
    },
  );
});
