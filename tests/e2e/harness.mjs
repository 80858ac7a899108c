// Starts the fake Gemini upstream and the product (as the README runs it) for one test file, and stops both after.
// Assumes `dotnet build gemini-party.slnx` has run: nothing is built here.
import { spawn } from 'node:child_process';
import { request as httpRequest, createServer as createHttpServer } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fakeDll = join(root, 'tests/FakeGemini/bin/Debug/net10.0/FakeGemini.dll');
const productDll = join(root, 'src/Frontend/bin/Debug/net10.0/GeminiParty.Frontend.dll');
const siloDll = join(root, 'src/Silo/bin/Debug/net10.0/GeminiParty.Silo.dll');
const redisServer = '/usr/bin/redis-server';

const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;
const CALL_TIMEOUT_MS = 15_000;

/** Distinctive pool keys: any response or upstream request carrying something else has leaked or lost a secret. */
export const POOL_KEYS = [
  'AIzaSyE2eKey0-aaaaaaaaaaaaaaaaaaaaaaaaa',
  'AIzaSyE2eKey1-bbbbbbbbbbbbbbbbbbbbbbbbb',
  'AIzaSyE2eKey2-ccccccccccccccccccccccccc',
];
export const CLIENT_TOKEN = 'e2e-client-token-7f3a';

/** Product settings that must come from this harness only, not from the caller's shell. */
const PRODUCT_SETTINGS = [
  'ADMIN_TOKEN', 'API_PREFIX', 'MAX_UPLOAD_MB', 'MAX_AFFINITY_WAIT', 'PUBLIC_BASE_URL', 'TRUST_FORWARDED_HEADERS', 'AUTH_TOKEN', 'CLIENTS_FILE', 'BLACKLIST_TIMEOUT', 'COUNTER_FLUSH_INTERVAL', 'DEFAULT_MAX_RETRIES', 'GEMINI_API_KEY',
  'GEMINI_BASE_URL', 'HARM_CATEGORY_CIVIC_INTEGRITY', 'HARM_CATEGORY_DANGEROUS_CONTENT', 'HARM_CATEGORY_HARASSMENT',
  'HARM_CATEGORY_HATE_SPEECH', 'HARM_CATEGORY_SEXUALLY_EXPLICIT', 'MAX_REQUEST_BODY_MB', 'ORLEANS_ADVERTISED_IP',
  'ORLEANS_CLUSTER_ID', 'ORLEANS_GATEWAY_PORT', 'ORLEANS_SERVICE_ID', 'ORLEANS_SILO_PORT', 'POD_IP', 'PORT',
  'REDIS_CONNECTION_STRING', 'ROTATION_RESET_INTERVAL', 'STREAM_IDLE_TIMEOUT', 'UPSTREAM_TIMEOUT', 'ASPNETCORE_URLS',
  'URLS', 'FAKE_GEMINI_KEYS', 'FAKE_GEMINI_LATENCY_MS', 'FAKE_GEMINI_FAST', 'FAKE_GEMINI_STREAM_EVENTS',
  'FAKE_GEMINI_STREAM_DELAY_MS',
];

const running = new Set();

// Whatever ends this process (a failed before(), a thrown error, the runner's timeout), the servers go with it.
process.once('exit', () => {
  for (const child of running) {
    signalGroup(child, 'SIGKILL');
  }
});
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => process.exit(130));
}

/** A model name no other test uses, so rotation and cooldowns start fresh. */
export function freshModel() {
  return `gemini-e2e-${randomUUID().slice(0, 8)}`;
}

/**
 * Starts the fake upstream and the product. Returns { gateway, token, keys, fake, stop }.
 * `gateway` is the product's base URL without a trailing slash. `keys` replaces the pool keys (the soak needs six);
 * `settings` adds product settings (e.g. BLACKLIST_TIMEOUT).
 */
export async function startEnvironment({ keys = POOL_KEYS, settings = {} } = {}) {
  for (const [dll, what] of [[fakeDll, 'the fake upstream'], [productDll, 'the product']]) {
    if (!existsSync(dll)) {
      throw new Error(`${dll} (${what}) is missing: run \`dotnet build gemini-party.slnx\` in ${root} before \`npm run test:e2e\`.`);
    }
  }
  const started = [];
  const workDir = mkdtempSync(join(tmpdir(), 'gemini-party-e2e-'));
  try {
    const fakeProcess = launch('fake', 'dotnet', [fakeDll, '--urls', 'http://127.0.0.1:0'], {
      FAKE_GEMINI_KEYS: keys.join(','),
    }, root);
    started.push(fakeProcess);
    const fakeUrl = await fakeProcess.waitForLine(/FakeGemini listening on (http:\/\/\S+)/, START_TIMEOUT_MS);

    const [port, siloPort, gatewayPort] = await freePorts(3);
    // a working directory of its own: a developer's .env in the clone must not change what is tested
    const product = launch('product', 'dotnet', ['run', '--no-build', '--project', join(root, 'src/Frontend')], {
      MAX_WAIT: '0', // the immediate 429 the SDK tests expect, unless a test asks for waiting
      ...settings,
      GEMINI_API_KEY: keys.join(','),
      AUTH_TOKEN: CLIENT_TOKEN,
      GEMINI_BASE_URL: fakeUrl,
      PORT: String(port),
      ORLEANS_SILO_PORT: String(siloPort),
      ORLEANS_GATEWAY_PORT: String(gatewayPort),
      DOTNET_NOLOGO: '1',
    }, workDir);
    started.push(product);
    const gateway = `http://127.0.0.1:${port}`;
    await waitUntilReady(product, `${gateway}/readyz`);

    const stop = async () => {
      await Promise.all(started.map((child) => child.stop()));
      rmSync(workDir, { recursive: true, force: true });
    };
    return { gateway, token: CLIENT_TOKEN, keys, fake: fakeControl(fakeUrl), stop };
  } catch (error) {
    const logs = started.map((child) => `--- ${child.name} output ---\n${child.output()}`).join('\n');
    await Promise.all(started.map((child) => child.stop()));
    rmSync(workDir, { recursive: true, force: true });
    error.message += `\n${logs}`;
    throw error;
  }
}

/**
 * A cluster as Kubernetes runs it, on this machine: the fake upstream, redis-server, two silos and two frontends
 * (Orleans clients), behind a round-robin proxy that sends each request to the other frontend than the last, as a
 * load balancer without affinity does. Returns what startEnvironment returns, `gateway` being the proxy, plus
 * `routed`: the frontend (0 or 1), method and path of every request the proxy passed on.
 */
export async function startCluster({ keys = POOL_KEYS, settings = {} } = {}) {
  for (const [file, what] of [[fakeDll, 'the fake upstream'], [productDll, 'the frontend'], [siloDll, 'the silo'], [redisServer, 'redis-server (apt-get install redis-server)']]) {
    if (!existsSync(file)) {
      throw new Error(`${file} (${what}) is missing: run \`dotnet build gemini-party.slnx\` in ${root} first.`);
    }
  }
  const started = [];
  const workDir = mkdtempSync(join(tmpdir(), 'gemini-party-e2e-cluster-'));
  let proxy;
  try {
    const fakeProcess = launch('fake', 'dotnet', [fakeDll, '--urls', 'http://127.0.0.1:0'], { FAKE_GEMINI_KEYS: keys.join(',') }, root);
    started.push(fakeProcess);
    const fakeUrl = await fakeProcess.waitForLine(/FakeGemini listening on (http:\/\/\S+)/, START_TIMEOUT_MS);

    const [redisPort, proxyPort, ...ports] = await freePorts(2 + 2 * 3 + 2);
    const redis = launch('redis', redisServer, ['--port', String(redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no'], {}, workDir);
    started.push(redis);
    await redis.waitForLine(/(Ready to accept connections)/, START_TIMEOUT_MS);

    const common = {
      MAX_WAIT: '0',
      ...settings,
      REDIS_CONNECTION_STRING: `127.0.0.1:${redisPort}`,
      ORLEANS_CLUSTER_ID: `e2e-${randomUUID().slice(0, 8)}`,
      ORLEANS_ADVERTISED_IP: '127.0.0.1',
      GEMINI_API_KEY: keys.join(','),
      AUTH_TOKEN: CLIENT_TOKEN,
      GEMINI_BASE_URL: fakeUrl,
      DOTNET_NOLOGO: '1',
    };
    const silos = [0, 1].map((i) => launch(`silo-${i}`, 'dotnet', [siloDll], {
      ...common, PORT: String(ports[3 * i]), ORLEANS_SILO_PORT: String(ports[3 * i + 1]), ORLEANS_GATEWAY_PORT: String(ports[3 * i + 2]),
    }, workDir));
    started.push(...silos);
    await Promise.all(silos.map((silo, i) => waitUntilReady(silo, `http://127.0.0.1:${ports[3 * i]}/readyz`)));
    const frontendPorts = ports.slice(6, 8);
    const frontends = frontendPorts.map((port, i) => launch(`frontend-${i}`, 'dotnet', [productDll], { ...common, PORT: String(port) }, workDir));
    started.push(...frontends);
    await Promise.all(frontends.map((frontend, i) => waitUntilReady(frontend, `http://127.0.0.1:${frontendPorts[i]}/readyz`)));

    const routed = [];
    let next = 0;
    proxy = createHttpServer((incoming, outgoing) => {
      const frontend = next++ % frontendPorts.length;
      routed.push({ frontend, method: incoming.method, path: incoming.url });
      const forwarded = httpRequest({ host: '127.0.0.1', port: frontendPorts[frontend], method: incoming.method, path: incoming.url, headers: incoming.headers }, (answer) => {
        outgoing.writeHead(answer.statusCode, answer.rawHeaders);
        answer.pipe(outgoing);
      });
      forwarded.once('error', (error) => outgoing.destroy(error));
      incoming.pipe(forwarded);
    });
    await new Promise((resolveListen) => proxy.listen(proxyPort, '127.0.0.1', resolveListen));

    const stop = async () => {
      await new Promise((r) => proxy.close(r));
      // frontends first, then silos, then Redis: as a rolling shutdown would
      for (const group of [frontends, silos, [redis], [fakeProcess]]) {
        await Promise.all(group.map((child) => child.stop()));
      }
      rmSync(workDir, { recursive: true, force: true });
    };
    return { gateway: `http://127.0.0.1:${proxyPort}`, token: CLIENT_TOKEN, keys, fake: fakeControl(fakeUrl), routed, stop };
  } catch (error) {
    const logs = started.map((child) => `--- ${child.name} output ---\n${child.output()}`).join('\n');
    proxy?.close();
    await Promise.all(started.map((child) => child.stop()));
    rmSync(workDir, { recursive: true, force: true });
    error.message += `\n${logs}`;
    throw error;
  }
}

/** The fake's /_fake control API: scripted faults, recorded requests, running options. */
function fakeControl(baseUrl) {
  const call = async (method, path, body) => {
    const response = await fetch(`${baseUrl}/_fake/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
    });
    if (!response.ok) {
      throw new Error(`${method} /_fake/${path} -> ${response.status}: ${await response.text()}`);
    }
    return response.status === 204 ? undefined : response.json();
  };
  return {
    baseUrl,
    /** e.g. setFault(key, 'RateLimitPerMinute', { times: 1, retryDelaySeconds: 30 }) or ('ArrayWrappedError', { status: 400 }) */
    setFault: (key, fault, extra = {}) => call('POST', 'faults', { key, fault, ...extra }),
    clearFaults: () => call('DELETE', 'faults'),
    reset: () => call('POST', 'reset'),
    releaseStreams: () => call('POST', 'release-streams'),
    setOptions: (patch) => call('POST', 'options', patch),
    stats: () => call('GET', 'stats'),
    /** Recorded requests, with `body` decoded to text. */
    requests: async () => (await call('GET', 'requests')).map((r) => ({
      ...r,
      body: Buffer.from(r.bodyBase64 ?? '', 'base64').toString('utf8'),
    })),
  };
}

/** Spawns a process in a group of its own (so `dotnet run` and the app it starts stop together) and keeps its output. */
function launch(name, command, args, env, cwd) {
  const inherited = { ...process.env };
  for (const setting of PRODUCT_SETTINGS) {
    delete inherited[setting];
  }
  const child = spawn(command, args, {
    cwd,
    env: { ...inherited, ...env },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const lines = [];
  const waiters = [];
  let exited = null;
  const exitPromise = new Promise((resolveExit) => {
    child.once('exit', (code, signal) => {
      exited = { code, signal };
      running.delete(child);
      for (const waiter of waiters.splice(0)) {
        waiter.reject(new Error(`${name} exited (code ${code}, signal ${signal}) before printing ${waiter.pattern}`));
      }
      resolveExit(exited);
    });
  });
  const onData = (chunk) => {
    for (const line of chunk.toString('utf8').split(/\r?\n/)) {
      if (line.length === 0) continue;
      lines.push(line);
      if (lines.length > 400) lines.shift();
      if (process.env.E2E_VERBOSE) process.stderr.write(`[${name}] ${line}\n`);
      for (const waiter of [...waiters]) {
        const match = waiter.pattern.exec(line);
        if (match) {
          waiters.splice(waiters.indexOf(waiter), 1);
          waiter.resolve(match[1]);
        }
      }
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.once('error', (error) => {
    for (const waiter of waiters.splice(0)) waiter.reject(error);
  });

  return {
    name,
    output: () => lines.join('\n'),
    exited: () => exited,
    waitForLine(pattern, timeoutMs) {
      return withTimeout(new Promise((resolveLine, rejectLine) => {
        if (exited) {
          rejectLine(new Error(`${name} already exited`));
          return;
        }
        waiters.push({ pattern, resolve: resolveLine, reject: rejectLine });
      }), timeoutMs, `${name} did not print ${pattern} within ${timeoutMs} ms`);
    },
    async stop() {
      if (exited || child.exitCode !== null || child.signalCode !== null) return;
      signalGroup(child, 'SIGTERM');
      const timer = setTimeout(() => signalGroup(child, 'SIGKILL'), STOP_TIMEOUT_MS);
      await exitPromise;
      clearTimeout(timer);
      signalGroup(child, 'SIGKILL'); // a grandchild that ignored SIGTERM must not outlive the suite
    },
  };
}

function signalGroup(child, signal) {
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

async function waitUntilReady(product, url) {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (product.exited()) {
      throw new Error(`${product.name} exited before it was ready (${JSON.stringify(product.exited())})`);
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (response.status === 200) return;
      last = `status ${response.status}`;
    } catch (error) {
      last = error.cause?.code ?? error.message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} was not ready within ${START_TIMEOUT_MS} ms (last: ${last})`);
}

async function freePorts(count) {
  const servers = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = createServer();
      await new Promise((resolveListen, rejectListen) => {
        server.once('error', rejectListen);
        server.listen(0, '127.0.0.1', resolveListen);
      });
      servers.push(server);
    }
    return servers.map((server) => server.address().port);
  } finally {
    await Promise.all(servers.map((server) => new Promise((r) => server.close(r))));
  }
}

function withTimeout(promise, ms, message) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, rejectTimeout) => {
      timer = setTimeout(() => rejectTimeout(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** Asserts every request the fake recorded carried a pool key and nowhere the client token. */
export function assertOnlyPoolKeys(assert, requests, token = CLIENT_TOKEN) {
  assert.ok(requests.length > 0, 'the fake recorded no request');
  for (const request of requests) {
    assert.ok(POOL_KEYS.includes(request.apiKey), `${request.method} ${request.path} reached the fake with key ${request.apiKey}`);
    const headers = JSON.stringify(request.headers ?? {});
    assert.ok(!headers.includes(token), `the client token reached the fake in a header of ${request.path}`);
    assert.ok(!(request.query ?? '').includes(token), `the client token reached the fake in the query of ${request.path}`);
    assert.ok(!request.body.includes(token), `the client token reached the fake in the body of ${request.path}`);
  }
}
