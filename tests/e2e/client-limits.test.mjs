// Named clients of CLIENTS_FILE through the real SDKs: the OpenAI JavaScript SDK sees its limits in the x-ratelimit-*
// headers; Google's GenAI SDK opens Live API sessions that count against the client's limits and usage.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { RateLimitError } from 'openai';
import { GoogleGenAI, Modality } from '@google/genai';
import { freshModel, startEnvironment } from './harness.mjs';

const CLIENT_TOKEN = 'e2e-named-client-token';
const LIVE_TOKEN = 'e2e-live-client-token';
const TURN_TIMEOUT_MS = 15_000;
let env;
let dir;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gemini-party-e2e-clients-'));
  const clientsFile = join(dir, 'clients');
  writeFileSync(clientsFile, `sdk-team ${CLIENT_TOKEN} rpm=2 tpd=1000000\nlive-team ${LIVE_TOKEN} rpm=1\n`);
  env = await startEnvironment({ settings: { CLIENTS_FILE: clientsFile } });
}, { timeout: 120_000 });

after(async () => {
  await env?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, { timeout: 30_000 });

const header = (headers, name) => (typeof headers?.get === 'function' ? headers.get(name) : headers?.[name]);

describe('OpenAI SDK as a named client', { timeout: 60_000 }, () => {
  it('sees x-ratelimit-* on answers and a RateLimitError with Retry-After past its rpm', async () => {
    const openai = new OpenAI({ baseURL: `${env.gateway}/v1`, apiKey: CLIENT_TOKEN, maxRetries: 0, timeout: 20_000 });
    const model = freshModel();
    const ask = () => openai.chat.completions.create({ model, messages: [{ role: 'user', content: 'Say hi' }] }).withResponse();

    const { data, response } = await ask();
    assert.equal(data.object, 'chat.completion');
    assert.equal(header(response.headers, 'x-ratelimit-limit-requests'), '2');
    assert.equal(header(response.headers, 'x-ratelimit-remaining-requests'), '1');
    assert.match(header(response.headers, 'x-ratelimit-reset-requests'), /^\d+(ms|s)$|^\d+m\d+s$/);
    assert.equal(header(response.headers, 'x-ratelimit-limit-tokens'), '1000000');
    assert.equal(header(response.headers, 'x-ratelimit-remaining-tokens'), '1000000');

    const second = await ask();
    assert.equal(header(second.response.headers, 'x-ratelimit-remaining-requests'), '0');

    await assert.rejects(ask(), (error) => {
      assert.ok(error instanceof RateLimitError, `expected a RateLimitError, got ${error}`);
      assert.equal(error.status, 429);
      assert.match(error.message, /2 requests per minute \(rpm\)/);
      assert.equal(header(error.headers, 'x-ratelimit-remaining-requests'), '0');
      assert.ok(Number(header(error.headers, 'retry-after')) > 0);
      return true;
    });
    const upstream = (await env.fake.requests()).filter((r) => r.model === model);
    assert.equal(upstream.length, 2);
  });
});

function withTimeout(promise, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what} did not happen within ${TURN_TIMEOUT_MS} ms`)), TURN_TIMEOUT_MS); }),
  ]).finally(() => clearTimeout(timer));
}

/** The client's own /usage once `done` holds for its today (usage reaches the client grain in batches), or after 10 s. */
async function todayWhen(gateway, token, done) {
  const deadline = Date.now() + 10_000;
  while (true) {
    const response = await fetch(`${gateway}/usage`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(response.status, 200);
    const today = (await response.json()).clients[0].today;
    if (done(today) || Date.now() > deadline) return today;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Google GenAI SDK Live sessions as a named client', { timeout: 60_000 }, () => {
  it('a session is one request of its rpm with its tokens in /usage, and past rpm the next connect is refused with 429', async () => {
    const model = freshModel();
    const ai = new GoogleGenAI({ apiKey: LIVE_TOKEN, httpOptions: { baseUrl: env.gateway } });
    const messages = [];
    let turnDone;
    const turn = new Promise((resolve) => { turnDone = resolve; });
    const session = await withTimeout(ai.live.connect({
      model,
      config: { responseModalities: [Modality.TEXT] },
      callbacks: {
        onmessage: (message) => {
          messages.push(message);
          if (message.serverContent?.turnComplete) turnDone();
        },
      },
    }), 'live.connect');
    session.sendClientContent({ turns: 'Count my tokens', turnComplete: true });
    await withTimeout(turn, 'the turn');
    session.close();
    const usage = messages.find((m) => m.usageMetadata)?.usageMetadata;
    assert.ok(usage, 'no usageMetadata reached the client');

    const today = await todayWhen(env.gateway, LIVE_TOKEN, (t) => t.totalTokens === usage.totalTokenCount);
    assert.equal(today.requests, 1);
    assert.equal(today.totalTokens, usage.totalTokenCount);
    assert.equal(today.promptTokens, usage.promptTokenCount);

    // rpm=1 is spent: the SDK's second connect never opens, its WebSocket reports the handshake's 429
    const refused = await withTimeout(new Promise((resolve, reject) => {
      new GoogleGenAI({ apiKey: LIVE_TOKEN, httpOptions: { baseUrl: env.gateway } }).live.connect({
        model,
        config: { responseModalities: [Modality.TEXT] },
        callbacks: { onmessage: () => {}, onerror: (event) => resolve(event) },
      }).then(() => reject(new Error('a second session opened past rpm=1')), reject);
    }), 'the refusal');
    assert.match(String(refused.message), /429/);
    const upstream = (await (await fetch(`${env.fake.baseUrl}/_fake/live-sessions`)).json()).filter((s) => s.model === model);
    assert.equal(upstream.length, 1);
    const after = await todayWhen(env.gateway, LIVE_TOKEN, (t) => t.refused === 1);
    assert.equal(after.refused, 1);
  });
});
