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
  MISS,
  parseDuration,
  type CacheOptions,
  type Duration,
} from 'nestjs-cashews';

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
