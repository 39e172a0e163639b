import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { CacheOptions } from './config/cache-options.js';

/** Options of `CashewsModule.forRoot` / `forRootAsync`: a URL plus any {@link CacheOptions} override. */
export interface CashewsModuleOptions extends CacheOptions {
  /** Backend URL: `mem://`, `redis://`, `rediss://` or `redis+cluster://`. Default `'mem://'`. */
  url?: string;
}

/** Module-level settings that must be known before the options factory runs. */
export interface CashewsModuleExtras {
  /** Register the module globally. Default `true`. */
  isGlobal?: boolean;
  /** Instance name; inject a named instance with `@InjectCache(name)`. */
  name?: string;
}

export const {
  ConfigurableModuleClass: CashewsConfigurableModule,
  MODULE_OPTIONS_TOKEN: CASHEWS_MODULE_OPTIONS,
  OPTIONS_TYPE: CASHEWS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: CASHEWS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<CashewsModuleOptions>({ moduleName: 'Cashews' })
  .setClassMethodName('forRoot')
  .setExtras<CashewsModuleExtras>({ isGlobal: true, name: undefined }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal ?? true,
  }))
  .build();
