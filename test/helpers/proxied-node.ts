import { randomUUID } from 'node:crypto';
import { createBackend, type BackendInstance } from './backend.js';
import { startServeProcess, tempDataDir, type ChildEnv, type ServeProcess } from './process.js';
import { createClient, type ApiClient } from './server.js';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/** A cluster node as a process, one of its services (PostgreSQL or Redis) reached through a proxy the test can cut. */
export interface ProxiedNode {
  node: ServeProcess;
  proxy: TcpProxy;
  /** The service's own URL, not through the proxy (for an admin connection of the test's). */
  serviceUrl: string;
  /** An API client of the node's team. */
  api: ApiClient;
  /** A room with telephony, made at start. */
  room: { id: string };
  stop(): Promise<void>;
}

export async function startProxiedNode(service: 'DATABASE_URL' | 'REDIS_URL', env: ChildEnv = {}): Promise<ProxiedNode> {
  const key = `cluster-key-${randomUUID()}`;
  const data = tempDataDir();
  const backend: BackendInstance = await createBackend('cluster');
  const target = new URL(backend.env[service]!);
  const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || (service === 'DATABASE_URL' ? 5432 : 6379)) });
  const node = await startServeProcess({
    ...(backend.env as Record<string, string>),
    [service]: proxy.via(backend.env[service]!),
    ROOMLINE_DATA_DIR: data.dataDir,
    ROOMLINE_TEAM_ID: randomUUID(),
    ROOMLINE_DEVELOPER_KEY: key,
    ...env,
  });
  const api = createClient(node.url, { kind: 'bearer', key });
  const room = (await api.post('/api/v1/rooms', { telephony_enabled: true })).body;
  return {
    node,
    proxy,
    serviceUrl: backend.env[service]!,
    api,
    room,
    async stop() {
      await node.stop();
      await proxy.close();
      await backend.dispose();
      data.remove();
    },
  };
}
