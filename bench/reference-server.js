// References for B1, measured beside B0 in the same run: what a server that does nothing but
// commit one SQLite row per request reaches on this machine, with the durability roomline's
// embedded mode has (WAL, synchronous=NORMAL), one autocommit INSERT of the request's body.
// `node` is a bare node:http server (B1's goal was set from it: "about 0.45 × B0"); `fastify`
// is the same on Fastify with the seed route's body schema, the stack roomline is built on.
// Prints its port on stdout.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';

const kind = process.argv[2];
if (kind !== 'node' && kind !== 'fastify') throw new Error('usage: reference-server.js node|fastify');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomline-reference-'));
const db = new Database(path.join(dir, 'reference.db'));
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('create table calls_left (id integer primary key, body text not null, at integer not null)');
const insert = db.prepare('insert into calls_left (body, at) values (?, ?)');
process.on('SIGTERM', () => {
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  process.exit(0);
});

function listening(port) {
  process.stdout.write(`${port}\n`);
}

if (kind === 'node') {
  const server = http.createServer((request, response) => {
    const chunks = [];
    request.on('data', (chunk) => chunks.push(chunk));
    request.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
      insert.run(JSON.stringify(body), Date.now());
      response.writeHead(200, { 'content-length': '0' }).end();
    });
  });
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => listening(server.address().port));
} else {
  const app = Fastify({ logger: false, keepAliveTimeout: 60_000 });
  app.post(
    '/rooms/:room/phone-participants/left',
    {
      schema: {
        params: { type: 'object', properties: { room: { type: 'string', minLength: 1, maxLength: 255 } }, required: ['room'] },
        body: { type: 'array', minItems: 1, maxItems: 1000, items: { type: 'string', minLength: 1, maxLength: 255 } },
      },
    },
    async function left(request, reply) {
      insert.run(JSON.stringify(request.body), Date.now());
      return reply.code(200).send();
    },
  );
  await app.listen({ port: 0, host: '127.0.0.1' });
  listening(app.server.address().port);
}
