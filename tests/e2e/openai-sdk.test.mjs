// The OpenAI JavaScript SDK against the running product, with only baseURL and apiKey changed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { AuthenticationError, RateLimitError, BadRequestError, toFile } from 'openai';
import { assertOnlyPoolKeys, freshModel, startEnvironment } from './harness.mjs';

let env;

before(async () => {
  env = await startEnvironment();
}, { timeout: 120_000 });

after(async () => {
  await env?.stop();
}, { timeout: 30_000 });

function client(baseURL, apiKey = env.token) {
  // the SDK's own retries are off: each test sees the gateway's answer, not a retried one
  return new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 20_000 });
}

async function recordedFor(model) {
  return (await env.fake.requests()).filter((r) => r.model === model);
}

for (const base of ['/v1', '/v1beta/openai']) {
  describe(`OpenAI SDK on ${base}`, { timeout: 60_000 }, () => {
    const openai = () => client(`${env.gateway}${base}`);

    it('answers a chat completion through a pool key', async () => {
      const model = freshModel();
      const completion = await openai().chat.completions.create({
        model,
        messages: [{ role: 'user', content: 'Say hi' }],
      });

      assert.equal(completion.object, 'chat.completion');
      assert.equal(completion.choices[0].message.role, 'assistant');
      assert.ok(completion.choices[0].message.content.length > 0);
      assert.equal(completion.choices[0].finish_reason, 'stop');
      assert.ok(completion.usage.total_tokens > 0);
      const [recorded, ...more] = await recordedFor(model);
      assert.equal(more.length, 0);
      assert.equal(recorded.path, '/v1beta/openai/chat/completions');
      assertOnlyPoolKeys(assert, [recorded]);
    });

    it('streams a chat completion chunk by chunk, the first while upstream is still generating', async () => {
      const model = freshModel();
      await env.fake.setOptions({ holdStreamsAfterFirstEvent: true });
      try {
        const stream = await openai().chat.completions.create({
          model,
          messages: [{ role: 'user', content: 'Count to three' }],
          stream: true,
          stream_options: { include_usage: true },
        });
        const chunks = [];
        for await (const chunk of stream) {
          chunks.push(chunk);
          if (chunks.length === 1) {
            // the first chunk is here while the fake still holds the rest of the generation
            assert.equal((await env.fake.stats()).heldStreams, 1);
            assert.ok(chunk.choices[0].delta.content.length > 0);
            await env.fake.releaseStreams();
          }
        }

        assert.equal(chunks.length, 3);
        assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'));
        assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
        assert.ok(chunks.at(-1).usage.total_tokens > 0, 'stream_options.include_usage reached upstream');
        const text = chunks.map((c) => c.choices[0].delta.content ?? '').join('');
        assert.ok(text.length > 0);
      } finally {
        await env.fake.setOptions({ holdStreamsAfterFirstEvent: false });
        await env.fake.releaseStreams();
      }
    });

    it('creates embeddings for a string and for an array', async () => {
      const model = freshModel();
      const one = await openai().embeddings.create({ model, input: 'one sentence' });
      const many = await openai().embeddings.create({ model, input: ['first', 'second', 'third'] });

      assert.equal(one.data.length, 1);
      assert.equal(one.data[0].embedding.length, 768);
      assert.deepEqual(many.data.map((d) => d.index), [0, 1, 2]);
      assert.ok(many.data.every((d) => d.embedding.length === 768));
      assert.notDeepEqual(many.data[0].embedding, many.data[1].embedding);
      const inputs = (await recordedFor(model)).map((r) => JSON.parse(r.body).input);
      assert.deepEqual(inputs, ['one sentence', ['first', 'second', 'third']]);
    });

    it('lists models and retrieves one by the id the list gives', async () => {
      const ids = [];
      for await (const model of openai().models.list()) {
        ids.push(model.id);
      }
      assert.ok(ids.includes('models/gemini-2.0-flash'), `list: ${ids.join(', ')}`);

      const listed = await openai().models.retrieve('models/gemini-2.0-flash');
      assert.equal(listed.id, 'models/gemini-2.0-flash');
      const model = freshModel();
      const bare = await openai().models.retrieve(model);
      assert.equal(bare.id, `models/${model}`);
    });

    it('rejects a wrong key with the SDK\'s AuthenticationError, before upstream', async () => {
      const model = freshModel();
      const wrong = client(`${env.gateway}${base}`, 'not-a-client-token');

      await assert.rejects(
        wrong.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }),
        (error) => {
          assert.ok(error instanceof AuthenticationError, `got ${error?.constructor?.name}: ${error?.message}`);
          assert.equal(error.status, 401);
          assert.equal(error.code, 'invalid_api_key');
          assert.equal(error.type, 'invalid_request_error');
          assert.ok(error.requestID, 'no request id (x-request-id) to quote to whoever runs the gateway');
          return true;
        },
      );
      assert.equal((await recordedFor(model)).length, 0);
    });

    it('surfaces all keys rate limited as RateLimitError with Retry-After', async () => {
      const model = freshModel();
      for (const key of env.keys) {
        await env.fake.setFault(key, 'RateLimitPerMinute', { retryDelaySeconds: 30 });
      }
      try {
        // first call: each key answers 429 in turn; second: the pool knows they all cool, upstream is spared
        for (const call of [1, 2]) {
          await assert.rejects(
            openai().chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }),
            (error) => {
              assert.ok(error instanceof RateLimitError, `call ${call}: got ${error?.constructor?.name}: ${error?.message}`);
              assert.equal(error.status, 429);
              const retryAfter = Number(error.headers.get('retry-after'));
              assert.ok(retryAfter >= 1 && retryAfter <= 30, `call ${call}: Retry-After is ${error.headers.get('retry-after')}`);
              return true;
            },
          );
        }
        const keysSeen = (await recordedFor(model)).map((r) => r.apiKey).sort();
        assert.deepEqual(keysSeen, [...env.keys].sort());
      } finally {
        await env.fake.clearFaults();
      }
    });

    it('passes every request field through unchanged, unknown ones included', async () => {
      const model = freshModel();
      const request = {
        model: `models/${model}`,
        messages: [
          { role: 'system', content: 'Answer in JSON' },
          { role: 'user', content: 'Weather in Oslo?' },
        ],
        temperature: 0.25,
        max_tokens: 64,
        top_p: 0.9,
        n: 1,
        stop: ['END'],
        response_format: { type: 'json_schema', json_schema: { name: 'weather', schema: { type: 'object' } } },
        tools: [{
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Weather for a city',
            parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          },
        }],
        tool_choice: 'auto',
        reasoning_effort: 'low',
        x_future_field: { nested: [1, 2.5, 'three', null, true] },
      };

      await openai().chat.completions.create(request);

      const [recorded] = await recordedFor(model);
      assert.deepEqual(JSON.parse(recorded.body), request);
    });

    it('unwraps an error that upstream wraps in an array', async () => {
      const model = freshModel();
      for (const key of env.keys) {
        await env.fake.setFault(key, 'ArrayWrappedError', { status: 400 });
      }
      try {
        await assert.rejects(
          openai().chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }] }),
          (error) => {
            assert.ok(error instanceof BadRequestError, `got ${error?.constructor?.name}: ${error?.message}`);
            assert.equal(error.status, 400);
            assert.equal(typeof error.error, 'object');
            assert.ok(!Array.isArray(error.error), 'the error is still an array');
            assert.match(error.message, /invalid argument/i);
            return true;
          },
        );
      } finally {
        await env.fake.clearFaults();
      }
    });
  });
}

describe('OpenAI SDK beyond chat and embeddings', { timeout: 60_000 }, () => {
  const openai = () => client(`${env.gateway}/v1`);

  it('images.generate returns upstream\'s images, rotated by the model in the body', async () => {
    const model = freshModel();
    const result = await openai().images.generate({ model, prompt: 'a red fox', n: 1, response_format: 'b64_json' });

    assert.equal(result.data.length, 1);
    assert.ok(Buffer.from(result.data[0].b64_json, 'base64').length > 0);
    const [recorded] = await recordedFor(model);
    assert.equal(recorded.path, '/v1beta/openai/images/generations');
    assertOnlyPoolKeys(assert, [recorded]);
  });

  it('a multipart audio.transcriptions.create names its model in a form field', async () => {
    const model = freshModel();
    const file = await toFile(Buffer.from('RIFF fake wave audio'), 'hello.wav', { type: 'audio/wav' });
    const transcription = await openai().audio.transcriptions.create({ model, file });

    assert.match(transcription.text, /^fake transcription/);
    const [recorded] = await recordedFor(model);
    assert.equal(recorded.path, '/v1beta/openai/audio/transcriptions');
    assert.match(recorded.headers['Content-Type'] ?? recorded.headers['content-type'], /^multipart\/form-data; boundary=/);
    assertOnlyPoolKeys(assert, [recorded]);
  });

  it('audio.speech.create returns upstream\'s audio bytes', async () => {
    const model = freshModel();
    const speech = await openai().audio.speech.create({ model, input: 'hello', voice: 'alloy' });
    const audio = Buffer.from(await speech.arrayBuffer());

    assert.equal(audio.subarray(0, 4).toString('ascii'), 'RIFF');
    assert.equal((await recordedFor(model)).length, 1);
  });
});

describe('raw requests on the OpenAI surface', { timeout: 30_000 }, () => {
  it('answers a body without a model with 400 in OpenAI\'s error shape', async () => {
    // a mark of its own: the fake's total also counts whatever else reaches it meanwhile (the pool's probe of a key marked invalid)
    const content = `hi from ${freshModel()}`;
    const response = await fetch(`${env.gateway}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${env.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ messages: [{ role: 'user', content }] }),
      signal: AbortSignal.timeout(15_000),
    });

    assert.equal(response.status, 400);
    const { error } = await response.json();
    assert.equal(error.type, 'invalid_request_error');
    assert.match(error.message, /model/);
    assert.ok((await env.fake.requests()).every((r) => !r.body.includes(content)), 'the request reached upstream');
  });

  it('never lets the client token reach upstream', async () => {
    assertOnlyPoolKeys(assert, await env.fake.requests(), env.token);
  });
});
