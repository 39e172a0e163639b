import type { CommandCall } from '../command.js';

/**
 * The call with every key, key pattern and protection name passed through `map`, and every tag (of `set` and
 * `deleteTags`) through `mapTag` when given. Shared by the key-rewriting hooks so that each command's key
 * positions are listed once.
 */
export function rewriteKeys(
  call: CommandCall,
  map: (key: string) => string,
  mapTag?: (tag: string) => string,
): CommandCall {
  switch (call.command) {
    case 'set': {
      const [key, value, options] = call.args;
      const tags = mapTag && options.tags ? options.tags.map(mapTag) : options.tags;
      return { command: 'set', args: [map(key), value, tags === options.tags ? options : { ...options, tags }] };
    }
    case 'deleteTags':
      return mapTag ? { command: 'deleteTags', args: [call.args[0].map(mapTag)] } : call;
    case 'getMany':
    case 'deleteMany':
      return { command: call.command, args: [call.args[0].map(map)] };
    case 'setMany':
      return {
        command: 'setMany',
        args: [call.args[0].map(([key, value]) => [map(key), value] as const), call.args[1]],
      };
    case 'ping':
    case 'clear':
    case 'getKeysCount':
      return call;
    default: {
      // Every other command takes its key (or pattern, or protection name) first.
      const [key, ...rest] = call.args;
      return { command: call.command, args: [map(key), ...rest] } as CommandCall;
    }
  }
}
