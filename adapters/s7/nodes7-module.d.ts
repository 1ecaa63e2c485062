// nodes7 ships no types; adapters/s7/nodes7.ts types the slice it uses.
declare module 'nodes7' {
  const NodeS7: unknown;
  export default NodeS7;
}
