// Google's own GenAI SDK against the product's native surface, with only baseUrl and apiKey changed.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ApiError, GoogleGenAI } from '@google/genai';
import { assertOnlyPoolKeys, freshModel, startEnvironment } from './harness.mjs';

let env;

before(async () => {
  env = await startEnvironment();
}, { timeout: 120_000 });

after(async () => {
  await env?.stop();
}, { timeout: 30_000 });

function genai(apiKey = env.token) {
  return new GoogleGenAI({ apiKey, httpOptions: { baseUrl: env.gateway, timeout: 20_000 } });
}

async function recordedFor(model) {
  return (await env.fake.requests()).filter((r) => r.model === model);
}

describe('Google GenAI SDK on the native surface', { timeout: 60_000 }, () => {
  it('generateContent answers through a pool key', async () => {
    const model = freshModel();
    const response = await genai().models.generateContent({
      model,
      contents: 'Say hi',
      config: { temperature: 0.3, maxOutputTokens: 64, thinkingConfig: { thinkingBudget: 0 } },
    });

    assert.ok(response.text.length > 0);
    assert.equal(response.candidates[0].finishReason, 'STOP');
    assert.ok(response.usageMetadata.totalTokenCount > 0);
    const [recorded, ...more] = await recordedFor(model);
    assert.equal(more.length, 0);
    assert.equal(recorded.path, `/v1beta/models/${model}:generateContent`);
    const sent = JSON.parse(recorded.body);
    assert.equal(sent.generationConfig.temperature, 0.3);
    assert.equal(sent.generationConfig.maxOutputTokens, 64);
    assert.deepEqual(sent.generationConfig.thinkingConfig, { thinkingBudget: 0 });
    assertOnlyPoolKeys(assert, [recorded]);
  });

  it('generateContentStream yields the first chunk while upstream is still generating', async () => {
    const model = freshModel();
    await env.fake.setOptions({ holdStreamsAfterFirstEvent: true });
    try {
      const stream = await genai().models.generateContentStream({ model, contents: 'Count to three' });
      const texts = [];
      for await (const chunk of stream) {
        texts.push(chunk.text ?? '');
        if (texts.length === 1) {
          assert.equal((await env.fake.stats()).heldStreams, 1);
          assert.ok(texts[0].length > 0);
          await env.fake.releaseStreams();
        }
      }

      assert.equal(texts.length, 3);
      const [recorded] = await recordedFor(model);
      assert.equal(recorded.path, `/v1beta/models/${model}:streamGenerateContent`);
      assert.match(recorded.query, /alt=sse/);
    } finally {
      await env.fake.setOptions({ holdStreamsAfterFirstEvent: false });
      await env.fake.releaseStreams();
    }
  });

  it('embedContent returns one vector per content', async () => {
    const model = freshModel();
    const one = await genai().models.embedContent({ model, contents: 'one sentence' });
    const many = await genai().models.embedContent({ model, contents: ['first', 'second'] });

    assert.equal(one.embeddings.length, 1);
    assert.equal(one.embeddings[0].values.length, 768);
    assert.equal(many.embeddings.length, 2);
    assert.notDeepEqual(many.embeddings[0].values, many.embeddings[1].values);
    // for the Gemini API the SDK sends embedContent as batchEmbedContents
    assert.ok((await recordedFor(model)).every((r) => r.path === `/v1beta/models/${model}:batchEmbedContents`));
  });

  it('countTokens counts', async () => {
    const model = freshModel();
    const result = await genai().models.countTokens({ model, contents: 'count these tokens please' });

    assert.ok(result.totalTokens > 0);
    const [recorded] = await recordedFor(model);
    assert.equal(recorded.path, `/v1beta/models/${model}:countTokens`);
  });

  it('models.list pages through every model and models.get names one', async () => {
    const names = [];
    const pager = await genai().models.list({ config: { pageSize: 2 } });
    for await (const model of pager) {
      names.push(model.name);
    }
    assert.ok(names.includes('models/gemini-2.0-flash'), `list: ${names.join(', ')}`);
    assert.ok(names.includes('models/gemini-embedding-001'), 'later pages were fetched with pageToken');
    assert.equal(new Set(names).size, names.length, 'no page repeated');

    const model = await genai().models.get({ model: 'gemini-2.0-flash' });
    assert.equal(model.name, 'models/gemini-2.0-flash');
    assert.ok(model.inputTokenLimit > 0);
  });

  it('rejects a wrong key with ApiError 401, before upstream', async () => {
    const model = freshModel();
    await assert.rejects(
      genai('not-a-client-token').models.generateContent({ model, contents: 'hi' }),
      (error) => {
        assert.ok(error instanceof ApiError, `got ${error?.constructor?.name}: ${error?.message}`);
        assert.equal(error.status, 401);
        return true;
      },
    );
    assert.equal((await recordedFor(model)).length, 0);
  });

  it('a raw Imagen :predict through the SDK\'s own request path (generateImages is Vertex-only) returns images', async () => {
    const model = `imagen-${freshModel()}`;
    const ai = genai();
    // ai.models cannot call :predict on the Gemini API; the SDK's api client sends it with the SDK's own headers
    const response = await ai.apiClient.request({
      path: `models/${model}:predict`,
      body: JSON.stringify({ instances: [{ prompt: 'a red fox' }], parameters: { sampleCount: 1 } }),
      httpMethod: 'POST',
    });
    const json = await response.json();

    assert.equal(json.predictions.length, 1);
    assert.equal(json.predictions[0].mimeType, 'image/png');
    assert.ok(Buffer.from(json.predictions[0].bytesBase64Encoded, 'base64').length > 0);
    const [recorded] = await recordedFor(model);
    assert.equal(recorded.path, `/v1beta/models/${model}:predict`);
    assert.match(recorded.headers['x-goog-api-client'], /google-genai-sdk\//, 'the SDK\'s client header crossed the hop');
    assertOnlyPoolKeys(assert, [recorded]);
  });

  it('models.generateVideos starts a long-running operation', async () => {
    const model = `veo-${freshModel()}`;
    const operation = await genai().models.generateVideos({ model, source: { prompt: 'waves at dusk' } });

    assert.match(operation.name, new RegExp(`^models/${model}/operations/`));
    const [recorded] = await recordedFor(model);
    assert.equal(recorded.path, `/v1beta/models/${model}:predictLongRunning`);
  });

  it('batches.create with inline requests creates a batch through a pool key', async () => {
    const model = freshModel();
    const batch = await genai().batches.create({
      model,
      src: [
        { contents: [{ role: 'user', parts: [{ text: 'first' }] }] },
        { contents: [{ role: 'user', parts: [{ text: 'second' }] }] },
      ],
      config: { displayName: 'e2e-batch' },
    });

    assert.match(batch.name, /^batches\//);
    assert.equal(batch.state, 'JOB_STATE_PENDING');
    assert.equal(batch.displayName, 'e2e-batch');
    const [recorded] = await recordedFor(model);
    assert.equal(recorded.path, `/v1beta/models/${model}:batchGenerateContent`);
    assert.equal(JSON.parse(recorded.body).batch.inputConfig.requests.requests.length, 2);
  });

  it('native v1 calls (apiVersion v1) reach upstream\'s v1', async () => {
    const model = freshModel();
    const ai = new GoogleGenAI({ apiKey: env.token, httpOptions: { baseUrl: env.gateway, apiVersion: 'v1', timeout: 20_000 } });
    const response = await ai.models.generateContent({ model, contents: 'Say hi' });
    const counted = await ai.models.countTokens({ model, contents: 'count these' });

    assert.ok(response.text.length > 0);
    assert.ok(counted.totalTokens > 0);
    const paths = (await recordedFor(model)).map((r) => r.path).sort();
    assert.deepEqual(paths, [`/v1/models/${model}:countTokens`, `/v1/models/${model}:generateContent`]);
  });

  it('preview calls (apiVersion v1alpha) reach upstream\'s v1alpha: generate, stream, model lookup and a cache', async () => {
    const model = freshModel();
    const ai = new GoogleGenAI({ apiKey: env.token, httpOptions: { baseUrl: env.gateway, apiVersion: 'v1alpha', timeout: 20_000 } });
    const response = await ai.models.generateContent({ model, contents: 'Say hi' });
    let events = 0;
    for await (const chunk of await ai.models.generateContentStream({ model, contents: 'Stream it' })) {
      if (chunk.text) events++;
    }
    const info = await ai.models.get({ model: 'gemini-2.0-flash' });
    const cache = await ai.caches.create({ model, config: { contents: 'a long shared prefix', ttl: '300s' } });
    const fetched = await ai.caches.get({ name: cache.name });

    assert.ok(response.text.length > 0);
    assert.ok(events >= 2, `the stream arrived as ${events} events`);
    assert.equal(info.name, 'models/gemini-2.0-flash');
    assert.equal(fetched.name, cache.name);
    const paths = (await recordedFor(model)).map((r) => r.path).sort();
    assert.deepEqual(paths, [`/v1alpha/models/${model}:generateContent`, `/v1alpha/models/${model}:streamGenerateContent`]);
    const cacheCalls = (await env.fake.requests()).filter((r) => r.path.startsWith('/v1alpha/cachedContents'));
    assert.equal(cacheCalls.length, 2);
    assert.equal(cacheCalls[0].apiKey, cacheCalls[1].apiKey, 'the cache was read with another key than the one that made it');
  });

  it('never lets the client token reach upstream, only pool keys', async () => {
    const requests = await env.fake.requests();
    assert.ok(requests.every((r) => r.surface === 'native'));
    assertOnlyPoolKeys(assert, requests, env.token);
  });
});
