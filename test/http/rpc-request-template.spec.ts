/**
 * A `{req.…}` template on a handler answering outside HTTP (`@MessagePattern` on a controller) has no request to
 * read: refused at bootstrap when its routing decorator tells the context, else at its first call there, never run
 * uncached with every call warned about a key that rendered `undefined`.
 */
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { Cache, CashewsConfigError, CashewsModule } from '../../lib/index.js';
import { captureLogs } from '../support/logged.js';
import { intercept, startedForEachTest } from './handler-calls.js';

@Controller()
class RpcReqController {
  @Cache({ ttl: '1m', key: 'q:{req.user.id}' })
  @MessagePattern('q')
  q(@Payload() data: unknown): unknown {
    return data;
  }
}

describe('{req.…} on an RPC handler', () => {
  const nest = startedForEachTest();

  it('is refused at bootstrap', async () => {
    captureLogs();
    const moduleRef = await Test.createTestingModule({
      imports: [CashewsModule.forRoot('mem://')],
      controllers: [RpcReqController],
    }).compile();
    const failure = await moduleRef.init().catch((error: unknown) => error);
    await moduleRef.close().catch(() => undefined);
    expect(failure).toBeInstanceOf(CashewsConfigError);
    expect((failure as Error).message).toContain('RpcReqController.q: a {req.…} template has no request to read');
  });

  it('fails its calls at the first call, without running the handler', async () => {
    captureLogs();
    const runs = { count: 0 };
    const outcome = await intercept(nest.interceptor, 'rpc', RpcReqController, 'q', [{ a: 1 }, {}], runs).catch(
      (e) => e,
    );
    expect(outcome).toBeInstanceOf(CashewsConfigError);
    expect(runs.count).toBe(0);
  });
});
