// Subscribes through the real npm clients and prints what each subscriber receives, one JSON line
// each, on stdout:
//   node subscribe.mjs < CONFIG_JSON
// The configuration comes on stdin (a thousand subscribers' tokens outgrow an argument):
// {"transport": "ws" | "sse", "url": "http://host:port/graphql", "query": "...",
//   "subscribers": [{"id": ..., "headers": {...}, "variables": {...}}, ...], "count": N,
//   "rampPerSecond": R, "deflate": false (both optional)}
// Every subscriber has a connection of its own (a graphql-ws client, or a graphql-sse client in
// distinct-connections mode), so N subscribers are N sockets. Over WebSocket the headers go in
// `connection_init`'s payload; over SSE they are the request's headers.
// Lines: {"id", "connected": true} (WebSocket: the server acknowledged connection_init),
// {"id", "next": RESULT, "at": EPOCH_MS}, {"id", "error": ...}, {"id", "complete": true},
// {"id", "closed": CODE, "reason": ...} (WebSocket). `at` is the wall clock when the result
// arrived, in milliseconds with a fraction, so a caller on the same machine can time write to client.
// The process exits once every subscriber has received `count` results or ended (count 0: never).
import { createClient as createWsClient } from 'graphql-ws';
import { createClient as createSseClient } from 'graphql-sse';
import WebSocket from 'ws';

let input = '';
for await (const chunk of process.stdin) input += chunk;
const config = JSON.parse(input || 'null');
if (!config) {
  console.error('usage: node subscribe.mjs < CONFIG_JSON');
  process.exit(2);
}

// One write per line; large bursts (thousands of subscribers) must not interleave lines.
function print(line) {
  process.stdout.write(JSON.stringify(line) + '\n');
}

function describe(error) {
  if (error && typeof error === 'object' && 'code' in error && 'reason' in error) {
    return { code: error.code, reason: String(error.reason) }; // a CloseEvent
  }
  if (Array.isArray(error)) return error; // GraphQL errors
  return { message: String(error?.message ?? error) };
}

// Browsers and `ws` offer permessage-deflate; `"deflate": false` opens sockets without it.
class PlainWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, { perMessageDeflate: false });
  }
}

function wsClient(subscriber) {
  return createWsClient({
    url: config.url.replace(/^http/, 'ws'),
    webSocketImpl: config.deflate === false ? PlainWebSocket : WebSocket,
    connectionParams: subscriber.headers ?? {},
    lazy: false,
    retryAttempts: 0,
    // The tests see the close code: an automatic reconnect would hide it.
    shouldRetry: () => false,
    on: {
      connected: () => print({ id: subscriber.id, connected: true }),
      closed: (event) => print({ id: subscriber.id, closed: event.code, reason: String(event.reason) }),
    },
  });
}

function sseClient(subscriber) {
  return createSseClient({
    url: config.url,
    headers: subscriber.headers ?? {},
    singleConnection: false,
    retryAttempts: 0,
  });
}

let open = config.subscribers.length;
const clients = [];

function ended() {
  open -= 1;
  if (open === 0) {
    for (const client of clients) client.dispose();
    // Sockets may linger in closing; everything each subscriber got is already printed.
    setImmediate(() => process.exit(0));
  }
}

// With `rampPerSecond`, subscribers start at that rate instead of all at once (a real
// deployment's clients arrive over time; thousands at the same instant measure a storm).
function start(subscriber) {
  const client = config.transport === 'sse' ? sseClient(subscriber) : wsClient(subscriber);
  clients.push(client);
  let received = 0;
  let done = false;
  const finish = () => {
    if (!done) {
      done = true;
      ended();
    }
  };
  const unsubscribe = client.subscribe(
    { query: config.query, variables: subscriber.variables ?? {} },
    {
      next: (result) => {
        if (done) return;
        const at = performance.timeOrigin + performance.now();
        print({ id: subscriber.id, next: result, at });
        received += 1;
        if (config.count && received >= config.count) {
          unsubscribe();
          finish();
        }
      },
      error: (error) => {
        if (done) return;
        print({ id: subscriber.id, error: describe(error) });
        finish();
      },
      complete: () => {
        if (done) return;
        print({ id: subscriber.id, complete: true });
        finish();
      },
    },
  );
}

config.subscribers.forEach((subscriber, index) => {
  if (config.rampPerSecond) {
    setTimeout(() => start(subscriber), (1000 * index) / config.rampPerSecond);
  } else {
    start(subscriber);
  }
});
