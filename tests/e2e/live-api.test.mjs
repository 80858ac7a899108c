// Google's own GenAI SDK opening Live API (WebSocket) sessions through the product, as a user would: only baseUrl
// and apiKey changed. Both URL forms the SDK produces are covered: `//ws/...` from a base URL without a path, and
// `/hf/ws/...` under API_PREFIX.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { GoogleGenAI, Modality } from '@google/genai';
import { CLIENT_TOKEN, POOL_KEYS, freshModel, startEnvironment } from './harness.mjs';

const TURN_TIMEOUT_MS = 15_000;

/** The fake's Live API controls, which the shared harness does not wrap. */
function liveControl(fake) {
  const call = async (method, path, body) => {
    const response = await fetch(`${fake.baseUrl}/_fake/${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(TURN_TIMEOUT_MS),
    });
    assert.ok(response.ok, `${method} /_fake/${path} -> ${response.status}`);
    return response.status === 204 ? undefined : response.json();
  };
  return {
    setFault: (key, fault, times) => call('POST', 'live-faults', { key, fault, times }),
    sessions: () => call('GET', 'live-sessions'),
  };
}

/** Opens a session, sends one text turn, and resolves with every message up to the one completing the turn. */
async function oneTurn(baseUrl, model, text) {
  const ai = new GoogleGenAI({ apiKey: CLIENT_TOKEN, httpOptions: { baseUrl } });
  const messages = [];
  let turnDone;
  const turnComplete = new Promise((resolve) => { turnDone = resolve; });
  let closed;
  const closedPromise = new Promise((resolve) => { closed = resolve; });
  const session = await withTimeout(ai.live.connect({
    model,
    config: { responseModalities: [Modality.TEXT] },
    callbacks: {
      onmessage: (message) => {
        messages.push(message);
        if (message.serverContent?.turnComplete) turnDone();
      },
      onclose: (event) => closed(event),
    },
  }), 'live.connect');
  session.sendClientContent({ turns: text, turnComplete: true });
  await withTimeout(turnComplete, 'the turn');
  session.close();
  const close = await withTimeout(closedPromise, 'the close');
  return { messages, close };
}

function withTimeout(promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not happen within ${TURN_TIMEOUT_MS} ms`)), TURN_TIMEOUT_MS); }),
  ]).finally(() => clearTimeout(timer));
}

async function rotationStatus(gateway, prefix = '') {
  const response = await fetch(`${gateway}${prefix}/rotation-status`, { headers: { authorization: `Bearer ${CLIENT_TOKEN}` } });
  assert.equal(response.status, 200);
  return response.json();
}

/** /rotation-status once `done` holds for it (counts reach the pool in batches), or as it is after 10 s. */
async function rotationStatusWhen(gateway, done) {
  const deadline = Date.now() + 10_000;
  while (true) {
    const status = await rotationStatus(gateway);
    if (done(status) || Date.now() > deadline) return status;
    await new Promise((r) => setTimeout(r, 50));
  }
}

function modelTotals(status, model) {
  return status.data.modelStats.find((stats) => stats.name === model)?.lifetime;
}

function assertNoSecretInUrls(sessions) {
  for (const session of sessions) {
    for (const secret of [...POOL_KEYS, CLIENT_TOKEN]) {
      assert.ok(!session.path.includes(secret) && !session.query.includes(secret), `a secret reached the fake in the URL ${session.path}${session.query}`);
    }
    assert.ok(POOL_KEYS.includes(session.apiKey), `the fake saw key ${session.apiKey}, not a pool key`);
    assert.ok(!JSON.stringify(session.headers).includes(CLIENT_TOKEN), 'the client token reached the fake in a header');
  }
}

describe('Live API through a base URL without a path (the SDK asks for //ws/...)', { timeout: 120_000 }, () => {
  let env;
  let live;

  before(async () => {
    env = await startEnvironment();
    live = liveControl(env.fake);
  }, { timeout: 120_000 });

  after(async () => {
    await env?.stop();
  }, { timeout: 30_000 });

  it('a text turn answers with the text and usageMetadata, and the session counts in /rotation-status', async () => {
    const model = freshModel();
    const { messages, close } = await oneTurn(env.gateway, model, 'Hello live');

    const text = messages.map((m) => m.serverContent?.modelTurn?.parts?.map((p) => p.text).join('') ?? '').join('');
    assert.equal(text, 'Fake live answer to: Hello live');
    const usage = messages.find((m) => m.usageMetadata)?.usageMetadata;
    assert.ok(usage, 'no usageMetadata reached the client');
    assert.equal(usage.totalTokenCount, usage.promptTokenCount + usage.responseTokenCount);
    assert.equal(close.code, 1000); // the SDK's close, answered by upstream and passed back

    const status = await rotationStatusWhen(env.gateway, (s) => modelTotals(s, model)?.requests === 1);
    const totals = modelTotals(status, model);
    assert.equal(totals.requests, 1);
    assert.equal(totals.successes, 1);
    assert.equal(totals.tokens.prompt, usage.promptTokenCount);
    assert.equal(totals.tokens.candidates, usage.responseTokenCount);
    assert.equal(totals.tokens.total, usage.totalTokenCount);

    const sessions = (await live.sessions()).filter((s) => s.model === model);
    assert.equal(sessions.length, 1);
    assert.equal(sessions[0].path, '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent');
    assert.equal(sessions[0].query, '');
    assert.deepEqual(sessions[0].clientMessageTypes, ['text', 'text']); // setup and turn, in the frame type the SDK used
    assert.equal(sessions[0].ended, true);
    assertNoSecretInUrls(sessions);
  });

  it('keys refused on the handshake (429) and by an immediate close (1011 quota) are retried before the client sees anything', async () => {
    const model = freshModel();
    const before = (await live.sessions()).length;
    // whichever keys come first for this new model: two of three refuse once, the third serves
    await live.setFault(POOL_KEYS[0], 'Handshake429', 1);
    await live.setFault(POOL_KEYS[1], 'Close1011Quota', 1);

    const { messages } = await oneTurn(env.gateway, model, 'Second try');

    assert.ok(messages.some((m) => m.serverContent?.turnComplete), 'the turn did not complete');
    const attempts = (await live.sessions()).slice(before);
    assert.equal(attempts.length, 3, JSON.stringify(attempts.map((s) => [s.apiKey, s.fault])));
    assert.deepEqual(attempts.map((s) => s.fault).sort(), ['Close1011Quota', 'Handshake429', null].sort());
    const served = attempts.find((s) => s.fault === null);
    assert.equal(served.apiKey, POOL_KEYS[2]);
    assertNoSecretInUrls(attempts);

    // both refusals cooled their key for this model, as the same answers over HTTP would
    const status = await rotationStatusWhen(env.gateway, (s) => modelTotals(s, model)?.requests === 3);
    const cooling = status.data.keys.filter((k) => k.cooldowns.some((c) => c.model === model)).map((k) => k.index).sort();
    assert.deepEqual(cooling, [0, 1]);
    assert.equal(modelTotals(status, model).failures.rateLimited, 2);
  });

  it('a request without a client token gets 401 before any upgrade', async () => {
    const answer = await new Promise((resolve, reject) => {
      const request = http.request(`${env.gateway}/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent`, {
        headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' },
      });
      request.once('upgrade', () => reject(new Error('the gateway upgraded a request without a client token')));
      request.once('response', (response) => {
        let body = '';
        response.on('data', (chunk) => { body += chunk; });
        response.on('end', () => resolve({ status: response.statusCode, body }));
      });
      request.once('error', reject);
      request.end();
    });
    assert.equal(answer.status, 401);
    assert.equal(JSON.parse(answer.body).error.code, 401);
    assert.equal((await live.sessions()).filter((s) => s.apiKey === null).length, 0);
  });
});

describe('Live API under API_PREFIX', { timeout: 120_000 }, () => {
  let env;
  let live;

  before(async () => {
    env = await startEnvironment({ settings: { API_PREFIX: '/hf' } });
    live = liveControl(env.fake);
  }, { timeout: 120_000 });

  after(async () => {
    await env?.stop();
  }, { timeout: 30_000 });

  it('a text turn works with a base URL that carries the prefix, and v1alpha reaches upstream as v1alpha', async () => {
    const model = freshModel();
    const ai = new GoogleGenAI({ apiKey: CLIENT_TOKEN, httpOptions: { baseUrl: `${env.gateway}/hf`, apiVersion: 'v1alpha' } });
    let done;
    const turn = new Promise((resolve) => { done = resolve; });
    const messages = [];
    const session = await withTimeout(ai.live.connect({
      model,
      config: { responseModalities: [Modality.TEXT] },
      callbacks: { onmessage: (m) => { messages.push(m); if (m.serverContent?.turnComplete) done(); } },
    }), 'live.connect');
    session.sendClientContent({ turns: 'Prefixed', turnComplete: true });
    await withTimeout(turn, 'the turn');
    session.close();

    assert.ok(messages.some((m) => m.usageMetadata?.totalTokenCount > 0));
    const [recorded] = (await live.sessions()).filter((s) => s.model === model);
    assert.equal(recorded.path, '/ws/google.ai.generativelanguage.v1alpha.GenerativeService.BidiGenerateContent');
    assertNoSecretInUrls([recorded]);
  });
});
