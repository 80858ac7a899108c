// A named client of CLIENTS_FILE through the real OpenAI JavaScript SDK: it sees its limits in the x-ratelimit-* headers.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { RateLimitError } from 'openai';
import { freshModel, startEnvironment } from './harness.mjs';

const CLIENT_TOKEN = 'e2e-named-client-token';
let env;
let dir;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gemini-party-e2e-clients-'));
  const clientsFile = join(dir, 'clients');
  writeFileSync(clientsFile, `sdk-team ${CLIENT_TOKEN} rpm=2 tpd=1000000\n`);
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
