import { parentPort, workerData } from 'node:worker_threads';
import { Agent, request } from 'undici';
import { AddressNotAllowedError, createAddressPolicy } from './addresses.js';
import { signatureHeader } from './signature.js';
import { describeFailure, type Post, type PostOutcome, type SenderSettings } from './sender.js';

/**
 * The webhook sender's thread (see sender.ts): every attempt's HTTP exchange, from the
 * connection and its address check to the answer's last byte, with the signature made just
 * before it goes.
 */

const { addressMode, timeoutMs } = workerData as SenderSettings;
const addresses = createAddressPolicy(addressMode);
const agent = new Agent({
  keepAliveTimeout: 10_000,
  connections: 16,
  headersTimeout: timeoutMs,
  bodyTimeout: timeoutMs,
  // A name's addresses are checked as it is connected to, not when the webhook was defined:
  // what it resolves to may have changed since (DNS rebinding).
  connect: { lookup: addresses.lookup },
});

async function attempt(post: Post): Promise<PostOutcome> {
  try {
    const headers = { ...post.headers, 'x-roomline-signature': signatureHeader(post.signingKey, post.body, Math.floor(Date.now() / 1000)) };
    const response = await request(post.endpoint, {
      method: 'POST',
      headers,
      body: post.body,
      dispatcher: agent,
      signal: AbortSignal.timeout(timeoutMs),
    });
    // Read to its end (bounded), so the connection serves the next attempt.
    await response.body.dump({ limit: 64 * 1024 });
    return { id: post.id, statusCode: response.statusCode };
  } catch (cause) {
    const refused = cause instanceof AddressNotAllowedError ? { address: cause.address, kind: cause.kind, detail: cause.detail } : undefined;
    return { id: post.id, error: describeFailure(cause), refused };
  }
}

parentPort!.on('message', (message: Post | 'stop') => {
  if (message === 'stop') {
    void agent.close().finally(() => parentPort!.close());
    return;
  }
  void attempt(message).then((outcome) => parentPort!.postMessage(outcome));
});
parentPort!.postMessage('ready');
