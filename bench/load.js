// The load generator, in a process of its own so it never shares a core's time with the
// server under test's event loop. Reads its job as JSON from argv[2], prints autocannon's
// result as JSON on stdout.
import autocannon from 'autocannon';

const job = JSON.parse(process.argv[2]);

/** Each request's body: fixed, or a call id numbered per request (each `left` leaves another call). */
function requestFor(job) {
  if (job.sequence === undefined) return { method: job.method, path: job.path, headers: job.headers, body: job.body };
  let next = 0;
  return {
    method: job.method,
    path: job.path,
    headers: job.headers,
    setupRequest(request) {
      request.body = JSON.stringify([`${job.sequence.prefix}-${next++}`]);
      return request;
    },
  };
}

// A run of a set number of requests ends with its last answer. autocannon reports its result,
// and its duration, only at its next one-second sample: a B1 run that took 7.1 s read 8.03 s.
const startedAt = performance.now();
const cpuAtStart = process.cpuUsage();
let lastAnswerAt = startedAt;
const instance = autocannon(
  {
    url: job.url,
    connections: job.connections,
    pipelining: 1,
    ...(job.amount !== undefined ? { amount: job.amount } : { duration: job.duration }),
    requests: [requestFor(job)],
  },
  (error, result) => {
    if (error) {
      console.error(error);
      process.exit(1);
    }
    const seconds = job.amount !== undefined ? (lastAnswerAt - startedAt) / 1000 : result.duration;
    // This process's own CPU: it shares the machine's two cores with the server it measures.
    const cpu = process.cpuUsage(cpuAtStart);
    process.stdout.write(
      JSON.stringify({
        requests: result.requests.total,
        // Requests over the run's elapsed time: autocannon's average is of whole one-second
        // samples, which moves a run of a set number of requests in steps of several percent.
        rps: result.requests.total / seconds,
        durationSeconds: seconds,
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        latency: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
        cpuMicrosPerRequest: (cpu.user + cpu.system) / Math.max(1, result.requests.total),
      }),
    );
  },
);
instance.on('response', () => {
  lastAnswerAt = performance.now();
});
autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
