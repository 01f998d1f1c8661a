// B3's watchers, in their own process: N stream clients on one room. For every
// participant_joined they note when it arrived (a clock comparable across processes); on
// SIGTERM they print {callId: [arrival per client]} as JSON.
import http from 'node:http';

const { url, authorization, clients } = JSON.parse(process.argv[2]);
const arrivals = new Map();
let ready = 0;

function watch() {
  const request = http.get(url, { headers: { authorization, accept: 'text/event-stream' }, agent: false }, (response) => {
    response.setEncoding('utf8');
    let buffer = '';
    let sawSnapshot = false;
    response.on('data', (chunk) => {
      buffer += chunk;
      // Frames are cut by index, and a call id is found by its key: the clients share the
      // machine's cores with the server, so they spend as little of them as they can.
      const at = performance.timeOrigin + performance.now();
      let start = 0;
      let end;
      while ((end = buffer.indexOf('\n\n', start)) !== -1) {
        const frame = buffer.slice(start, end);
        start = end + 2;
        if (!sawSnapshot && frame.includes('event: snapshot\n')) {
          sawSnapshot = true;
          if (++ready === clients) process.stdout.write('ready\n');
        }
        if (!frame.includes('event: participant_joined\n')) continue;
        const key = frame.indexOf('"call_id":"');
        const callId = frame.slice(key + 11, frame.indexOf('"', key + 11));
        const list = arrivals.get(callId) ?? [];
        list.push(at);
        arrivals.set(callId, list);
      }
      buffer = buffer.slice(start);
    });
  });
  request.on('error', (error) => console.error(error.message));
}

for (let i = 0; i < clients; i++) watch();
process.on('SIGTERM', () => {
  // Exit only once the pipe has taken everything: the report is several megabytes.
  process.stdout.write(`${JSON.stringify(Object.fromEntries(arrivals))}\n`, () => process.exit(0));
});
