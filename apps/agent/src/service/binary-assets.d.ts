// Files that esbuild embeds as bytes (apps/agent/build.mjs: loader binary).
declare module '*.exe' {
  const bytes: Uint8Array;
  export default bytes;
}
