/**
 * The stats page in a real headless browser (Debian `chromium` driven by playwright-core): exact counts in the
 * table, a refresh after more calls, the chart, XSS-safe method names, the guard; a screenshot is kept in
 * test-artifacts/dashboard.png. Without /usr/bin/chromium the suite is skipped (with the reason) outside CI and
 * fails with CI=true.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Injectable, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Module } from '@nestjs/common';
import { chromium, type Browser, type Page } from 'playwright-core';
import { Cache, CacheService, CashewsModule } from '../../lib/index.js';
import { CatalogueService, ItemsController, scriptedCalls } from './fixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(process.cwd(), 'test-artifacts');
const TOKEN = 'dashboard-test-token';
const hasChromium = existsSync(CHROMIUM);

if (!hasChromium && process.env.CI === 'true') {
  describe('stats page in a browser', () => {
    it('needs Chromium in CI', () => {
      throw new Error(`${CHROMIUM} is missing: CI must install Debian's chromium package (see .ci/run)`);
    });
  });
}

/** A method whose name is markup: the page must show it as text, never run it. */
const EVIL = '<img src=x onerror="window.__xss=1">';

@Injectable()
class EvilService {
  async [EVIL](): Promise<number> {
    return 1;
  }
}
Cache({ ttl: '1m', key: 'evil' })(
  EvilService.prototype,
  EVIL,
  Object.getOwnPropertyDescriptor(EvilService.prototype, EVIL) as PropertyDescriptor,
);

@Module({
  imports: [
    CashewsModule.forRoot('mem://', {
      dashboard: { path: '/ops/cashews', guard: (req) => req.headers['x-dashboard-token'] === TOKEN },
    }),
  ],
  controllers: [ItemsController],
  providers: [CatalogueService, EvilService],
})
class DashboardAppModule {}

const describeBrowser = hasChromium ? describe : describe.skip;
const title = hasChromium ? 'stats page in a browser' : `stats page in a browser [skipped: ${CHROMIUM} not found]`;

describeBrowser(title, () => {
  let app: INestApplication;
  let base: string;
  // playwright-core gives each launch a fresh temporary profile and removes it on close.
  let browser: Browser;

  beforeAll(async () => {
    app = await NestFactory.create(DashboardAppModule, { logger: false });
    await app.listen(0, '127.0.0.1');
    base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  async function openPage(): Promise<Page> {
    const context = await browser.newContext({
      extraHTTPHeaders: { 'x-dashboard-token': TOKEN },
      viewport: { width: 1280, height: 900 },
    });
    return context.newPage();
  }

  const cell = (page: Page, method: string, strategy: string, field: string) =>
    page.locator(`tr[data-method="${method}"][data-strategy="${strategy}"] td[data-field="${field}"]`).textContent();

  it('refuses requests the guard does not allow', async () => {
    expect((await fetch(`${base}/ops/cashews`)).status).toBe(403);
    expect((await fetch(`${base}/ops/cashews/stats.json`)).status).toBe(403);
    const ok = await fetch(`${base}/ops/cashews/stats.json`, { headers: { 'x-dashboard-token': TOKEN } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toMatch(/^application\/json/);
  });

  it('shows exact counts, refreshes itself, draws the chart and escapes names', async () => {
    const service = app.get(CatalogueService);
    await scriptedCalls(service, app.get(CacheService));
    await app.get(EvilService)[EVIL]();
    await app.get(EvilService)[EVIL]();
    for (let i = 0; i < 3; i++) await fetch(`${base}/items/5`);

    const page = await openPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text());
    });
    const response = await page.goto(`${base}/ops/cashews`);
    expect(response?.status()).toBe(200);
    expect(response?.headers()['content-security-policy']).toContain("default-src 'none'");
    await page.waitForSelector('tr[data-method="CatalogueService.item"]');

    expect(await cell(page, 'CatalogueService.item', 'cache', 'calls')).toBe('4');
    expect(await cell(page, 'CatalogueService.item', 'cache', 'hits')).toBe('2');
    expect(await cell(page, 'CatalogueService.item', 'cache', 'misses')).toBe('2');
    expect(await cell(page, 'CatalogueService.item', 'cache', 'hitRatio')).toBe('50.0%');
    expect(await cell(page, 'CatalogueService.slow', 'cache', 'executionsAvoided')).toBe('4');
    expect(await cell(page, 'CatalogueService.price', 'failover', 'stale')).toBe('1');
    expect(await cell(page, 'CatalogueService.limited', 'rate-limit', 'rejections')).toBe('1');
    expect(await cell(page, 'CatalogueService.breaker', 'circuit-breaker', 'circuit')).toBe('open');
    expect(await cell(page, 'ItemsController.get', 'cache', 'hits')).toBe('2');

    // The markup-named method is shown as text and never ran as HTML.
    const evilRow = page.locator('tr[data-strategy="cache"]').filter({ hasText: 'onerror' });
    expect(await evilRow.locator('td.method').textContent()).toBe(`EvilService.${EVIL}`);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as { __xss?: number }).__xss)).toBeUndefined();

    // More calls; the page picks them up on its next refresh, without a reload.
    const generation = Number(await page.locator('body').getAttribute('data-generation'));
    await service.item(1);
    await service.item(1);
    await service.item(3);
    // Polled through locators: the page's CSP (no 'unsafe-eval') refuses evaluated strings. A refresh already in
    // flight when the calls were made shows the old counts: wait for one that shows the new ones.
    const deadline = Date.now() + 10_000;
    while (
      Number(await page.locator('body').getAttribute('data-generation')) <= generation ||
      (await cell(page, 'CatalogueService.item', 'cache', 'calls')) !== '7'
    ) {
      if (Date.now() > deadline) throw new Error('the page did not show the new calls within 10 s');
      await page.waitForTimeout(100);
    }
    expect(await cell(page, 'CatalogueService.item', 'cache', 'calls')).toBe('7');
    expect(await cell(page, 'CatalogueService.item', 'cache', 'hits')).toBe('4');
    expect(await cell(page, 'CatalogueService.item', 'cache', 'misses')).toBe('3');

    // The chart: an SVG with the hit-ratio line over at least one bucket with calls.
    const chart = page.locator('section.instance[data-cache="default"] svg.chart');
    expect(await chart.count()).toBe(1);
    const points = await chart.locator('polyline.ratio').getAttribute('points');
    expect(points?.trim().split(/\s+/).length).toBeGreaterThanOrEqual(1);
    expect(await chart.locator('rect.volume').count()).toBeGreaterThanOrEqual(1);
    const box = await chart.boundingBox();
    expect(box?.width).toBeGreaterThan(100);

    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    expect(existsSync(join(ARTIFACTS, 'dashboard.png'))).toBe(true);
    expect(errors).toEqual([]);
    await page.context().close();
  }, 60_000);
});
