import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, createPhoneRoom, liveCallIds } from '../helpers/rooms.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const run = promisify(execFile);
const here = path.dirname(new URL(import.meta.url).pathname);
const sample = (name: string) => fs.readFileSync(path.join(here, name), 'utf8');

/** What the samples point at, and the two calls they report as gone. */
const DS_HOST = 'https://api.digitalsamba.com';
const CURL_ROOM = '45d125d8-bac9-43a5-a6a8-311a5433239d';
const JAVA_ROOM = 'c39d7c40-7ff7-4faa-b06f-698a639a9523';
const SEED_CALLS = ['53858671-c5e0-441a-9e33-e5d7f7f1861e', '074f23f1-6a8e-4856-8779-5cc888456d5c'];
const JACKSON_JARS = ['jackson-databind', 'jackson-core', 'jackson-annotations'].map((name) => `/usr/share/java/${name}.jar`);

describe('the seed: Participant Leave, its samples run verbatim', () => {
  let t: TestServer;
  let work: string;
  beforeAll(async () => {
    t = await startTestServer();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'roomline-seed-'));
  });
  afterAll(async () => {
    await t.stop();
    fs.rmSync(work, { recursive: true, force: true });
  });

  /** A room where the seed's two calls and one more are live. */
  async function roomWithSeedCalls(): Promise<string> {
    const room = await createPhoneRoom(t.api);
    const joined = await t.api.post(`/api/v1/rooms/${room.id}/phone-participants/joined`, [...SEED_CALLS, 'stays'].map((callId) => call(callId)));
    expect(joined.status).toBe(200);
    expect(await liveCallIds(t.api, room.id)).toEqual([...SEED_CALLS, 'stays'].sort());
    return room.id;
  }

  it('cURL: Basic auth via --user; 200 with an empty body, and the two calls are gone', async () => {
    const roomId = await roomWithSeedCalls();
    const command = sample('participant-leave.curl.sh')
      .replace(DS_HOST, t.url)
      .replace(CURL_ROOM, roomId)
      .replace('YOUR_TEAM_ID:YOUR_DEVELOPER_KEY', `${t.teamA.team_id}:${t.teamA.developer_key}`);
    // The command runs exactly as written; curl's own config file adds only the status line to its output.
    fs.writeFileSync(path.join(work, '.curlrc'), 'silent\nshow-error\nwrite-out = "\\n%{http_code}"\n');
    const { stdout } = await run('bash', ['-c', command], { env: { ...process.env, CURL_HOME: work } });
    const [body, status] = stdout.split('\n');
    expect(status).toBe('200');
    expect(body).toBe('');
    expect(await liveCallIds(t.api, roomId)).toEqual(['stays']);
  });

  it('Java: Bearer base64(team:key), Jackson and java.net.http; 200 with an empty body, and the two calls are gone', async (context) => {
    const missing = ['javac', 'java'].filter((tool) => !onPath(tool)).concat(JACKSON_JARS.filter((jar) => !fs.existsSync(jar)));
    if (missing.length > 0) {
      const message = `the Java sample needs ${missing.join(', ')} (apt-get install -y default-jdk-headless libjackson2-databind-java)`;
      if (process.env.CI === 'true') throw new Error(message);
      console.warn(`skipped: ${message}`);
      return context.skip(message);
    }
    const roomId = await roomWithSeedCalls();
    const statements = sample('participant-leave.java.txt')
      .replace(DS_HOST, t.url)
      .replace(JAVA_ROOM, roomId)
      .replace('"YOUR_TEAM_ID"', `"${t.teamA.team_id}"`)
      .replace('"YOUR_DEVELOPER_KEY"', `"${t.teamA.developer_key}"`);
    const imports = statements.split('\n').filter((line) => line.startsWith('import '));
    const body = statements.split('\n').filter((line) => !line.startsWith('import '));
    // The sample's statements, as written, in a class; plus the two imports the sample forgets.
    const program = [...imports, 'import java.util.List;', 'import java.util.Arrays;', '', 'public class Seed {', '  public static void main(String[] a) throws Exception {', ...body, '  }', '}', ''].join('\n');
    fs.writeFileSync(path.join(work, 'Seed.java'), program);
    const classPath = JACKSON_JARS.join(':');
    await run('javac', ['-cp', classPath, '-d', work, path.join(work, 'Seed.java')]);
    const { stdout } = await run('java', ['-cp', `${work}:${classPath}`, 'Seed']);
    expect(stdout).toBe('Status code: 200\nBody: \n');
    expect(await liveCallIds(t.api, roomId)).toEqual(['stays']);
  });
});

function onPath(tool: string): boolean {
  return (process.env.PATH ?? '').split(path.delimiter).some((folder) => fs.existsSync(path.join(folder, tool)));
}
