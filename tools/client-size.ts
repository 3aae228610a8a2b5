/** `npm run client:size`: the client library's browser bundles, minified and gzipped (docs/guides/clients.md quotes these). */
import { clientBundles } from './client/bundle.ts';

for (const bundle of await clientBundles()) {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  console.log(`${bundle.name}: ${kb(bundle.minifiedBytes)} minified, ${kb(bundle.gzippedBytes)} gzipped (${bundle.packages.join(', ') || 'no packages'})`);
}
