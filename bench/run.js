// `npm run bench [-- --quick]`: roomline's figures against their goals, on loopback.
// Every server under test and every load generator runs in a process of its own; throughput
// is reported beside B0, a bare node:http server measured in the same run on the same machine.
import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Agent } from 'undici';
import { Pacer } from './pacer.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..');
const QUICK = process.argv.includes('--quick');

/**
 * `--cluster` measures cluster mode: every server is a roomline node on a PostgreSQL database
 * of its own (created on BENCH_DATABASE_URL's server and dropped afterwards) with the Redis bus
 * of BENCH_REDIS_URL under a prefix of its own. B3's watchers then read from a second node, so
 * each event crosses the bus.
 */
const CLUSTER = process.argv.includes('--cluster')
  ? { databaseUrl: process.env.BENCH_DATABASE_URL, redisUrl: process.env.BENCH_REDIS_URL }
  : undefined;
if (CLUSTER !== undefined && (!CLUSTER.databaseUrl || !CLUSTER.redisUrl)) {
  console.error('--cluster needs BENCH_DATABASE_URL (a PostgreSQL server where the bench may create databases) and BENCH_REDIS_URL');
  process.exit(2);
}

/** How much work each figure gets: the full run, or a smoke run of under a minute. */
const SIZE = QUICK
  ? { seconds: 3, leaves: 6_000, batchRounds: 10, batchWarmup: 3, fanoutClients: 200, fanoutSeconds: 2, rooms: 100, perRoom: 100, webhooks: 10, webhookEvents: 300 }
  : { seconds: 10, leaves: 60_000, batchRounds: 100, batchWarmup: 10, fanoutClients: 200, fanoutSeconds: 10, rooms: 1_000, perRoom: 100, webhooks: 20, webhookEvents: 2_000 };

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/** Starts `node script args…` and resolves with its first line of output (a port, "ready"). */
function startChild(script, args = [], env = {}) {
  const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', function firstLine(chunk) {
      output += chunk;
      const end = output.indexOf('\n');
      if (end === -1) return;
      child.stdout.off('data', firstLine);
      resolve({ child, line: output.slice(0, end), rest: () => output.slice(end + 1), stdout: child.stdout });
    });
    child.on('exit', (code) => reject(new Error(`${script} exited (${code}) before it was ready`)));
  });
}

/** Runs `work` with a client of the bench's PostgreSQL server. */
async function withPostgres(work) {
  const client = new pg.Client({ connectionString: CLUSTER.databaseUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * Where a server under test keeps its data: a fresh data folder (embedded), or a fresh
 * PostgreSQL database and Redis prefix (cluster). Every node started on it shares it.
 */
async function createBackend() {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomline-bench-'));
  if (CLUSTER === undefined) return { env: { ROOMLINE_DATA_DIR: dataDir }, dispose: async () => fs.rmSync(dataDir, { recursive: true, force: true }) };
  const name = `roomline_bench_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  await withPostgres((client) => client.query(`create database ${name}`));
  const url = new URL(CLUSTER.databaseUrl);
  url.pathname = `/${name}`;
  return {
    env: { ROOMLINE_DATA_DIR: dataDir, DATABASE_URL: url.toString(), REDIS_URL: CLUSTER.redisUrl, ROOMLINE_REDIS_PREFIX: `roomline-bench:${name}` },
    async dispose() {
      await withPostgres((client) => client.query(`drop database if exists ${name} with (force)`));
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Starts one `roomline serve` process on `backend` with `team`; resolves with its URL and process. */
async function startNode(backend, team) {
  const child = spawn(process.execPath, [path.join(REPO, 'bin', 'roomline.js'), 'serve'], {
    env: { ...process.env, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', ROOMLINE_RATE_LIMIT: '0', ROOMLINE_TEAM_ID: team.id, ROOMLINE_DEVELOPER_KEY: team.key, ...backend.env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.add(child);
  const url = await new Promise((resolve, reject) => {
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      const match = /"url":"(http:\/\/[^"]+)"/.exec(output);
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`roomline exited (${code}) before listening:\n${output}`)));
  });
  child.stdout.resume();
  return { url, child };
}

/**
 * Starts roomline (one node) on a fresh backend with a known team. In cluster mode
 * `addNode()` starts another node of the same cluster.
 */
async function startRoomline() {
  const backend = await createBackend();
  const team = { id: randomUUID(), key: `bench-${randomUUID()}` };
  const nodes = [await startNode(backend, team)];
  const { url, child } = nodes[0];
  const authorization = `Bearer ${team.key}`;
  return {
    url,
    pid: child.pid,
    authorization,
    api: (method, urlPath, body) => request(url + urlPath, method, authorization, body),
    async addNode() {
      if (CLUSTER === undefined) throw new Error('a second node needs --cluster');
      const node = await startNode(backend, team);
      nodes.push(node);
      return { url: node.url, pid: node.child.pid };
    },
    async stop() {
      for (const node of nodes) node.child.kill('SIGTERM');
      await Promise.all(nodes.map((node) => (node.child.exitCode === null ? new Promise((resolve) => node.child.once('exit', resolve)) : undefined)));
      await backend.dispose();
    },
  };
}

/** Keep-alive connections for the bench's own calls, a bounded pool so bursts queue instead of piling up sockets. */
const agent = new Agent({ connections: 32, keepAliveTimeout: 30_000 });

async function request(url, method, authorization, body, retried = false) {
  let response;
  try {
    response = await send(url, method, authorization, body);
  } catch (error) {
    // A kept-alive connection the server closed while a load run kept it idle (found closed, or
    // closed under the write, before anything was sent): once more, anew.
    if (retried || !['UND_ERR_SOCKET', 'EPIPE'].includes(error?.cause?.code)) throw error;
    return request(url, method, authorization, body, true);
  }
  const text = await response.text();
  if (response.status >= 300) throw new Error(`${method} ${url} answered ${response.status}: ${text.slice(0, 300)}`);
  return text === '' ? undefined : JSON.parse(text);
}

function send(url, method, authorization, body) {
  return fetch(url, {
    dispatcher: agent,
    method,
    headers: { authorization, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

/** Runs one autocannon job in its own process (bench/load.js). */
function load(job) {
  const output = execFileSync(process.execPath, [path.join(HERE, 'load.js'), JSON.stringify(job)], { maxBuffer: 16 * 1024 * 1024 });
  return JSON.parse(output.toString());
}

/** A process's CPU time so far, all its threads, in clock ticks (Linux's /proc; undefined elsewhere). */
function cpuTicks(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
}

/** A process's CPU per request since `before` (cpuTicks), in µs: ticks are 10 ms on Linux. */
function cpuMicrosPerRequest(pid, before, requests) {
  const after = cpuTicks(pid);
  return before === undefined || after === undefined ? NaN : ((after - before) * 10_000) / Math.max(1, requests);
}

const now = () => performance.timeOrigin + performance.now();
const percentile = (values, p) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};
const round = (value, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
const seedCalls = JSON.stringify(['53858671-c5e0-441a-9e33-e5d7f7f1861e', '074f23f1-6a8e-4856-8779-5cc888456d5c']);

async function joinCalls(server, roomId, prefix, count, from = 0) {
  for (let start = from; start < from + count; start += 1000) {
    const size = Math.min(1000, from + count - start);
    const calls = Array.from({ length: size }, (_, i) => ({ call_id: `${prefix}-${start + i}`, name: `Caller ${start + i}`, caller_number: '+15550100' }));
    await server.api('POST', `/api/v1/rooms/${roomId}/phone-participants/joined`, calls);
  }
}

async function createRoom(server) {
  return server.api('POST', '/api/v1/rooms', { telephony_enabled: true });
}

// ---------------------------------------------------------------------------------------------

async function b0Ceiling() {
  const bare = await startChild(path.join(HERE, 'bare-server.js'));
  const result = load({ url: `http://127.0.0.1:${bare.line}`, connections: 50, duration: SIZE.seconds, method: 'POST', path: '/', headers: { 'content-type': 'application/json' }, body: seedCalls });
  bare.child.kill();
  return { rps: result.rps, p99: result.latency.p99, loadCpuMicros: result.cpuMicrosPerRequest };
}

/**
 * What one durable SQLite row per request reaches on this machine, on bare node:http (the
 * server B1's goal was set from) and on Fastify, with the seed route's body: B1's own change
 * writes six rows and an outbox row, behind auth. Embedded mode only: the goal's reference is SQLite.
 */
async function b1References(b0) {
  const references = {};
  for (const kind of ['node', 'fastify']) {
    const server = await startChild(path.join(HERE, 'reference-server.js'), [kind]);
    const before = cpuTicks(server.child.pid);
    try {
      const result = load({ url: `http://127.0.0.1:${server.line}`, connections: 50, duration: SIZE.seconds, method: 'POST', path: '/rooms/room/phone-participants/left', headers: { 'content-type': 'application/json' }, body: seedCalls });
      references[kind] = { rps: result.rps, ratio: result.rps / b0.rps, non2xx: result.non2xx + result.errors, serverCpuMicros: cpuMicrosPerRequest(server.child.pid, before, result.requests) };
    } finally {
      server.child.kill();
    }
  }
  return references;
}

async function b1SeedEndpoint(b0) {
  const server = await startRoomline();
  const receiver = await startChild(path.join(HERE, 'receiver.js'));
  try {
    const room = await createRoom(server);
    await server.api('POST', '/api/v1/webhooks', { endpoint: `http://127.0.0.1:${receiver.line}/b1`, events: ['participant_left'] });
    // An anchor call keeps the session open, as in a real room, so every left is a plain leave.
    await server.api('POST', `/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'anchor', name: 'Anchor' }]);
    await joinCalls(server, room.id, 'b1', SIZE.leaves);
    const before = cpuTicks(server.pid);
    const result = load({
      url: server.url,
      connections: 50,
      amount: SIZE.leaves,
      method: 'POST',
      path: `/api/v1/rooms/${room.id}/phone-participants/left`,
      headers: { 'content-type': 'application/json', authorization: server.authorization },
      sequence: { prefix: 'b1' },
    });
    const live = await server.api('GET', `/api/v1/rooms/${room.id}/live`);
    const serverCpuMicros = cpuMicrosPerRequest(server.pid, before, result.requests);
    return { rps: result.rps, ratio: result.rps / b0.rps, p99: result.latency.p99, non2xx: result.non2xx + result.errors, liveAfter: live.live_participants, serverCpuMicros, loadCpuMicros: result.cpuMicrosPerRequest };
  } finally {
    receiver.child.kill();
    await server.stop();
  }
}

async function b2Batches() {
  const server = await startRoomline();
  try {
    const room = await createRoom(server);
    await server.api('POST', `/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'anchor', name: 'Anchor' }]);
    const joined = [];
    const left = [];
    // The first rounds after a start run code the JIT has not yet compiled (rounds 0–10 took up
    // to 49 ms, later ones at most 20–31): a server that has been up a minute no longer pays
    // that. They are run and reported apart, as warm-up, and are not in the p50 and p99.
    const cold = [];
    for (let batch = -SIZE.batchWarmup; batch < SIZE.batchRounds; batch++) {
      const calls = Array.from({ length: 1000 }, (_, i) => ({ call_id: `b2-${batch}-${i}`, name: `Caller ${i}`, caller_number: '+15550100' }));
      let start = now();
      await server.api('POST', `/api/v1/rooms/${room.id}/phone-participants/joined`, calls);
      const joinedMs = now() - start;
      start = now();
      await server.api('POST', `/api/v1/rooms/${room.id}/phone-participants/left`, calls.map((c) => c.call_id));
      const leftMs = now() - start;
      if (batch < 0) cold.push(joinedMs, leftMs);
      else {
        joined.push(joinedMs);
        left.push(leftMs);
      }
    }
    return {
      joinedP50: percentile(joined, 50),
      joinedP99: percentile(joined, 99),
      leftP50: percentile(left, 50),
      leftP99: percentile(left, 99),
      warmupSlowest: Math.max(...cold),
      // Every round, for spotting a periodic stall (it found the WAL's checkpoint every 34th).
      rounds: { joined: joined.map((ms) => round(ms, 1)), left: left.map((ms) => round(ms, 1)) },
    };
  } finally {
    await server.stop();
  }
}

async function b3FanOut() {
  const server = await startRoomline();
  try {
    const room = await createRoom(server);
    await server.api('POST', `/api/v1/rooms/${room.id}/phone-participants/joined`, [{ call_id: 'anchor', name: 'Anchor' }]);
    // In a cluster the watchers hold their streams on another node than the one that takes the changes.
    const watched = CLUSTER === undefined ? server : await server.addNode();
    const clients = await startChild(path.join(HERE, 'stream-clients.js'), [
      JSON.stringify({ url: `${watched.url}/api/v1/rooms/${room.id}/live/events`, authorization: server.authorization, clients: SIZE.fanoutClients }),
    ]);
    // 1000 changes a second, each a join of one call, paced by the clock rather than by answers.
    const pacer = new Pacer(server.url, { authorization: server.authorization, 'content-type': 'application/json' });
    await pacer.open();
    const answeredAt = new Map();
    const total = SIZE.fanoutSeconds * 1000;
    const start = now();
    const inFlight = [];
    for (let n = 0; n < total; n++) {
      const due = start + n;
      const wait = due - now();
      if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
      const callId = `b3-${n}`;
      inFlight.push(
        pacer.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, JSON.stringify([{ call_id: callId, name: callId }])).then(() => answeredAt.set(callId, now())),
      );
    }
    await Promise.all(inFlight);
    pacer.close();
    const achievedRate = total / ((now() - start) / 1000);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const arrivals = await new Promise((resolve) => {
      let output = clients.rest();
      clients.stdout.on('data', (chunk) => (output += chunk));
      clients.child.once('exit', () => resolve(JSON.parse(output.trim().split('\n').pop())));
      clients.child.kill('SIGTERM');
    });
    const latencies = [];
    let missing = 0;
    for (const [callId, answered] of answeredAt) {
      const received = arrivals[callId] ?? [];
      missing += SIZE.fanoutClients - received.length;
      for (const at of received) latencies.push(Math.max(0, at - answered));
    }
    return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), missing, achievedRate };
  } finally {
    await server.stop();
  }
}

async function b4Scale() {
  const server = await startRoomline();
  try {
    let sample;
    for (let r = 0; r < SIZE.rooms; r++) {
      const room = await createRoom(server);
      await joinCalls(server, room.id, `b4-${r}`, SIZE.perRoom);
      sample ??= room;
    }
    const rssMb = Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${server.pid}/status`, 'utf8'))[1]) / 1024;
    const headers = { authorization: server.authorization };
    const roster = load({ url: server.url, connections: 10, duration: SIZE.seconds, method: 'GET', path: `/api/v1/rooms/${sample.id}/live/participants`, headers });
    const rooms = load({ url: server.url, connections: 10, duration: SIZE.seconds, method: 'GET', path: '/api/v1/rooms/live', headers });
    return { rssMb, live: SIZE.rooms * SIZE.perRoom, rosterP99: roster.latency.p99, roomsLiveP99: rooms.latency.p99, non2xx: roster.non2xx + rooms.non2xx };
  } finally {
    await server.stop();
  }
}

async function b5Webhooks() {
  const server = await startRoomline();
  const receiver = await startChild(path.join(HERE, 'receiver.js'));
  try {
    const room = await createRoom(server);
    for (let w = 0; w < SIZE.webhooks; w++) {
      await server.api('POST', '/api/v1/webhooks', { endpoint: `http://127.0.0.1:${receiver.line}/w${w}`, events: ['participant_joined'] });
    }
    const expected = SIZE.webhooks * SIZE.webhookEvents;
    const start = now();
    await joinCalls(server, room.id, 'b5', SIZE.webhookEvents);
    const count = () => request(`http://127.0.0.1:${receiver.line}/count`, 'GET', '');
    let seen = await count();
    const deadline = start + 120_000;
    while (seen.distinct < expected && now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      seen = await count();
    }
    const seconds = (seen.lastAt - start) / 1000;
    return { perSecond: seen.distinct / seconds, delivered: seen.distinct, expected, lost: expected - seen.distinct, duplicates: seen.deliveries - seen.distinct };
  } finally {
    receiver.child.kill();
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------

/** What an answered change survives in the mode measured. */
async function durabilitySetting() {
  if (CLUSTER === undefined) return 'SQLite WAL, synchronous=NORMAL (ROOMLINE_SQLITE_SYNCHRONOUS default): every answered change survives kill -9';
  const setting = (name) => withPostgres(async (client) => (await client.query(`show ${name}`)).rows[0][name]);
  const [version, synchronousCommit, fsync] = [await setting('server_version'), await setting('synchronous_commit'), await setting('fsync')];
  return `PostgreSQL ${version}, synchronous_commit=${synchronousCommit}, fsync=${fsync}: ${synchronousCommit === 'off' || fsync === 'off' ? 'an answered change may be lost if PostgreSQL itself crashes' : 'every answered change is on disk before its answer'}`;
}

function row(id, figure, value, unit, goal, pass) {
  return { id, figure, value: round(value), unit, goal, status: pass === undefined ? 'INFO' : pass ? 'PASS' : 'MISS' };
}

async function main() {
  if (!fs.existsSync(path.join(REPO, 'dist', 'cli', 'main.js'))) throw new Error('dist/ is missing: run `npm run build` first');
  const started = Date.now();
  console.log(`roomline bench (${QUICK ? 'quick' : 'full'}, ${CLUSTER === undefined ? 'embedded' : 'cluster'} mode) on ${os.cpus().length} cores, Node ${process.version}`);
  const durability = await durabilitySetting();

  const b0 = await b0Ceiling();
  console.log('B0 done');
  const references = CLUSTER === undefined ? await b1References(b0) : undefined;
  const b1 = await b1SeedEndpoint(b0);
  console.log('B1 done');
  const b2 = await b2Batches();
  console.log('B2 done');
  const b3 = await b3FanOut();
  console.log('B3 done');
  const b4 = await b4Scale();
  console.log('B4 done');
  const b5 = await b5Webhooks();
  console.log('B5 done');

  const rows = [
    row('B0', 'bare node:http POST, 50 connections', b0.rps, 'req/s', 'ceiling'),
    row('B0', 'load generator CPU per request in B0 (one body)', b0.loadCpuMicros, 'µs', '—'),
    row('B1', 'seed `left` through the full stack', b1.rps, 'req/s', '—'),
    row('B1', 'seed `left` ÷ B0', b1.ratio, '×B0', '≥ 0.40', b1.ratio >= 0.4 && b1.non2xx === 0),
    ...(references === undefined
      ? []
      : [
          row('B1', 'reference: bare node:http + one SQLite row per request ÷ B0', references.node.ratio, '×B0', '—'),
          row('B1', 'reference: Fastify + the route schema + one SQLite row ÷ B0', references.fastify.ratio, '×B0', '—'),
        ]),
    row('B1', 'seed `left` p99 latency', b1.p99, 'ms', '—'),
    row('B1', 'server CPU per `left`, all its threads', b1.serverCpuMicros, 'µs', '—'),
    ...(references === undefined
      ? []
      : [
          row('B1', 'reference servers CPU per request: bare node:http', references.node.serverCpuMicros, 'µs', '—'),
          row('B1', 'reference servers CPU per request: Fastify', references.fastify.serverCpuMicros, 'µs', '—'),
        ]),
    row('B1', 'load generator CPU per request in B1 (unique call ids)', b1.loadCpuMicros, 'µs', '—'),
    row('B2', '`joined` of 1000 calls p50', b2.joinedP50, 'ms', '—'),
    row('B2', '`joined` of 1000 calls p99', b2.joinedP99, 'ms', '≤ 25', b2.joinedP99 <= 25),
    row('B2', '`left` of 1000 calls p50', b2.leftP50, 'ms', '—'),
    row('B2', '`left` of 1000 calls p99', b2.leftP99, 'ms', '≤ 25', b2.leftP99 <= 25),
    row('B2', `slowest batch of the ${SIZE.batchWarmup} warm-up rounds (not in p50, p99)`, b2.warmupSlowest, 'ms', '—'),
    row('B3', `fan-out to ${SIZE.fanoutClients} streams${CLUSTER === undefined ? '' : ' on another node'} at ${round(b3.achievedRate, 0)} changes/s, p50`, b3.p50, 'ms', '—'),
    row('B3', 'fan-out p99 (counts only at ≥ 900 changes/s)', b3.p99, 'ms', '≤ 20', b3.p99 <= 20 && b3.missing === 0 && b3.achievedRate >= 900),
    row('B4', `server RSS with ${b4.live} live participants`, b4.rssMb, 'MB', '≤ 300', b4.rssMb <= 300),
    row('B4', '`/rooms/{room}/live/participants` (100) p99', b4.rosterP99, 'ms', '≤ 5', b4.rosterP99 <= 5 && b4.non2xx === 0),
    row('B4', '`/rooms/live` p99', b4.roomsLiveP99, 'ms', '≤ 20', b4.roomsLiveP99 <= 20),
    row('B5', `webhook deliveries (${SIZE.webhooks} webhooks)`, b5.perSecond, '/s', '≥ 2000', b5.perSecond >= 2000 && b5.lost === 0),
  ];
  const checks = { b1Non2xx: b1.non2xx, b1LiveAfter: b1.liveAfter, b3Missing: b3.missing, b5Lost: b5.lost, b5Duplicates: b5.duplicates };

  console.log('');
  console.log('| id | figure | value | goal | status |');
  console.log('| --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.id} | ${r.figure} | ${r.value} ${r.unit} | ${r.goal} | ${r.status} |`);
  console.log(`\nchecks: ${JSON.stringify(checks)}`);

  const commit = (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: REPO }).toString().trim();
    } catch {
      return 'unknown';
    }
  })();
  const report = {
    mode: QUICK ? 'quick' : 'full',
    backend: CLUSTER === undefined ? 'embedded' : 'cluster',
    at: new Date().toISOString(),
    commit,
    machine: { cores: os.cpus().length, cpu: os.cpus()[0]?.model, memoryGb: round(os.totalmem() / 2 ** 30, 1), node: process.version },
    durability,
    sizes: SIZE,
    rows,
    checks,
    raw: { b0, references, b1, b2, b3, b4, b5 },
    seconds: round((Date.now() - started) / 1000, 1),
  };
  fs.mkdirSync(path.join(HERE, 'results'), { recursive: true });
  const file = CLUSTER === undefined ? 'latest.json' : 'latest-cluster.json';
  fs.writeFileSync(path.join(HERE, 'results', file), `${JSON.stringify(report, null, 2)}\n`);
  console.log(`\ndurability: ${durability}\nwritten to bench/results/${file} in ${report.seconds} s`);
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
