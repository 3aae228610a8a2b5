/**
 * The client library as a browser would load it: bundled by esbuild for the browser
 * platform (so a Node-only import fails the build), minified, and its gzipped size.
 */
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface BrowserBundle {
  /** What the bundle exports, e.g. `resumable`. */
  name: string;
  minifiedBytes: number;
  gzippedBytes: number;
  /** The packages the bundle pulled in (from node_modules). */
  packages: string[];
}

/** The bundles the client guide quotes: the wrapper alone (the app has graphql-ws already), and the whole client. */
export const CLIENT_ENTRIES = {
  resumable: "export { resumable } from '@wallet-events/client';",
  WalletEventsClient: "export { WalletEventsClient } from '@wallet-events/client/graphql-ws';",
} as const;

/** Bundles `source` (module text resolved from the repository's root) for browsers. */
export async function browserBundle(name: string, source: string): Promise<BrowserBundle> {
  const result = await build({
    stdin: { contents: source, resolveDir: process.cwd(), loader: 'ts' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const code = result.outputFiles[0]!.contents;
  const packages = new Set<string>();
  const [output] = Object.values(result.metafile.outputs);
  for (const [input, { bytesInOutput }] of Object.entries(output!.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
    // Modules that were read but shaken out entirely leave no bytes behind.
    if (match && bytesInOutput > 0) packages.add(match[1]!);
  }
  return { name, minifiedBytes: code.byteLength, gzippedBytes: gzipSync(code).byteLength, packages: [...packages].sort() };
}

/** Both bundles the client guide quotes. */
export function clientBundles(): Promise<BrowserBundle[]> {
  return Promise.all(Object.entries(CLIENT_ENTRIES).map(([name, source]) => browserBundle(name, source)));
}

/** examples/react/main.tsx as one browser script, the way a production build makes it. */
export async function bundleReactExample(): Promise<string> {
  const result = await build({
    entryPoints: ['examples/react/main.tsx'],
    bundle: true,
    minify: true,
    platform: 'browser',
    target: 'es2022',
    jsx: 'automatic',
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
    logLevel: 'silent',
  });
  return result.outputFiles[0]!.text;
}
