// B3's pacer: POSTs over a few kept-alive sockets, one request in flight per socket, written
// and read by hand. The pacer shares the machine's two cores with the server and its 200
// watchers, and an HTTP client library cost about 240 µs of CPU per request (undici's request
// API; fetch several times that): a quarter of a core taken from what is being measured.
import net from 'node:net';

export class Pacer {
  /** Sockets with no request in flight, and requests waiting for one. */
  #idle = [];
  #waiting = [];
  #sockets = [];

  /** `url`: the server's origin; `headers`: sent with every request (authorization, content type). */
  constructor(url, headers, connections = 16) {
    const origin = new URL(url);
    this.port = Number(origin.port);
    this.host = origin.hostname;
    this.head = Object.entries({ host: origin.host, ...headers })
      .map(([name, value]) => `${name}: ${value}\r\n`)
      .join('');
    this.connections = connections;
  }

  async open() {
    for (let i = 0; i < this.connections; i++) this.#sockets.push(await this.#connect());
    this.#idle.push(...this.#sockets);
  }

  /** Resolves when the answer has arrived; rejects on any answer but a 2xx. */
  post(path, body) {
    return new Promise((resolve, reject) => {
      const job = { text: `POST ${path} HTTP/1.1\r\n${this.head}content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, resolve, reject };
      const socket = this.#idle.pop();
      if (socket === undefined) this.#waiting.push(job);
      else this.#send(socket, job);
    });
  }

  close() {
    for (const socket of this.#sockets) socket.destroy();
  }

  #send(socket, job) {
    socket.job = job;
    socket.write(job.text);
  }

  #connect() {
    return new Promise((resolve, reject) => {
      const socket = net.connect(this.port, this.host, () => resolve(socket));
      socket.setNoDelay(true);
      socket.once('error', reject);
      // A closed socket fails its request rather than leave the run waiting for an answer.
      socket.on('close', () => socket.job?.reject(new Error('the server closed a pacer connection')));
      let buffer = '';
      socket.on('data', (chunk) => {
        buffer += chunk.latin1Slice(0, chunk.length);
        for (;;) {
          const end = buffer.indexOf('\r\n\r\n');
          if (end === -1) return;
          const head = buffer.slice(0, end);
          const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
          if (Number.isNaN(length)) throw new Error(`an answer without a content-length: ${head}`);
          if (buffer.length < end + 4 + length) return;
          const status = Number(head.slice(9, 12));
          const body = buffer.slice(end + 4, end + 4 + length);
          buffer = buffer.slice(end + 4 + length);
          const { job } = socket;
          socket.job = undefined;
          const next = this.#waiting.shift();
          if (next === undefined) this.#idle.push(socket);
          else this.#send(socket, next);
          if (status >= 200 && status < 300) job.resolve();
          else job.reject(new Error(`POST answered ${status}: ${body.slice(0, 300)}`));
        }
      });
    });
  }
}
