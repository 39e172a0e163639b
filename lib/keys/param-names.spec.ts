import ts from 'typescript';
import { parameterNames, type AnyFunction } from './param-names.js';

/** Builds a function from source text, so the test controls exactly what `toString()` returns. */
function fromSource(source: string): AnyFunction {
  return new Function(`return (${source});`)() as AnyFunction;
}

function methodOf(classSource: string, name: string): AnyFunction {
  const cls = fromSource(classSource) as unknown as { prototype: Record<string, AnyFunction> };
  return cls.prototype[name];
}

describe('parameterNames', () => {
  it('reads plain, async and generator functions', () => {
    expect(parameterNames(fromSource('function find(id, color) { return id; }'))).toEqual(['id', 'color']);
    expect(parameterNames(fromSource('async function find(id,color){}'))).toEqual(['id', 'color']);
    expect(parameterNames(fromSource('function* gen(a, b) {}'))).toEqual(['a', 'b']);
    expect(parameterNames(fromSource('async function* gen(a) {}'))).toEqual(['a']);
    expect(parameterNames(fromSource('function () {}'))).toEqual([]);
  });

  it('reads class methods: plain, async, generator, setters and computed or quoted names', () => {
    const src = `class X {
      find(id, color) { return id; }
      async load(a, b) {}
      *each(x) {}
      async *stream(y, z) {}
      ['comp' + String(1) + '(x, y)'](p, q) {}
      'quoted(name'(r) {}
      set value(v) {}
    }`;
    expect(parameterNames(methodOf(src, 'find'))).toEqual(['id', 'color']);
    expect(parameterNames(methodOf(src, 'load'))).toEqual(['a', 'b']);
    expect(parameterNames(methodOf(src, 'each'))).toEqual(['x']);
    expect(parameterNames(methodOf(src, 'stream'))).toEqual(['y', 'z']);
    expect(parameterNames(methodOf(src, 'comp1(x, y)'))).toEqual(['p', 'q']);
    expect(parameterNames(methodOf(src, 'quoted(name'))).toEqual(['r']);
    const cls = fromSource(src) as unknown as { prototype: object };
    const setter = Object.getOwnPropertyDescriptor(cls.prototype, 'value')!.set as AnyFunction;
    expect(parameterNames(setter)).toEqual(['v']);
  });

  it('reads methods of classes compiled by ts-jest from this very file', () => {
    class ItemsService {
      async find(id: number, color = 'red', ...tags: string[]): Promise<string> {
        return `${id}${color}${tags.join()}`;
      }
    }
    expect(parameterNames(ItemsService.prototype.find)).toEqual(['id', 'color', '...tags']);
  });

  it('skips default values containing commas, brackets, strings, templates, regexes and arrows', () => {
    const fn = fromSource(
      "function f(a = [1, 2], b = { x: ')', y: \"(,\" }, c = `${'}'},)`, d = /[),]\\)/g, e = (p, q) => p, f = 3 / 2, g) {}",
    );
    expect(parameterNames(fn)).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g']);
  });

  it('names destructured parameters by position and keeps rest parameters marked', () => {
    expect(parameterNames(fromSource('function f(a, { b, c } = {}, [d, e], ...rest) {}'))).toEqual([
      'a',
      '__1',
      '__2',
      '...rest',
    ]);
    expect(parameterNames(fromSource('function f(...{ length }) {}'))).toEqual(['...__0']);
  });

  it('ignores comments, including ones containing commas and parentheses', () => {
    const fn = fromSource(`function /* (x) */ f(a /* , fake) */, // b, (
      b = 1 /* ) */, c) {}`);
    expect(parameterNames(fn)).toEqual(['a', 'b', 'c']);
  });

  it('reads arrow functions with and without parentheses', () => {
    expect(parameterNames(fromSource('(a, b) => a + b'))).toEqual(['a', 'b']);
    expect(parameterNames(fromSource('a => a'))).toEqual(['a']);
    expect(parameterNames(fromSource('async value => value'))).toEqual(['value']);
    expect(parameterNames(fromSource('async (x, y = (1, 2)) => { return x; }'))).toEqual(['x', 'y']);
    expect(parameterNames(fromSource('() => 1'))).toEqual([]);
    expect(parameterNames(fromSource('(ä, $b, _c) => 1'))).toEqual(['ä', '$b', '_c']);
  });

  it('keeps names through TypeScript compilation with decorators and parameter decorators (ES2022)', () => {
    const source = `
      const Param = (name: string) => (target: object, key: string | symbol, index: number) => undefined;
      const Cached = () => (target: object, key: string, d: PropertyDescriptor) => d;
      export class ItemsController {
        constructor(private readonly service: object) {}
        @Cached()
        async find(@Param('id') id: string, @Param('q') query: { q?: string } = {}, { page }: { page: number } = { page: 1 }): Promise<void> {}
      }`;
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.CommonJS,
        experimentalDecorators: true,
        emitDecoratorMetadata: true,
      },
    });
    const exports: Record<string, { prototype: { find: AnyFunction } }> = {};
    new Function('exports', 'require', outputText)(exports, () => ({}));
    expect(parameterNames(exports.ItemsController.prototype.find)).toEqual(['id', 'query', '__2']);
  });

  it('returns no names for native and bound functions, whose source is not available', () => {
    expect(parameterNames(Math.max)).toEqual([]);
    expect(parameterNames(fromSource('function f(a, b) {}').bind(null))).toEqual([]);
  });
});
