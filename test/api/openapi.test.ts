import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UNSUPPORTED_PATHS } from '../../src/api/unsupported.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** Every `src` and `href` of an HTML page. */
function referencedUrls(html: string): string[] {
  return [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((match) => match[1]!);
}

describe('OpenAPI document and /docs', () => {
  let t: TestServer;
  let document: any;
  beforeAll(async () => {
    t = await startTestServer();
    const response = await t.client().get('/api/v1/openapi.json');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    document = JSON.parse(response.text);
  });
  afterAll(async () => t.stop());

  it('is served without credentials, titled roomline, with the configured public URL as its server', () => {
    expect(document.openapi).toMatch(/^3\./);
    expect(document.info.title).toBe('roomline');
    expect(document.servers).toEqual([{ url: t.running.services.config.publicUrl }]);
  });

  it('declares the three DS authentication schemes, requires one on every /api/v1 operation, and lists its 503', () => {
    const schemes = document.components.securitySchemes;
    expect(schemes.developerKey).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(schemes.teamBasic).toMatchObject({ type: 'http', scheme: 'basic' });
    expect(schemes.teamToken).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'base64(team_id:developer_key)' });
    expect(document.security).toEqual([{ developerKey: [] }, { teamBasic: [] }, { teamToken: [] }]);
    for (const [path, operations] of Object.entries<any>(document.paths)) {
      for (const method of METHODS) {
        if (operations[method] === undefined) continue;
        // An operation's own `security: []` would make it public: only pages outside /api/v1 may say so.
        if (path.startsWith('/api/v1')) expect(operations[method].security, `${method} ${path}`).toBeUndefined();
        else expect(operations[method].security).toEqual([]);
        // Each authenticated operation reads its team first, and says it may answer 503 when the database cannot.
        if (path.startsWith('/api/v1')) expect(Object.keys(operations[method].responses), `${method} ${path}`).toContain('503');
      }
    }
  });

  it('lists only routes the server really has, in the DS spelling of their paths', () => {
    let operations = 0;
    for (const [path, item] of Object.entries<any>(document.paths)) {
      for (const method of METHODS) {
        if (item[method] === undefined) continue;
        operations += 1;
        const url = path.replace(/\{(\w+)\}/g, ':$1');
        expect(t.running.server.hasRoute({ method: method.toUpperCase() as 'GET', url }), `${method} ${path}`).toBe(true);
      }
    }
    expect(operations).toBeGreaterThanOrEqual(UNSUPPORTED_PATHS.length);
  });

  it('marks every media-plane operation as not supported, with its 501 and 401 answers', () => {
    for (const { path, methods, feature } of UNSUPPORTED_PATHS) {
      for (const method of methods) {
        const operation = document.paths[`/api/v1${path}`]?.[method.toLowerCase()];
        expect(operation, `${method} ${path}`).toBeDefined();
        expect(operation.tags).toEqual(['Not supported']);
        expect(operation.description).toContain(`${feature} is not supported`);
        expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['401', '501']));
        const parameters = (operation.parameters ?? []).filter((parameter: any) => parameter.in === 'path').map((parameter: any) => parameter.name);
        expect(parameters).toEqual([...path.matchAll(/\{(\w+)\}/g)].map((match) => match[1]));
      }
    }
  });

  it('leaves hidden routes out', () => {
    for (const hidden of ['/healthz', '/readyz', '/api/v1/openapi.json', '/docs', '/docs/json']) {
      expect(document.paths[hidden], hidden).toBeUndefined();
    }
  });

  it('serves a /docs page that loads only local assets, each of which answers', async () => {
    const page = await t.client().get('/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const urls = referencedUrls(page.text);
    expect(urls.length).toBeGreaterThan(3);
    for (const url of urls) {
      expect(url, 'no CDN or other host').toMatch(/^\/docs\//);
      expect((await t.client().get(url)).status, url).toBe(200);
    }
    const initializer = await t.client().get('/docs/static/swagger-initializer.js');
    // The online validator badge would call validator.swagger.io: it stays off.
    expect(initializer.text).toContain('validatorUrl: null');
    const shown = await t.client().get('/docs/json');
    expect(shown.body.paths).toEqual(document.paths);
  });
});
