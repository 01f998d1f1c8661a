import net from 'node:net';

/**
 * A TCP proxy on loopback between a server under test and a service it depends on, to take the
 * service out of reach in the ways a network does: refusing connections, or going silent
 * (connections accepted, nothing answered, nothing closed).
 */
export interface TcpProxy {
  port: number;
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string;
  /** Closes every connection and refuses new ones. */
  refuse(): Promise<void>;
  /**
   * Forwards nothing more, either way, on any connection; new ones are accepted and left
   * waiting. With `closeOpen`, the connections open now are closed first, so only new ones are
   * left to go silent.
   */
  silence(options?: { closeOpen?: boolean }): void;
  /** What clients sent while the proxy was silent (and forwarded nothing), as text: the commands a silent service was asked. */
  heardWhileSilent(): string;
  /** Forwards again. Connections that went silent are closed: what they carried is lost. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<net.Socket>();
  let silent = false;
  let heard = '';
  const server = net.createServer(function accept(client) {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    client.on('data', (chunk) => void (silent && (heard += chunk.toString('latin1'))));
    if (silent) return;
    const upstream = net.connect(target.port, target.host);
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      if (!silent) client.destroy();
    });
    upstream.on('error', () => upstream.destroy());
    client.on('close', () => {
      if (!silent) upstream.destroy();
    });
    client.on('data', (chunk) => void (silent || upstream.write(chunk)));
    upstream.on('data', (chunk) => void (silent || client.write(chunk)));
  });
  await listen(server, 0);
  const port = (server.address() as net.AddressInfo).port;

  function closeAll(): void {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  }

  return {
    port,
    via(url) {
      const proxied = new URL(url);
      proxied.hostname = '127.0.0.1';
      proxied.port = String(port);
      return proxied.toString();
    },
    async refuse() {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        closeAll();
      });
    },
    silence(options = {}) {
      if (options.closeOpen === true) closeAll();
      silent = true;
    },
    heardWhileSilent: () => heard,
    async restore() {
      silent = false;
      closeAll();
      if (!server.listening) await listen(server, port);
    },
    async close() {
      closeAll();
      if (server.listening) await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function listen(server: net.Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
}
