// esbuild bundles imported CSS into its own fingerprinted file.
declare module '*.css'
