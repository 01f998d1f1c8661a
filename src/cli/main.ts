import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import type { Logger } from 'pino';
import { ConfigError, loadConfig, withoutPassword, type Config, type Environment } from '../config/config.js';
import { createLogger } from '../logger.js';
import type { RunningServer } from '../server.js';
import { createStore, isPostgresLocation, openStoreAt } from '../store/store.js';
import { copyStore, openCopySource } from '../store/copy.js';
import { createTeamService, type TeamService } from '../domain/teams.js';
import { isoTime, systemClock } from '../domain/clock.js';

/** `roomline serve | team create | team list | team rotate-key | team delete | copy`. */
function buildCli(): Command {
  const program = new Command('roomline')
    .description('Self-hosted room, live-roster and telephony control plane (Digital Samba REST API v1)')
    .showHelpAfterError();

  program
    .command('serve')
    .description('serve the API and room pages (what `npm start` runs)')
    .addOption(new Option('--port <port>', 'port to listen on (PORT)'))
    .addOption(new Option('--host <host>', 'address to bind (HOST)'))
    .addOption(new Option('--data-dir <dir>', 'folder of the SQLite file (ROOMLINE_DATA_DIR)'))
    .addOption(new Option('--public-url <url>', 'base of room_url and token links (ROOMLINE_PUBLIC_URL)'))
    .action(async function serve(flags: { port?: string; host?: string; dataDir?: string; publicUrl?: string }) {
      const config = configFrom({ PORT: flags.port, HOST: flags.host, ROOMLINE_DATA_DIR: flags.dataDir, ROOMLINE_PUBLIC_URL: flags.publicUrl });
      // Loaded here, not at the top: team commands start in a fraction of the time without the HTTP stack.
      const { startServer } = await import('../server.js');
      stopOnSignals(await startServer(config));
    });

  const team = program.command('team').description('manage teams (each has its own rooms, roles and developer key)');

  team
    .command('create')
    .description('create a team and print its id and developer key')
    .requiredOption('--name <name>', 'the team name')
    .option('--json', 'print {"team_id","developer_key","name"}')
    .action(async function createTeam(flags: { name: string; json?: boolean }) {
      const name = flags.name.trim();
      if (name.length === 0 || name.length > 100) fail('--name must be 1–100 characters');
      await withTeams(async (teams) => {
        const created = await teams.create({ name });
        if (flags.json) console.log(JSON.stringify(created));
        else console.log(`team id:        ${created.team_id}\ndeveloper key:  ${created.developer_key}\nname:           ${created.name}`);
      });
    });

  team
    .command('list')
    .description('list the teams (ids and names; keys are never shown)')
    .option('--json', 'print a JSON array')
    .action(async function listTeams(flags: { json?: boolean }) {
      await withTeams(async (teams) => {
        const all = await teams.list();
        if (flags.json) {
          console.log(JSON.stringify(all.map((t) => ({ team_id: t.id, name: t.name, created_at: isoTime(t.createdAt) }))));
        } else if (all.length === 0) {
          console.log('no teams yet: `roomline team create --name NAME`');
        } else {
          for (const t of all) console.log(`${t.id}  ${t.name}`);
        }
      });
    });

  team
    .command('rotate-key')
    .description('give a team a new developer key (the old one stops working at once)')
    .argument('<team_id>', 'the team id')
    .option('--json', 'print {"team_id","developer_key","name"}')
    .action(async function rotateKey(teamId: string, flags: { json?: boolean }) {
      await withTeams(async (teams) => {
        const rotated = await teams.rotateKey(teamId.toLowerCase());
        if (rotated === undefined) fail(`no team with id ${teamId}`);
        if (flags.json) console.log(JSON.stringify(rotated));
        else console.log(`team id:        ${rotated.team_id}\ndeveloper key:  ${rotated.developer_key}`);
      });
    });

  team
    .command('delete')
    .description('delete a team with its rooms, roles, webhooks, sessions and records, for good')
    .argument('<team_id>', 'the team id')
    .option('--yes', 'confirm: nothing of the team can be brought back')
    .action(async function deleteTeam(teamId: string, flags: { yes?: boolean }) {
      if (!flags.yes) fail(`this deletes team ${teamId} with its rooms, roles, webhooks, sessions and participation records, for good: add --yes to confirm`);
      await withTeams(async (teams) => {
        const deleted = await teams.remove(teamId.toLowerCase());
        if (deleted === undefined) fail(`no team with id ${teamId}`);
        console.log(`deleted team ${deleted.id} (${deleted.name}) and everything it had`);
      });
    });

  program
    .command('copy')
    .description('copy every room, roster, session and webhook into a new, empty database or folder: to move to cluster mode, or back, or to keep a backup')
    .requiredOption('--to <where>', 'a postgres:// URL, or a data folder (created if missing)')
    .option('--from <where>', 'a postgres:// URL or a data folder (default: this configuration\'s own, DATABASE_URL or ROOMLINE_DATA_DIR)')
    .option('--json', 'print {"from","to","rows","tables","seconds"}')
    .action(async function copy(flags: { to: string; from?: string; json?: boolean }) {
      const config = configFrom({});
      const from = storeLocation('--from', flags.from ?? config.databaseUrl ?? config.dataDir);
      const to = storeLocation('--to', flags.to);
      if (from === to) fail('--from and --to name the same store');
      if (!isPostgresLocation(from) && !fs.existsSync(path.join(from, 'roomline.db'))) fail(`no roomline database in ${from} (its roomline.db)`);
      if (!isPostgresLocation(to) && fs.existsSync(to) && !fs.statSync(to).isDirectory()) fail(`--to ${to} is a file: name a folder (created if missing)`);
      const logger = commandLogger(config);
      const started = performance.now();
      const source = await openCopySource(from, config, logger);
      const report = await withStore(source, async () =>
        withStore(await openStoreAt(to, config, logger, { setting: '--to' }), (target) =>
          copyStore(source.store, target, (table, rows) => {
            if (!flags.json) console.error(`${table}: ${rows} row${rows === 1 ? '' : 's'}`);
          }),
        ),
      );
      const seconds = Math.round((performance.now() - started) / 100) / 10;
      const names = { from: describeLocation(from), to: describeLocation(to) };
      if (flags.json) {
        console.log(JSON.stringify({ ...names, rows: report.rows, tables: Object.fromEntries(report.tables.map((t) => [t.table, t.rows])), seconds }));
      } else {
        console.log(`copied ${report.rows} rows from ${names.from} to ${names.to} in ${seconds} s`);
      }
    });

  return program;
}

/**
 * A data folder as an absolute path (so two spellings of one folder compare equal); a URL as it
 * is. Anything else with a scheme is refused rather than taken for a folder: a mistyped
 * `postgress://user:password@…` would otherwise become a folder named after the password.
 */
function storeLocation(flag: string, where: string): string {
  const trimmed = where.trim();
  if (isPostgresLocation(trimmed)) return trimmed;
  if (/^[a-z][a-z0-9+.-]*:/i.test(trimmed)) fail(`${flag} must be a postgres:// URL or a folder, got a URL of another kind (${withoutPassword(trimmed)})`);
  return path.resolve(trimmed);
}

function describeLocation(location: string): string {
  return isPostgresLocation(location) ? withoutPassword(location) : location;
}

async function withStore<S extends { close(): Promise<void> }, T>(store: S, work: (store: S) => Promise<T>): Promise<T> {
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** How long closing the backends may take once the grace period for in-flight requests is over. */
const CLOSE_BACKENDS_SECONDS = 5;

/**
 * SIGTERM or SIGINT drains the server (in-flight requests finish, the store closes) and exits
 * 0. A second signal while draining exits at once, for a human pressing Ctrl-C twice.
 */
function stopOnSignals(running: RunningServer): void {
  const { logger } = running.services;
  let draining = false;
  function onSignal(signal: NodeJS.Signals): void {
    if (draining) {
      logger.warn({ signal }, 'second signal: exiting without waiting for in-flight requests');
      process.exit(1);
    }
    draining = true;
    logger.info({ signal }, 'shutting down');
    // In-flight requests get the grace period; closing the backends after it may take as long as
    // a database that does not answer lets a query wait (a minute). Past this, the process goes
    // without it: what was answered is committed, and what was not is retried by its clients.
    const deadlineSeconds = running.services.config.shutdownGraceSeconds + CLOSE_BACKENDS_SECONDS;
    setTimeout(() => {
      logger.warn({ seconds: deadlineSeconds }, 'stopping took too long (a database or Redis that does not answer?): exiting without waiting');
      process.exit(1);
    }, deadlineSeconds * 1000).unref();
    running.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  }
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

function configFrom(flags: Environment): Config {
  try {
    return loadConfig(process.env, flags);
  } catch (error) {
    if (error instanceof ConfigError) fail(`configuration error: ${error.message}`);
    throw error;
  }
}

async function withTeams(work: (teams: TeamService) => Promise<void>): Promise<void> {
  const config = configFrom({});
  // Team commands write to the same store as the server.
  await withStore(await createStore(config, commandLogger(config)), (store) => work(createTeamService({ store, clock: systemClock })));
}

/** A command's log: on stderr, so that --json output stays clean, and quiet unless something is wrong. */
function commandLogger(config: Config): Logger {
  return createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel, process.stderr);
}

function fail(message: string): never {
  console.error(`roomline: ${message}`);
  process.exit(2);
}

buildCli()
  .parseAsync(process.argv)
  .catch((error: unknown) => {
    console.error(`roomline: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
