/**
 * A consumer of the packed package, type-checked by test/compat/run.sh under module/moduleResolution
 * commonjs/node10, node16/node16, nodenext/nodenext and esnext/bundler (tsc --noEmit).
 */
import { Injectable, Module } from '@nestjs/common';
import {
  Cache,
  CacheService,
  CashewsConfigError,
  CashewsModule,
  InjectCache,
  MemoryBackend,
  MISS,
  parseDuration,
  registerBackend,
  type CacheOptions,
  type Duration,
} from 'nestjs-cashews';
import { resetCaches, runBackendConformance, type TestFunctions } from 'nestjs-cashews/testing';

const ttl: Duration = '5m';
const ms: number = parseDuration(ttl, 'ttl');
const options: Partial<CacheOptions> = {};

@Injectable()
export class Prices {
  constructor(@InjectCache('prices') private readonly cache: CacheService) {}

  @Cache({ ttl })
  async price(sku: string): Promise<number> {
    const stored = await this.cache.get<number>(`price:${sku}`);
    return stored ?? sku.length;
  }

  async ping(): Promise<string> {
    return this.cache.ping();
  }
}

@Module({ imports: [CashewsModule.forRoot('mem://')], providers: [Prices] })
export class PricesModule {}

export const isConfigError = (error: unknown): error is CashewsConfigError => error instanceof CashewsConfigError;
export const checks: unknown[] = [ms, options, MISS];

// A backend of one's own: a declared parameter arrives typed (`size` a number) and the subpath types resolve.
registerBackend('consumer-mem', (config) => new MemoryBackend({ size: config.params.size ?? 10, checkInterval: 0 }), {
  params: { size: 'int' },
});
export function conformance(test: TestFunctions): void {
  runBackendConformance({ name: 'consumer', create: () => new MemoryBackend({ size: 10, checkInterval: 0 }), test });
}
export const reset: typeof resetCaches = resetCaches;
