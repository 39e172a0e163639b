// cluster-key-slot (the hash-slot function ioredis itself uses) ships no types: the part we call.
declare module 'cluster-key-slot' {
  /** The Redis Cluster hash slot (0-16383) of a key, `{hash tag}` aware. */
  function generate(key: string): number;
  export default generate;
}
