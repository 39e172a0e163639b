/**
 * An argument a default key leaves out: put in its place by an adapter for a parameter that is no key (a GraphQL
 * resolver's context and info, an RPC context, a WebSocket client socket), so that the other arguments keep their
 * positions (`skipArgs`) and the key is rendered from those alone. No caller can pass it.
 */
export const LEFT_OUT: unique symbol = Symbol('cashews:left-out');
