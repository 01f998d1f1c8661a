import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { Type } from 'typebox';
import { errorResponses, notFound } from '../api/errors.js';
import type { Api } from '../api/types.js';

/**
 * The room page's client, bundled at build time (scripts/build-client.mjs) into dist/client/
 * and served from the package: no CDN, nothing fetched at run time. Read once at start; each
 * URL carries its content's hash, so browsers may keep a file for good.
 */
export interface PageAssets {
  /** URL of the client script; undefined on pages that need none. */
  script: string | undefined;
  style: string;
}

/** dist/client/ of the package, from src/pages/ (tests) and dist/pages/ (the build) alike. */
const CLIENT_FOLDER = fileURLToPath(new URL('../../dist/client/', import.meta.url));
const PATH_PREFIX = '/room-page/assets/';

const FILES = [
  { name: 'room.js', type: 'text/javascript; charset=utf-8' },
  { name: 'room.css', type: 'text/css; charset=utf-8' },
] as const;

interface Asset {
  body: Buffer;
  type: string;
  version: string;
}

/** Serves the client's files and answers their URLs. A missing bundle is logged, and its URL answers 404. */
export function serveClientAssets(app: Api, logger: Logger): PageAssets {
  const assets = new Map<string, Asset>();
  for (const file of FILES) {
    const filePath = CLIENT_FOLDER + file.name;
    if (!fs.existsSync(filePath)) {
      logger.warn({ file: filePath }, 'room page client is not built: run `npm run build`');
      continue;
    }
    const body = fs.readFileSync(filePath);
    assets.set(file.name, { body, type: file.type, version: createHash('sha256').update(body).digest('hex').slice(0, 16) });
  }

  app.get(
    `${PATH_PREFIX}:file`,
    {
      schema: {
        hide: true,
        params: Type.Object({ file: Type.String({ maxLength: 64 }) }),
        response: { 200: Type.Unsafe<Buffer>({ description: 'The file.' }), ...errorResponses(404) },
      },
    },
    async function sendClientAsset(request, reply) {
      const asset = assets.get(request.params.file);
      if (asset === undefined) throw notFound();
      return reply.type(asset.type).header('cache-control', 'public, max-age=31536000, immutable').header('x-content-type-options', 'nosniff').send(asset.body);
    },
  );

  const url = (name: string) => `${PATH_PREFIX}${name}?v=${assets.get(name)?.version ?? 'missing'}`;
  return { script: url('room.js'), style: url('room.css') };
}
