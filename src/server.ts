import type { Config } from './config/config.js';
import { buildApp, type App, type AppOptions } from './app.js';
import type { TeamCredentials } from './domain/teams.js';
import type { Services } from './services.js';

export interface RunningServer extends App {
  /** The address actually bound (port 0 picks a free one). */
  url: string;
  /** Stops accepting, lets in-flight requests finish, closes streams and the store. */
  stop(): Promise<void>;
}

export interface StartOptions extends AppOptions {
  /** Where the first-start banner goes; stdout by default. */
  print?: (text: string) => void;
}

/**
 * Builds the app, makes sure a team exists, and listens. On a first start with no team at
 * all, creates one and prints its credentials with a ready-to-paste curl.
 */
export async function startServer(config: Config, options: StartOptions = {}): Promise<RunningServer> {
  const app = await buildApp(config, options);
  const { server, services } = app;
  const print = options.print ?? ((text: string) => void process.stdout.write(text));

  let stopping: Promise<void> | undefined;
  // While draining, every answer closes its connection: a keep-alive client would otherwise
  // hold the shutdown open until its idle timeout.
  server.addHook('onSend', async function closeConnectionWhileStopping(_request, reply, payload) {
    if (stopping !== undefined) reply.header('connection', 'close');
    return payload;
  });

  let firstTeam: TeamCredentials | undefined;
  let url: string;
  try {
    await ensureBootstrapTeam(config, services);
    await listen(app, config);
    url = boundUrl(app, config);
    // With PORT=0 and no ROOMLINE_PUBLIC_URL, links can only name the port once it is bound.
    if (config.publicUrl.endsWith(':0')) config.publicUrl = url;
    // Only once listening: a start that cannot listen (the port taken) must not create the
    // first team, whose key is shown once, and lose it.
    firstTeam = await createFirstTeam(config, services);
  } catch (error) {
    await server.close();
    throw error;
  }
  services.logger.info({ url }, 'roomline is listening');
  if (firstTeam !== undefined) print(firstStartBanner(firstTeam, url));

  const stop = (): Promise<void> => {
    stopping ??= closeGracefully(app, config.shutdownGraceSeconds);
    return stopping;
  };
  return { ...app, url, stop };
}

/** The ROOMLINE_TEAM_ID / ROOMLINE_DEVELOPER_KEY team exists with that key (idempotent, and a changed key replaces the old one). */
async function ensureBootstrapTeam(config: Config, services: Services): Promise<void> {
  const bootstrap = config.bootstrapTeam;
  if (bootstrap === undefined) return;
  const { created } = await services.teams.ensure({ id: bootstrap.teamId, developerKey: bootstrap.developerKey, name: 'Default team' });
  services.logger.info({ teamId: bootstrap.teamId, created }, 'team from ROOMLINE_TEAM_ID is ready');
}

/** Without a bootstrap team and with no team at all, creates the first one and answers it, so its credentials can be shown once. */
async function createFirstTeam(config: Config, services: Services): Promise<TeamCredentials | undefined> {
  if (config.bootstrapTeam !== undefined || (await services.teams.list()).length > 0) return undefined;
  return services.teams.create({ name: 'My team' });
}

/** Listens; a port already taken says how to choose another. */
async function listen(app: App, config: Config): Promise<void> {
  try {
    await app.server.listen({ port: config.port, host: config.host });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'EADDRINUSE') {
      throw new Error(`${(error as Error).message}: another program listens on port ${config.port}; choose another with PORT (PORT=3001 npm start) or --port`, { cause: error });
    }
    throw error;
  }
}

/** The URL a local client reaches the server at: a wildcard bind is reached on loopback. */
function boundUrl(app: App, config: Config): string {
  const address = app.server.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const host = config.host === '0.0.0.0' ? '127.0.0.1' : config.host === '::' ? '::1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * Fastify's close: no new connections, preClose hooks end the event streams, in-flight
 * requests finish, then onClose hooks close the bus and the store.
 */
async function closeGracefully(app: App, graceSeconds: number): Promise<void> {
  const { server } = app;
  // Requests still running after the grace period are cut, so a stuck client cannot hold the process.
  const timer = setTimeout(() => server.server.closeAllConnections(), graceSeconds * 1000);
  timer.unref();
  try {
    await server.close();
  } finally {
    clearTimeout(timer);
  }
}

function firstStartBanner(team: TeamCredentials, url: string): string {
  return [
    '',
    'roomline created your first team. Keep these credentials: the key is not shown again',
    '(rotate it with `npx roomline team rotate-key TEAM_ID`).',
    '',
    `  team id:        ${team.team_id}`,
    `  developer key:  ${team.developer_key}`,
    '',
    'Try it:',
    `  curl --user ${team.team_id}:${team.developer_key} ${url}/api/v1/rooms`,
    '',
    '',
  ].join('\n');
}
