import { parseDirectives } from './request-directives.js';

describe('parseDirectives', () => {
  const all = { cacheControl: true, clearSiteData: true };

  it('reads no-cache, no-store, max-age and Clear-Site-Data', () => {
    expect(parseDirectives({ 'cache-control': 'no-cache' }, all)).toMatchObject({ noCache: true, noStore: false });
    expect(parseDirectives({ 'cache-control': 'No-Store, max-age=5' }, all)).toMatchObject({
      noStore: true,
      maxAge: 5000,
    });
    expect(parseDirectives({ 'clear-site-data': '"cookies", "cache"' }, all)).toMatchObject({ clearSiteData: true });
    expect(parseDirectives({ 'clear-site-data': '"*"' }, all)).toMatchObject({ clearSiteData: true });
  });

  it('ignores what is not opted in, malformed values and unrelated directives', () => {
    expect(parseDirectives({ 'cache-control': 'no-cache' }, { clearSiteData: true })).toBeUndefined();
    expect(parseDirectives({ 'clear-site-data': '"cache"' }, { cacheControl: true })).toBeUndefined();
    expect(parseDirectives({ 'cache-control': 'max-age=abc, public' }, all)).toBeUndefined();
    expect(parseDirectives({ 'clear-site-data': 'cache' }, all)).toBeUndefined();
    expect(parseDirectives({}, all)).toBeUndefined();
  });
});
