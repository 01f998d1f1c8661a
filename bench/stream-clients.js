// B3's watchers, in their own process: N stream clients on one room. For every
// participant_joined they note when it arrived (a clock comparable across processes); on
// SIGTERM they print {callId: [arrival per client]} as JSON.
//
// Each client is a bare socket that writes its GET and scans the bytes it receives: the
// clients share the machine's two cores with the server, and node:http's client (parser,
// chunk decoding, a stream per response) cost a fifth more of their CPU. Frames are written
// whole inside the response's chunks, so a chunk's size line never falls inside a frame.
import net from 'node:net';

const { url, authorization, clients } = JSON.parse(process.argv[2]);
const target = new URL(url);
const request = `GET ${target.pathname} HTTP/1.1\r\nhost: ${target.host}\r\nauthorization: ${authorization}\r\naccept: text/event-stream\r\n\r\n`;
const JOINED = 'event: participant_joined\n';
const CALL_ID = '"call_id":"';
const arrivals = new Map();
let ready = 0;

/** One read buffer for every client: each read is handled before the next one is made. */
const readBuffer = Buffer.alloc(256 * 1024);

function watch() {
  let buffer = '';
  let sawSnapshot = false;
  // `onread` hands each read over in readBuffer, without a stream's machinery and a Buffer per
  // read: with 200 clients on one process, that machinery was much of what delayed the later
  // clients' receipt of each event.
  const socket = net.connect({ port: Number(target.port), host: target.hostname, onread: { buffer: readBuffer, callback: received } }, () => socket.write(request));
  socket.setNoDelay(true);
  function received(length) {
    const at = performance.timeOrigin + performance.now();
    buffer += readBuffer.latin1Slice(0, length);
    if (!sawSnapshot && buffer.length >= 12 && !buffer.startsWith('HTTP/1.1 200')) {
      console.error(`the stream was refused: ${buffer.slice(0, 300)}`);
      process.exit(1);
    }
    // Only whole frames: the rest waits for the next chunk.
    const last = buffer.lastIndexOf('\n\n');
    if (last === -1) return;
    if (!sawSnapshot && buffer.includes('event: snapshot\n')) {
      sawSnapshot = true;
      if (++ready === clients) process.stdout.write('ready\n');
    }
    let from = 0;
    let found;
    while ((found = buffer.indexOf(JOINED, from)) !== -1 && found < last) {
      const key = buffer.indexOf(CALL_ID, found) + CALL_ID.length;
      const callId = buffer.slice(key, buffer.indexOf('"', key));
      const list = arrivals.get(callId);
      if (list === undefined) arrivals.set(callId, [at]);
      else list.push(at);
      from = key;
    }
    buffer = buffer.slice(last + 2);
  }
  socket.on('error', (error) => console.error(error.message));
}

for (let i = 0; i < clients; i++) watch();
process.on('SIGTERM', () => {
  // Exit only once the pipe has taken everything: the report is several megabytes.
  process.stdout.write(`${JSON.stringify(Object.fromEntries(arrivals))}\n`, () => process.exit(0));
});
