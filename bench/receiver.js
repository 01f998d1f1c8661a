// A webhook receiver in its own process: answers 204 at once and counts deliveries and
// distinct event ids. GET /count reports them as JSON. Prints its port on stdout.
import http from 'node:http';

let deliveries = 0;
const events = new Set();
let firstAt = 0;
let lastAt = 0;

const server = http.createServer((request, response) => {
  if (request.method === 'GET') {
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ deliveries, distinct: events.size, firstAt, lastAt }));
    return;
  }
  request.resume();
  request.on('end', () => {
    deliveries += 1;
    events.add(`${request.headers['x-roomline-event-id']}/${request.url}`);
    const now = performance.timeOrigin + performance.now();
    if (firstAt === 0) firstAt = now;
    lastAt = now;
    response.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
