/**
 * Issue #11: "Every public export has TSDoc with an example that compiles when pasted".
 *
 * The rule checked here, over every export of lib/index.ts and of lib/testing/index.ts (the `nestjs-cashews/testing`
 * subpath; aliases resolved to their declarations):
 * - every export has a TSDoc summary;
 * - every export that is a value a user calls, constructs, decorates with or reads (a function, a class — errors
 *   included —, a decorator factory, a const) also has an `@example` holding a fenced ```ts block;
 * - types and interfaces need the summary only; they get an `@example` where a snippet says more than the type
 *   (a callback type, say), and any fenced one they have is checked like the others.
 *
 * Every fenced ```ts example in lib/ (exported or not, members included) must COMPILE as pasted: each becomes a
 * virtual module, type-checked in one in-process program with the repo's compiler options, 'nestjs-cashews' mapped
 * to lib/index.ts and 'nestjs-cashews/testing' to lib/testing/index.ts. Each module sees, unless it imports or declares the name itself:
 * - every export of 'nestjs-cashews' and the Nest names in NEST_NAMES (as if the user had imported them);
 * - the ambient stubs in STUBS (the application's own classes an example talks about, and `cache`, `app`).
 * An example documenting an internal helper also sees the exports of the lib/ file it is written in.
 * An example made of class members (decorated methods) is pasted into `class Example`, whose other members (the
 * injected services, `this.products`…) are typed `any`: the decorator's typing of the method itself is still checked.
 * An example that needs more than that states it (imports, declarations) in its own code.
 * Decorator lines start with `;@` (see test/jsdoc-examples.spec.ts), so an element carries one decorator in an
 * example; the others it needs in an application (Controller, Get…) are named in a comment.
 */
import { join, relative } from 'node:path';
import ts from 'typescript';

const ROOT = process.cwd();
const INDEX = join(ROOT, 'lib', 'index.ts');
const TESTING_INDEX = join(ROOT, 'lib', 'testing', 'index.ts');
const VIRTUAL = join(ROOT, 'test', '__examples__');
const STUBS_FILE = join(VIRTUAL, 'stubs.d.ts');

const NEST_NAMES = [
  'Body',
  'Controller',
  'Delete',
  'Get',
  'Inject',
  'Injectable',
  'Module',
  'Param',
  'Post',
  'Put',
  'Query',
  'Req',
];
const STUBS = `
declare class Product { id: string; name: string; price: number }
declare class ProductDto { name?: string; price?: number }
declare class ProductsService {
  findOne(id: string): Promise<Product>;
  list(): Promise<Product[]>;
  update(id: string, dto: ProductDto): Promise<Product>;
  remove(id: string): Promise<void>;
  search(q: string): Promise<Product[]>;
}
/** An error an upstream client throws. */
declare class UpstreamError extends Error {}
/** An injected cache (\`constructor(private readonly cache: CacheService) {}\`). */
declare const cache: import('nestjs-cashews').CacheService;
/** The Nest application under test or being bootstrapped. */
declare const app: import('@nestjs/common').INestApplication;
`;

const parsed = ts.getParsedCommandLineOfConfigFile(
  join(ROOT, 'tsconfig.json'),
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  },
)!;
const options: ts.CompilerOptions = {
  ...parsed.options,
  noEmit: true,
  declaration: false,
  sourceMap: false,
  baseUrl: ROOT,
  paths: { 'nestjs-cashews': ['lib/index.ts'], 'nestjs-cashews/testing': ['lib/testing/index.ts'] },
};
const baseHost = ts.createCompilerHost(options, true);
const libProgram = ts.createProgram([INDEX, TESTING_INDEX], options, baseHost);
const checker = libProgram.getTypeChecker();
const where = (node: ts.Node): string => {
  const source = node.getSourceFile();
  return `${relative(ROOT, source.fileName)}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
};

// ---- the exports and their documentation
interface PublicExport {
  name: string;
  where: string;
  needsExample: boolean;
  summary: string;
  examples: string[];
}
const exportsOf = (index: string): ts.Symbol[] =>
  checker.getExportsOfModule(checker.getSymbolAtLocation(libProgram.getSourceFile(index)!)!);
const mainSymbols = exportsOf(INDEX);
/** What only the testing subpath exports (it re-exports a few names of the main entry too). */
const testingSymbols = exportsOf(TESTING_INDEX).filter((t) => !mainSymbols.some((m) => m.name === t.name));
const exportsOfIndex: PublicExport[] = [...mainSymbols, ...testingSymbols].map((exported) => {
  const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
  const declaration = symbol.declarations?.[0];
  const value = ts.SymbolFlags.Function | ts.SymbolFlags.Class | ts.SymbolFlags.Variable;
  return {
    name: exported.name,
    where: declaration ? where(declaration) : '?',
    needsExample: (symbol.flags & value) !== 0,
    summary: ts.displayPartsToString(symbol.getDocumentationComment(checker)).trim(),
    examples: symbol
      .getJsDocTags(checker)
      .filter((tag) => tag.name === 'example')
      .map((tag) => ts.displayPartsToString(tag.text)),
  };
});
const exportNames = exportsOfIndex.map((e) => e.name);
const mainNames = mainSymbols.map((symbol) => symbol.name);
const testingNames = testingSymbols.map((symbol) => symbol.name);

// ---- every fenced example in lib/
interface Example {
  origin: string;
  /** The lib/ file it documents: an example of an internal helper sees that file's exports too. */
  file: string;
  code: string;
}
const FENCE = /```ts\n([\s\S]*?)\n```/g;
const libSources = libProgram
  .getSourceFiles()
  .filter((source) => source.fileName.startsWith(join(ROOT, 'lib') + '/') && !source.fileName.endsWith('.spec.ts'));
const examples: Example[] = [];
for (const source of libSources) {
  const visit = (node: ts.Node): void => {
    for (const doc of ts.getJSDocCommentsAndTags(node)) {
      if (!ts.isJSDoc(doc)) continue;
      for (const tag of doc.tags ?? []) {
        if (tag.tagName.text !== 'example') continue;
        for (const match of (ts.getTextOfJSDocComment(tag.comment) ?? '').matchAll(FENCE)) {
          examples.push({ origin: where(tag), file: source.fileName, code: match[1] });
        }
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
}

/** Names an example imports or declares at its top level: the prelude must not import them again. */
function ownNames(code: string): Set<string> {
  const source = ts.createSourceFile('x.ts', code, ts.ScriptTarget.Latest, true);
  const names = new Set<string>();
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (clause?.name) names.add(clause.name.text);
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamedImports(bindings)) bindings.elements.forEach((e) => names.add(e.name.text));
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) {
        if (ts.isIdentifier(declaration.name)) names.add(declaration.name.text);
      }
    } else if (
      (ts.isClassDeclaration(statement) ||
        ts.isFunctionDeclaration(statement) ||
        ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) ||
        ts.isEnumDeclaration(statement)) &&
      statement.name
    ) {
      names.add(statement.name.text);
    }
  }
  return names;
}

/** The module an example becomes: the prelude, then its code (class members go into `class Example`). */
function exampleModule({ code, file }: Example): string {
  const own = ownNames(code);
  const fileSymbol = checker.getSymbolAtLocation(libProgram.getSourceFile(file)!);
  const internal = (fileSymbol ? checker.getExportsOfModule(fileSymbol) : [])
    .map((symbol) => symbol.name)
    .filter((name) => !own.has(name) && !exportNames.includes(name));
  const internalPath = relative(VIRTUAL, file).replace(/\.ts$/, '.js');
  const members = /^;@[A-Z]/m.test(code) && !/^(export |;@Module|;@Injectable|;@Controller)/m.test(code);
  const body = members ? `class Example {\n  [member: string]: any;\n${code}\n}` : code;
  const cashews = mainNames.filter((name) => !own.has(name));
  const testing = testingNames.filter((name) => !own.has(name));
  const nest = NEST_NAMES.filter((name) => !own.has(name));
  return [
    `import { ${cashews.join(', ')} } from 'nestjs-cashews';`,
    testing.length > 0 ? `import { ${testing.join(', ')} } from 'nestjs-cashews/testing';` : '',
    `import { ${nest.join(', ')} } from '@nestjs/common';`,
    internal.length > 0 ? `import { ${internal.join(', ')} } from '${internalPath}';` : '',
    body,
    'export {};',
  ].join('\n');
}

// ---- one program for all of them
const virtual = new Map<string, string>([[STUBS_FILE, STUBS]]);
examples.forEach((example, i) => virtual.set(join(VIRTUAL, `example-${i}.ts`), exampleModule(example)));
const host: ts.CompilerHost = {
  ...baseHost,
  fileExists: (file) => virtual.has(file) || baseHost.fileExists(file),
  readFile: (file) => virtual.get(file) ?? baseHost.readFile(file),
  directoryExists: (dir) =>
    dir === VIRTUAL ||
    dir.startsWith(VIRTUAL + '/') ||
    (baseHost.directoryExists?.(dir) ?? ts.sys.directoryExists(dir)),
  getSourceFile: (file, languageVersion, onError, shouldCreate) => {
    const text = virtual.get(file);
    if (text !== undefined) return ts.createSourceFile(file, text, languageVersion, true);
    return libProgram.getSourceFile(file) ?? baseHost.getSourceFile(file, languageVersion, onError, shouldCreate);
  },
};

describe('public API documentation', () => {
  it('finds the exports of lib/index.ts and the fenced examples of lib/', () => {
    expect(exportsOfIndex.length).toBeGreaterThan(100);
    // at least one fenced example per export that needs one, so the compile check below is not vacuous
    expect(examples.length).toBeGreaterThanOrEqual(exportsOfIndex.filter((e) => e.needsExample).length);
  });

  it('every export has a TSDoc summary', () => {
    const missing = exportsOfIndex.filter((e) => e.summary === '').map((e) => `${e.name} (${e.where})`);
    expect(missing).toEqual([]);
  });

  it('every exported function, class, decorator and const has a fenced ```ts @example', () => {
    const missing = exportsOfIndex
      .filter((e) => e.needsExample && !e.examples.some((text) => /```ts\n/.test(text)))
      .map((e) => `${e.name} (${e.where})`);
    expect(missing).toEqual([]);
  });

  it('every fenced example compiles when pasted', () => {
    const program = ts.createProgram([...virtual.keys()], options, host, libProgram);
    const errors = examples.flatMap((example, i) => {
      const source = program.getSourceFile(join(VIRTUAL, `example-${i}.ts`))!;
      return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)].map((d) => {
        const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line + 1;
        const text = source.text.split('\n')[line - 1]?.trim();
        return `${example.origin}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')} — at: ${text}`;
      });
    });
    const stubErrors = program.getSemanticDiagnostics(program.getSourceFile(STUBS_FILE));
    expect(stubErrors.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '))).toEqual([]);
    expect(errors).toEqual([]);
  });
});
