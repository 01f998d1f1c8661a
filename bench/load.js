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
    process.stdout.write(
      JSON.stringify({
        requests: result.requests.total,
        // Requests over the run's elapsed time: autocannon's average is of whole one-second
        // samples, which moves a run of a set number of requests in steps of several percent.
        rps: result.requests.total / result.duration,
        durationSeconds: result.duration,
        non2xx: result.non2xx,
        errors: result.errors,
        timeouts: result.timeouts,
        latency: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
      }),
    );
  },
);
autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false });
