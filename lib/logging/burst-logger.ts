import { Logger } from '@nestjs/common';

/**
 * Logs the first failure of a burst, then stays quiet for `windowMs` and reports how many were
 * suppressed. A Redis outage under load would otherwise write one line per request.
 */
export class BurstLogger {
  private windowStart = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: Logger,
    private readonly windowMs = 10_000,
  ) {}

  warn(message: string): void {
    const now = Date.now();
    if (now - this.windowStart < this.windowMs) {
      this.suppressed++;
      return;
    }
    const tail = this.suppressed ? ` (${this.suppressed} similar messages suppressed in the last burst)` : '';
    this.windowStart = now;
    this.suppressed = 0;
    this.logger.warn(message + tail);
  }
}
