import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import fastifyPlugin from 'fastify-plugin';
import { Type } from 'typebox';
import { packageVersion } from '../version.js';
import { errorResponses } from './errors.js';
import { NOT_SUPPORTED_TAG } from './unsupported.js';
import type { Api, RouteOptions } from './types.js';

/** The three ways a DS client authenticates (see auth.ts), as OpenAPI security schemes. */
const SECURITY_SCHEMES = {
  developerKey: {
    type: 'http',
    scheme: 'bearer',
    description: '`Authorization: Bearer <developer_key>`, the DS default.',
  },
  teamBasic: {
    type: 'http',
    scheme: 'basic',
    description: 'HTTP Basic with `team_id` as the user and `developer_key` as the password (what `curl --user` sends).',
  },
  teamToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'base64(team_id:developer_key)',
    description: '`Authorization: Bearer base64(team_id:developer_key)`, what the DS Java sample sends.',
  },
} as const;

const DESCRIPTION = [
  'roomline implements the room, live-roster and telephony control plane of the Digital Samba REST API v1:',
  'a DS client works unchanged once its base URL points here. Media-plane operations are listed under',
  `"${NOT_SUPPORTED_TAG}" and answer 501.`,
].join(' ');

/** Routes outside the DS API (room pages) need no credentials. */
function isAuthenticated(url: string): boolean {
  return url === '/api/v1' || url.startsWith('/api/v1/');
}

/**
 * The OpenAPI document, built from the schemas every route declares, at /api/v1/openapi.json,
 * and a browsable reference at /docs served from the assets shipped with @fastify/swagger-ui
 * (no CDN, so it works offline). Registered before the routes so it sees each of them;
 * `hide: true` keeps a route out.
 */
async function openApiDocs(app: Api, { services }: RouteOptions): Promise<void> {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'roomline', version: packageVersion(), description: DESCRIPTION },
      servers: [{ url: services.config.publicUrl }],
      components: { securitySchemes: SECURITY_SCHEMES },
      security: Object.keys(SECURITY_SCHEMES).map((name) => ({ [name]: [] })),
      tags: [{ name: NOT_SUPPORTED_TAG, description: 'Digital Samba media-plane operations roomline does not implement: each answers 501.' }],
    },
    transform: function describeRoute({ schema, url }) {
      if (!isAuthenticated(url)) return { schema: { ...schema, security: [] }, url };
      // Every /api/v1 request reads its team first: any of them answers 503 while the database is out of reach.
      const response = { ...(schema.response as Record<string, unknown> | undefined), ...errorResponses(503) };
      return { schema: { ...schema, response }, url };
    },
  });

  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    theme: { title: 'roomline API reference' },
    uiConfig: { docExpansion: 'none', deepLinking: true },
  });

  app.get(
    '/api/v1/openapi.json',
    { schema: { hide: true, response: { 200: Type.Object({}, { additionalProperties: true }) } } },
    async function openApiDocument() {
      // The public URL is read per request: with PORT=0 it is only known once the server listens.
      return { ...app.swagger(), servers: [{ url: services.config.publicUrl }] };
    },
  );
}

/** Not encapsulated: the document must see routes registered anywhere in the app. */
export const openApiRoutes = fastifyPlugin(openApiDocs, { name: 'roomline-openapi' });
