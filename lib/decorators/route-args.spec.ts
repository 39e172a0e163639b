/** Route arguments of a controller handler read for its keys, parameters of custom decorators included. */
import 'reflect-metadata';
import { createParamDecorator, Param, type ExecutionContext } from '@nestjs/common';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { KeyPlaceholderError } from '../errors.js';
import { compileKeyFunction } from '../keys/key-template.js';
import { argsFromRequest, readRouteArgs } from './route-args.js';

type Req = { params: Record<string, string>; user?: unknown };
let calls = 0;
const User = createParamDecorator((field: string | undefined, context: ExecutionContext) => {
  calls++;
  const user = context.switchToHttp().getRequest<Req>().user;
  if (user === 'throw') throw new Error('no session');
  if (user === 'promise') return Promise.resolve({ id: 'later' });
  return field ? (user as Record<string, unknown> | undefined)?.[field] : user;
});

class UsersController {
  find(@Param('id') id: string, @User() user: unknown, @User('id') userId: unknown) {
    return [id, user, userId];
  }
}

function argsOf(req: Req): unknown[] {
  const route = readRouteArgs(UsersController, 'find');
  const context = () => new ExecutionContextHost([req, {}, undefined], UsersController, UsersController.prototype.find);
  return argsFromRequest(route, req, context, 'UsersController.find');
}

describe('argsFromRequest: parameters of a custom decorator', () => {
  beforeEach(() => {
    calls = 0;
  });

  it("answers the factory's value, with the decorator's data, once per request however often it is read", () => {
    const args = argsOf({ params: { id: '7' }, user: { id: 'alice' } });
    expect(calls).toBe(0); // not before a key reads it
    expect([args[0], args[1], args[2]]).toEqual(['7', { id: 'alice' }, 'alice']);
    expect(args[1]).toBe(args[1]);
    expect(calls).toBe(2);
  });

  it.each([
    ['throws', 'throw'],
    ['answers a promise', 'promise'],
  ])('a factory that %s gives the call no key (KeyPlaceholderError), called once', (_what, user) => {
    const args = argsOf({ params: { id: '7' }, user });
    const key = compileKeyFunction({ base: 'UsersController:find' }, ([, u]) => `me:${(u as { id?: string })?.id}`);
    expect(() => key({ args })).toThrow(KeyPlaceholderError);
    expect(() => args[1]).toThrow(KeyPlaceholderError);
    expect(calls).toBe(1);
    expect(args[0]).toBe('7');
  });

  it('without an execution context (no request to call it with) the parameter reads undefined', () => {
    const route = readRouteArgs(UsersController, 'find');
    expect(argsFromRequest(route, { params: { id: '1' } })).toEqual(['1']);
    expect(calls).toBe(0);
  });
});
