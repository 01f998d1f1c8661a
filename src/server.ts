import type { Config } from './config/config.js';
import { buildApp, type App, type AppOptions } from './app.js';
import type { TeamCredentials } from './domain/teams.js';

export interface RunningServer extends App {
  /** The address actually bound (port 0 picks a free one). */
  url: string;
  /** Stops accepting, lets in-flight requests finish, closes streams and the store. */
  stop(): Promise<void>;
}

/**
 * Builds the app, makes sure a team exists, and listens. On a first start with no team at
 * all, creates one and prints its credentials with a ready-to-paste curl.
 */
export async function startServer(config: Config, options: AppOptions & { print?: (text: string) => void } = {}): Promise<RunningServer> {
  const app = await buildApp(config, options);
  const { server, services } = app;
  const print = options.print ?? ((text: string) => process.stdout.write(text));

  if (config.bootstrapTeam !== undefined) {
    const { created } = await services.teams.ensure({ id: config.bootstrapTeam.teamId, developerKey: config.bootstrapTeam.developerKey, name: 'Default team' });
    services.logger.info({ teamId: config.bootstrapTeam.teamId, created }, 'team from ROOMLINE_TEAM_ID is ready');
  }
  let firstTeam: TeamCredentials | undefined;
  if ((await services.teams.list()).length === 0) {
    firstTeam = await services.teams.create({ name: 'My team' });
  }

  await server.listen({ port: config.port, host: config.host });
  const address = server.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  services.logger.info({ url }, 'roomline is listening');
  if (firstTeam !== undefined) print(firstStartBanner(firstTeam, url));

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= closeGracefully(app, config.shutdownGraceSeconds);
    return stopping;
  };
  return { ...app, url, stop };
}

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
