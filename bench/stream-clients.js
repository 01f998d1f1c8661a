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
      let end;
      while ((end = buffer.indexOf('\n\n')) !== -1) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        if (event === 'snapshot' && !sawSnapshot) {
          sawSnapshot = true;
          if (++ready === clients) process.stdout.write('ready\n');
        }
        if (event !== 'participant_joined') continue;
        const at = performance.timeOrigin + performance.now();
        const callId = JSON.parse(/^data: (.*)$/m.exec(frame)[1]).participant.call_id;
        const list = arrivals.get(callId) ?? [];
        list.push(at);
        arrivals.set(callId, list);
      }
    });
  });
  request.on('error', (error) => console.error(error.message));
}

for (let i = 0; i < clients; i++) watch();
process.on('SIGTERM', () => {
  // Exit only once the pipe has taken everything: the report is several megabytes.
  process.stdout.write(`${JSON.stringify(Object.fromEntries(arrivals))}\n`, () => process.exit(0));
});
