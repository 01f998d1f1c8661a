import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitFor } from './server.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** The installed command, exactly as `npx roomline` runs it. */
export const ROOMLINE_BIN = path.join(REPO, 'bin', 'roomline.js');

/** Variables roomline reads: dropped from the inherited environment so each test states its own. */
const ROOMLINE_VARIABLES = /^(PORT|HOST|LOG_LEVEL|DATABASE_URL|REDIS_URL|ROOMLINE_.*)$/;

export type ChildEnv = Record<string, string>;

function childEnv(env: ChildEnv): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([name]) => !ROOMLINE_VARIABLES.test(name)));
  // Load and crash suites send thousands of requests a minute; the limit has a test of its own.
  return { ...inherited, ROOMLINE_RATE_LIMIT: '0', ...env };
}

function assertBuilt(): void {
  if (!fs.existsSync(path.join(REPO, 'dist', 'cli', 'main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (`npm test` does)');
  }
}

/** A fresh, empty data folder; removed by the returned function. */
export function tempDataDir(): { dataDir: string; remove(): void } {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomline-cli-'));
  return { dataDir, remove: () => fs.rmSync(dataDir, { recursive: true, force: true }) };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `roomline ARGS` to completion, with no stdin. */
export function runCli(args: string[], env: ChildEnv): Promise<CliResult> {
  assertBuilt();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ROOMLINE_BIN, ...args], { env: childEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface ServeProcess {
  child: ChildProcess;
  /** The URL the server bound, read from its start-up output. */
  url: string;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Sends `signal` (SIGTERM by default) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `roomline serve` on port 0 and waits until it listens. The URL comes from the
 * first-start banner's curl or from the "listening" log line, whichever appears.
 */
export async function startServeProcess(env: ChildEnv): Promise<ServeProcess> {
  assertBuilt();
  const child = spawn(process.execPath, [ROOMLINE_BIN, 'serve'], {
    env: childEnv({ PORT: '0', HOST: '127.0.0.1', ...env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  let ended = false;
  void exited.then(() => (ended = true));

  const url = await waitFor(
    () => {
      if (ended) throw new Error(`roomline serve exited before listening:\n${output}`);
      return /"url":"(http:\/\/[^"]+)"/.exec(output)?.[1] ?? /curl .* (http:\/\/127\.0\.0\.1:\d+)\//.exec(output)?.[1];
    },
    20_000,
    'roomline serve to listen',
  );
  return {
    child,
    url,
    output: () => output,
    exited,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (!ended) child.kill(signal);
      return exited;
    },
  };
}
