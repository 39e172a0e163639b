/**
 * `@Invalidate([Class, 'method'])` renders the target's template from the invalidating call's arguments. A `{id}` the
 * target reads by decorator name reads the request on an HTTP route (`@Param('id')`): without one the call has no key
 * (KeyPlaceholderError), never a key built from the mapped argument (42 after ParseIntPipe, while the route stored the
 * raw '42'). Outside HTTP (`@Args('id')`, `@Payload('id')`) it reads the argument.
 */
import 'reflect-metadata';
import { Controller, Get, Injectable, Param, ParseIntPipe } from '@nestjs/common';
import { Args, Query, Resolver } from '@nestjs/graphql';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { Cache, Invalidate, KeyPlaceholderError } from '../../lib/index.js';
import { getLayers } from '../../lib/decorators/strategy-metadata.js';
import type { InvalidateStrategyOptions } from '../../lib/strategies/invalidate.strategy.js';

@Controller('products')
class ProductsController {
  @Cache({ ttl: '1m', key: 'product:{id}' })
  @Get(':id')
  find(@Param('id', ParseIntPipe) productId: number) {
    return productId;
  }
}

@Resolver('User')
class UsersResolver {
  @Cache({ ttl: '1m', key: 'profile:{id}' })
  @Query()
  profile(@Args('id') userId: string) {
    return userId;
  }
}

class OrdersHandlers {
  @Cache({ ttl: '1m', key: 'order:{id}' })
  @MessagePattern('order')
  order(@Payload('id') orderId: string) {
    return orderId;
  }
}

@Injectable()
class Updates {
  @Invalidate([ProductsController, 'find'])
  async product(productId: number) {
    return productId;
  }

  @Invalidate([UsersResolver, 'profile'])
  async profile(userId: string) {
    return userId;
  }

  @Invalidate([OrdersHandlers, 'order'])
  async order(orderId: string) {
    return orderId;
  }
}

function deleted(method: 'product' | 'profile' | 'order', args: unknown[]): string {
  const [invalidate] = getLayers(Updates.prototype[method])!;
  return (invalidate.options as InvalidateStrategyOptions).keys[0]({ args });
}

describe('@Invalidate of a target keyed by a decorator name', () => {
  it('an HTTP route: the request is what {id} reads, so without one the call has no key', () => {
    const [cache] = getLayers(ProductsController.prototype.find)!;
    expect(cache.key({ args: ['42'], req: { params: { id: '42' } } })).toBe("product:'42'");
    expect(() => deleted('product', [42])).toThrow(KeyPlaceholderError);
  });

  it('a GraphQL resolver or RPC handler: {id} is the argument', () => {
    const [profile] = getLayers(UsersResolver.prototype.profile)!;
    expect(deleted('profile', ['u7'])).toBe(profile.key({ args: ['u7'] }));
    const [order] = getLayers(OrdersHandlers.prototype.order)!;
    expect(deleted('order', ['o1'])).toBe(order.key({ args: ['o1'] }));
  });
});
