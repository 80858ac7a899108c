// When the pool runs dry or upstream misbehaves mid-answer, both SDKs see what they should: keep-alive comments are
// skipped, empty answers come back answered by another key, a stream broken after its first byte raises an error,
// requests wait for a cooling key, and a model whose keys cool past the wait is served by the next of its chain.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { APIError } from 'openai';
import { ApiError, GoogleGenAI } from '@google/genai';
import { POOL_KEYS, freshModel, startEnvironment } from './harness.mjs';

let env;

before(async () => {
  env = await startEnvironment({
    settings: {
      STREAM_KEEPALIVE: '200',
      MAX_WAIT: '5000',
      MODEL_FALLBACKS: 'e2e-fb-genai-a>e2e-fb-genai-b,e2e-fb-openai-a>e2e-fb-openai-b,e2e-fb-off-a>e2e-fb-off-b',
    },
  });
}, { timeout: 120_000 });

after(async () => {
  await env?.stop();
}, { timeout: 30_000 });

function genai() {
  return new GoogleGenAI({ apiKey: env.token, httpOptions: { baseUrl: env.gateway, timeout: 20_000 } });
}

function openai() {
  return new OpenAI({ baseURL: `${env.gateway}/v1beta/openai/`, apiKey: env.token, maxRetries: 0, timeout: 20_000 });
}

async function modelsSeen(model) {
  return (await env.fake.requests()).filter((r) => r.model === model);
}

/** Every pool key misbehaves once: the first request of a fresh model meets the fault, whichever key it gets. */
async function faultEveryKeyOnce(fault) {
  for (const key of POOL_KEYS) {
    await env.fake.setFault(key, fault, { times: 1 });
  }
}

describe('keep-alive comments during a silent stream', { timeout: 60_000 }, () => {
  it('a paused stream arrives whole through both SDKs, the comments unseen', async () => {
    // 1.2 s of silence after the first event with a 200 ms keep-alive: several comments go out mid-stream
    await env.fake.setOptions({ streamIdleAfterFirstEventMs: 1200 });
    try {
      const native = await genai().models.generateContentStream({ model: freshModel(), contents: 'Count to three' });
      const texts = [];
      for await (const chunk of native) {
        texts.push(chunk.text ?? '');
      }
      assert.equal(texts.length, 3);
      assert.ok(texts.every((text) => text.length > 0 || text === ''));
      assert.ok(texts.join('').length > 0);

      const chunks = [];
      const stream = await openai().chat.completions.create({
        model: freshModel(), stream: true, messages: [{ role: 'user', content: 'Count to three' }],
      });
      for await (const chunk of stream) {
        chunks.push(chunk);
      }
      assert.ok(chunks.length >= 2);
      assert.ok(chunks.every((chunk) => Array.isArray(chunk.choices)));
      assert.ok(chunks.map((chunk) => chunk.choices[0]?.delta?.content ?? '').join('').length > 0);
    } finally {
      await env.fake.setOptions({ streamIdleAfterFirstEventMs: 0 });
    }
  });

  it('the comments really are on the wire', async () => {
    await env.fake.setOptions({ streamIdleAfterFirstEventMs: 800 });
    try {
      const response = await fetch(`${env.gateway}/v1beta/models/${freshModel()}:streamGenerateContent?alt=sse`, {
        method: 'POST',
        headers: { 'x-goog-api-key': env.token, 'content-type': 'application/json' },
        body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
      });
      const text = await response.text();
      assert.match(text, /\n: keep-alive\n\n/);
    } finally {
      await env.fake.setOptions({ streamIdleAfterFirstEventMs: 0 });
    }
  });
});

describe('empty answers', { timeout: 60_000 }, () => {
  it('an empty 200 is answered by another key for both SDKs', async () => {
    // a fresh model starts at the first key of the pool's ring: that key answers empty once
    const emptyOnce = () => env.fake.setFault(POOL_KEYS[0], 'EmptyAnswer', { times: 1 });
    try {
      const model = freshModel();
      await emptyOnce();
      const response = await genai().models.generateContent({ model, contents: 'Say hi' });
      assert.ok(response.text.length > 0);
      assert.deepEqual((await modelsSeen(model)).map((r) => r.apiKey), POOL_KEYS.slice(0, 2));

      const chatModel = freshModel();
      await emptyOnce();
      const completion = await openai().chat.completions.create({ model: chatModel, messages: [{ role: 'user', content: 'hi' }] });
      assert.ok(completion.choices[0].message.content.length > 0);
      assert.equal((await modelsSeen(chatModel)).length, 2);

      const streamModel = freshModel();
      await emptyOnce();
      const texts = [];
      for await (const chunk of await genai().models.generateContentStream({ model: streamModel, contents: 'Count' })) {
        texts.push(chunk.text ?? '');
      }
      assert.equal(texts.length, 3);
      assert.equal((await modelsSeen(streamModel)).length, 2);
    } finally {
      await env.fake.clearFaults();
    }
  });
});

describe('a stream that breaks after its first byte', { timeout: 60_000 }, () => {
  it('@google/genai raises an ApiError', async () => {
    await faultEveryKeyOnce('MidStreamFailure');
    try {
      const stream = await genai().models.generateContentStream({ model: freshModel(), contents: 'Count to three' });
      const texts = [];
      await assert.rejects(async () => {
        for await (const chunk of stream) {
          texts.push(chunk.text);
        }
      }, (error) => {
        assert.ok(error instanceof ApiError, `got ${error?.constructor?.name}: ${error?.message}`);
        assert.equal(error.status, 502);
        assert.match(error.message, /broke off/);
        return true;
      });
      assert.ok(texts.length >= 1); // what arrived before the break was delivered
    } finally {
      await env.fake.clearFaults();
    }
  });

  it('openai raises an APIError', async () => {
    await faultEveryKeyOnce('MidStreamFailure');
    try {
      const stream = await openai().chat.completions.create({
        model: freshModel(), stream: true, messages: [{ role: 'user', content: 'Count to three' }],
      });
      await assert.rejects(async () => {
        for await (const chunk of stream) {
          assert.ok(chunk.choices);
        }
      }, (error) => {
        assert.ok(error instanceof APIError, `got ${error?.constructor?.name}: ${error?.message}`);
        assert.match(error.message, /broke off/);
        assert.equal(error.type, 'server_error');
        return true;
      });
    } finally {
      await env.fake.clearFaults();
    }
  });
});

describe('waiting for a cooling key (MAX_WAIT)', { timeout: 60_000 }, () => {
  it('with every key cooling 2 s, requests from both SDKs wait and are served once keys return, none sent early', async () => {
    const model = freshModel();
    for (const key of POOL_KEYS) {
      await env.fake.setFault(key, 'RateLimitPerMinute', { times: 1, retryDelaySeconds: 2 });
    }
    // this request meets the three 429s and, asking for no wait, gets the 429 at once: now every key cools for 2 s
    const first = await fetch(`${env.gateway}/v1beta/models/${model}:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': env.token, 'content-type': 'application/json', 'x-gemini-party-max-wait': '0' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
    });
    assert.equal(first.status, 429);
    const cooledAt = Date.now();
    const before = (await modelsSeen(model)).length;

    const native = Array.from({ length: 3 }, () => genai().models.generateContent({ model, contents: 'Say hi' }));
    const chat = Array.from({ length: 3 }, () => openai().chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }));
    const answers = await Promise.all([...native, ...chat]);

    assert.ok(Date.now() - cooledAt >= 1500, `served after ${Date.now() - cooledAt} ms`);
    assert.ok(answers.slice(0, 3).every((answer) => answer.text.length > 0));
    assert.ok(answers.slice(3).every((answer) => answer.choices[0].message.content.length > 0));
    const sent = (await modelsSeen(model)).slice(before);
    assert.equal(sent.length, 6); // one upstream call each: nothing went upstream while the keys cooled
  });
});

describe('model fallback (MODEL_FALLBACKS)', { timeout: 60_000 }, () => {
  /** Every key answers one 429 with a minute's delay for the model, met by requests that opt out of fallback. */
  async function allKeysCooling(model) {
    for (const key of POOL_KEYS) {
      await env.fake.setFault(key, 'RateLimitPerMinute', { times: 1, retryDelaySeconds: 60 });
    }
    const response = await fetch(`${env.gateway}/v1beta/models/${model}:generateContent`, {
      method: 'POST',
      headers: { 'x-goog-api-key': env.token, 'content-type': 'application/json', 'x-gemini-party-fallback': 'off' },
      body: JSON.stringify({ contents: [{ parts: [{ text: 'hi' }] }] }),
    });
    assert.equal(response.status, 429);
    await env.fake.clearFaults();
  }

  it('@google/genai: a cooling model is served by the next one, and the answer says which', async () => {
    await allKeysCooling('e2e-fb-genai-a');
    const response = await genai().models.generateContent({ model: 'e2e-fb-genai-a', contents: 'Say hi' });
    assert.ok(response.text.length > 0);
    assert.equal(response.sdkHttpResponse.headers['x-gemini-party-served-model'], 'e2e-fb-genai-b');
    assert.equal(response.modelVersion, 'e2e-fb-genai-b'); // the body's own model field is upstream's
    assert.equal((await modelsSeen('e2e-fb-genai-b')).length, 1);
  });

  it('openai: the model in the body is rewritten for the next one, streamed too', async () => {
    await allKeysCooling('e2e-fb-openai-a');
    const { data, response } = await openai().chat.completions
      .create({ model: 'e2e-fb-openai-a', messages: [{ role: 'user', content: 'hi' }] })
      .withResponse();
    assert.ok(data.choices[0].message.content.length > 0);
    assert.equal(response.headers.get('x-gemini-party-served-model'), 'e2e-fb-openai-b');
    const [sent] = await modelsSeen('e2e-fb-openai-b');
    assert.equal(JSON.parse(sent.body).model, 'e2e-fb-openai-b');

    const stream = await openai().chat.completions.create({
      model: 'e2e-fb-openai-a', stream: true, messages: [{ role: 'user', content: 'Count to three' }],
    });
    const chunks = [];
    for await (const chunk of stream) {
      chunks.push(chunk.choices[0]?.delta?.content ?? '');
    }
    assert.ok(chunks.join('').length > 0);
    assert.equal((await modelsSeen('e2e-fb-openai-b')).length, 2);
  });

  it('x-gemini-party-fallback: off keeps the 429 of the model asked for, which both SDKs raise', async () => {
    await allKeysCooling('e2e-fb-off-a');
    await assert.rejects(
      genai().models.generateContent({
        model: 'e2e-fb-off-a', contents: 'hi', config: { httpOptions: { headers: { 'x-gemini-party-fallback': 'off' } } },
      }),
      (error) => error instanceof ApiError && error.status === 429,
    );
    await assert.rejects(
      openai().chat.completions.create(
        { model: 'e2e-fb-off-a', messages: [{ role: 'user', content: 'hi' }] },
        { headers: { 'x-gemini-party-fallback': 'off' } },
      ),
      (error) => error instanceof APIError && error.status === 429,
    );
    assert.equal((await modelsSeen('e2e-fb-off-b')).length, 0);
  });
});
