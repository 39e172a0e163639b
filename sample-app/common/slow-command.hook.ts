import { Logger } from '@nestjs/common';
import type { CommandHook } from '../../lib/index.js';

/**
 * A command hook: logs every cache command (decorated methods' reads and writes included) that takes longer than
 * `thresholdMs`, with its name and key. Slow Redis shows up here before it shows up in response times.
 */
export function slowCommandLog(thresholdMs: number): CommandHook {
  const logger = new Logger('SlowCacheCommand');
  return {
    name: 'slowCommandLog',
    async handle(call, next) {
      const started = performance.now();
      try {
        return await next(call);
      } finally {
        const took = performance.now() - started;
        if (took > thresholdMs) {
          const key = typeof call.args[0] === 'string' ? ` ${call.args[0]}` : '';
          logger.warn(`${call.command}${key} took ${took.toFixed(1)} ms`);
        }
      }
    },
  };
}
