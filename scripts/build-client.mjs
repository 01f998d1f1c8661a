#!/usr/bin/env node
// Bundles the room page's client (src/pages/client/) into dist/client/room.js and room.css,
// which the server serves from the package: no CDN and nothing fetched at run time.
// Run by `npm run build` (and so by `npm install` and `npm test`).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'src', 'pages', 'client');
const target = path.join(root, 'dist', 'client');

const shared = { bundle: true, minify: true, write: false, legalComments: 'none', logLevel: 'warning' };

const [script, style] = await Promise.all([
  build({
    ...shared,
    entryPoints: [path.join(source, 'main.tsx')],
    format: 'esm',
    target: ['es2020'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    tsconfig: path.join(source, 'tsconfig.json'),
    outfile: path.join(target, 'room.js'),
  }),
  build({ ...shared, entryPoints: [path.join(source, 'room.css')], outfile: path.join(target, 'room.css') }),
]);

fs.mkdirSync(target, { recursive: true });
for (const file of [...script.outputFiles, ...style.outputFiles]) {
  // Written whole and renamed into place: a server or test reading it never sees half a file.
  const partial = `${file.path}.${process.pid}.tmp`;
  fs.writeFileSync(partial, file.contents);
  fs.renameSync(partial, file.path);
}
console.log(`client: ${path.relative(root, target)}/room.js (${script.outputFiles[0].contents.length} bytes), room.css`);
