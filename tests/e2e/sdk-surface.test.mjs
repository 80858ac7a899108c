// The SDK methods a team calls that the other e2e files do not: the rest of @google/genai's Gemini API surface (cache,
// batch, File Search store and custom voice lifecycles, embedding batches, operations, chats) and the openai SDK's helpers (the
// stream helper, parse with a JSON schema, a tool-calling round trip). Each call goes through the gateway to the fake
// upstream, which refuses any key but a resource's owner with 403, so a call that reaches the wrong key fails. Runs
// twice: against the embedded gateway, and against a cluster (Redis, two silos, two frontends) behind a round-robin
// proxy, so that a resource's create and its later uses cross frontends.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiError, GoogleGenAI } from '@google/genai';
import OpenAI, { toFile } from 'openai';
import { assertOnlyPoolKeys, freshModel, startCluster, startEnvironment } from './harness.mjs';

let env;

function genai(apiVersion) {
  return new GoogleGenAI({ apiKey: env.token, httpOptions: { baseUrl: env.gateway, timeout: 20_000, ...(apiVersion ? { apiVersion } : {}) } });
}

function openai() {
  return new OpenAI({ baseURL: `${env.gateway}/v1`, apiKey: env.token, maxRetries: 0, timeout: 20_000 });
}

/** Recorded upstream requests whose path contains `fragment`, each checked to carry a pool key and never the token. */
async function requestsAt(fragment) {
  const requests = (await env.fake.requests()).filter((r) => r.path.includes(fragment));
  assertOnlyPoolKeys(assert, requests);
  return requests;
}

async function recordedFor(model) {
  return (await env.fake.requests()).filter((r) => r.model === model);
}

/** The id part of a resource name: `cachedContents/abc` -> `abc`. */
const idOf = (name) => name.split('/').pop();

/** The one key every upstream request about `name` used (fails if they used two). */
async function ownerOf(name) {
  const keys = new Set((await requestsAt(`/${name}`)).map((r) => r.apiKey));
  assert.equal(keys.size, 1, `${name} reached ${keys.size} keys`);
  return [...keys][0];
}

async function collect(pager) {
  const items = [];
  for await (const item of pager) items.push(item);
  return items;
}

const modes = [['embedded', startEnvironment], ['cluster: 2 frontends behind a round-robin proxy', startCluster]];
for (const [mode, start] of modes) {
describe(`the SDKs' wider surface (${mode})`, { timeout: 400_000 }, () => {
  before(async () => {
    env = await start();
  }, { timeout: 180_000 });

  after(async () => {
    await env?.stop();
  }, { timeout: 30_000 });

describe('@google/genai resources beyond create and get', { timeout: 60_000 }, () => {
  it('caches.update moves a cache\'s expiry, caches.list shows every key\'s caches, caches.delete removes one, each on its key', async () => {
    const ai = genai();
    const model = freshModel();
    const made = [];
    for (let i = 0; i < 3; i++) {
      made.push(await ai.caches.create({ model, config: { contents: `a long shared prefix ${i}`, ttl: '300s', displayName: `prefix-${i}` } }));
    }
    const first = made[0];
    const expiresIn = (cache) => Date.parse(cache.expireTime) - Date.now();
    assert.ok(expiresIn(first) > 200_000 && expiresIn(first) <= 300_000, `a 300 s cache expires at ${first.expireTime}`);

    const updated = await ai.caches.update({ name: first.name, config: { ttl: '7200s' } });
    assert.equal(updated.name, first.name);
    assert.ok(expiresIn(updated) > 7_000_000, `extended to 2 h, it expires at ${updated.expireTime}`);
    assert.equal((await ai.caches.get({ name: first.name })).expireTime, updated.expireTime);

    const listed = await collect(await ai.caches.list({ config: { pageSize: 2 } }));
    const names = listed.map((c) => c.name);
    assert.equal(new Set(names).size, names.length, 'no cache twice');
    for (const cache of made) assert.ok(names.includes(cache.name), `${cache.name} is listed`);
    assert.equal(listed.find((c) => c.name === made[1].name).displayName, 'prefix-1');
    assert.equal(listed.find((c) => c.name === first.name).expireTime, updated.expireTime);
    assert.equal((await ai.caches.get({ name: made[1].name })).displayName, 'prefix-1');

    await ai.caches.delete({ name: made[2].name });
    assert.ok(!(await collect(await ai.caches.list())).some((c) => c.name === made[2].name), 'a deleted cache is not listed');
    await assert.rejects(ai.caches.get({ name: made[2].name }), (error) => error instanceof ApiError && [403, 404].includes(error.status));

    // each cache's get, update and delete reached the key that made it (the creates are answered in order)
    const makers = (await requestsAt('/v1beta/cachedContents')).filter((r) => r.method === 'POST' && r.path === '/v1beta/cachedContents').map((r) => r.apiKey);
    assert.ok(new Set(makers).size >= 2, 'the creates rotate over the keys');
    for (const [i, cache] of made.slice(0, 2).entries()) assert.equal(await ownerOf(cache.name), makers[i]);
    const deletes = (await requestsAt(`/${made[2].name}`)).filter((r) => r.method === 'DELETE');
    assert.deepEqual(deletes.map((r) => [r.apiKey, r.status]), [[makers[2], 200]]);
    const patches = (await requestsAt(`/${first.name}`)).filter((r) => r.method === 'PATCH');
    assert.equal(patches.length, 1);
    assert.equal(JSON.parse(patches[0].body).ttl, '7200s');
  });

  it('batches.list shows each batch\'s state, batches.cancel stops one and batches.delete removes one, on the key that made it', async () => {
    const ai = genai();
    const model = freshModel();
    const made = [];
    for (let i = 0; i < 3; i++) {
      made.push(await ai.batches.create({ model, src: [{ contents: [{ role: 'user', parts: [{ text: `question ${i}` }] }] }], config: { displayName: `job-${i}` } }));
    }
    const makers = (await recordedFor(model)).map((r) => r.apiKey);
    assert.ok(new Set(makers).size >= 2, 'the creates rotate over the keys');

    const listed = await collect(await ai.batches.list({ config: { pageSize: 2 } }));
    for (const batch of made) {
      const found = listed.find((b) => b.name === batch.name);
      assert.ok(found, `${batch.name} is listed`);
      assert.equal(found.displayName, batch.displayName);
      assert.match(found.state ?? '', /^JOB_STATE_/, `${batch.name} is listed with its state`);
      assert.equal(found.model, `models/${model}`);
    }

    await ai.batches.cancel({ name: made[0].name });
    const cancelled = await ai.batches.get({ name: made[0].name });
    assert.equal(cancelled.state, 'JOB_STATE_CANCELLED');

    await ai.batches.delete({ name: made[1].name });
    assert.ok(!(await collect(await ai.batches.list())).some((b) => b.name === made[1].name), 'a deleted batch is not listed');

    for (const [i, batch] of made.slice(0, 2).entries()) {
      assert.equal(await ownerOf(batch.name), makers[i], `${batch.name}'s cancel, get and delete reached the key that made it`);
    }
    assert.equal((await requestsAt(`/${made[0].name}:cancel`)).length, 1);
  });

  it('batches.createEmbeddings makes an embedding batch whose results are one vector per content, polled on its key', async () => {
    const ai = genai();
    const model = freshModel();
    let batch = await ai.batches.createEmbeddings({
      model,
      src: { inlinedRequests: { contents: ['first sentence', 'second sentence'] } },
      config: { displayName: 'embed-job' },
    });
    assert.match(batch.name, /^batches\//);
    const [created] = await recordedFor(model);
    assert.equal(created.path, `/v1beta/models/${model}:asyncBatchEmbedContent`);
    for (let i = 0; i < 5 && batch.state !== 'JOB_STATE_SUCCEEDED'; i++) {
      batch = await ai.batches.get({ name: batch.name });
    }
    assert.equal(batch.state, 'JOB_STATE_SUCCEEDED');
    const vectors = batch.dest.inlinedEmbedContentResponses.map((r) => r.response.embedding.values);
    assert.equal(vectors.length, 2);
    assert.ok(vectors.every((v) => v.length > 0));
    assert.notDeepEqual(vectors[0], vectors[1]);
    assert.equal(await ownerOf(batch.name), created.apiKey);
  });

  it('a batch from an uploaded input file runs on the file\'s key, and its results file downloads from that key', async () => {
    const ai = genai();
    const model = freshModel();
    const lines = [1, 2].map((i) => JSON.stringify({ key: `q${i}`, request: { contents: [{ parts: [{ text: `question ${i}` }] }] } }));
    const input = await ai.files.upload({ file: new Blob([lines.join('\n')], { type: 'application/jsonl' }), config: { mimeType: 'application/jsonl' } });
    await ai.files.get({ name: input.name });
    const owner = await ownerOf(input.name);

    let batch = await ai.batches.create({ model, src: input.name });
    for (let i = 0; i < 5 && batch.state !== 'JOB_STATE_SUCCEEDED'; i++) {
      batch = await ai.batches.get({ name: batch.name });
    }
    assert.equal(batch.state, 'JOB_STATE_SUCCEEDED');
    assert.match(batch.dest.fileName, /^files\//);
    const dir = mkdtempSync(join(tmpdir(), 'gp-batch-'));
    try {
      const path = join(dir, 'results.jsonl');
      await ai.files.download({ file: batch.dest.fileName, downloadPath: path });
      const results = readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
      assert.ok(results.length >= 1 && results.every((r) => r.response.candidates.length > 0));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    assert.deepEqual((await recordedFor(model)).map((r) => r.apiKey), [owner], 'the create went to the input file\'s key');
    assert.equal(await ownerOf(batch.name), owner);
    assert.equal(await ownerOf(batch.dest.fileName), owner);
  });

  it('fileSearchStores.importFile, operations.get, documents list, get and delete, and the store\'s get and delete all reach its key', async () => {
    const ai = genai();
    const store = await ai.fileSearchStores.create({ config: { displayName: 'imports' } });
    assert.equal((await ai.fileSearchStores.get({ name: store.name })).displayName, 'imports');
    const owner = await ownerOf(store.name);

    // a file of another key cannot go into the store (it is in another project): the gateway says so before upstream
    let file;
    for (let i = 0; i < 3 * env.keys.length; i++) {
      const uploaded = await ai.files.upload({ file: new Blob([`chapter ${i}`], { type: 'text/plain' }), config: { mimeType: 'text/plain' } });
      await ai.files.get({ name: uploaded.name });
      const key = await ownerOf(uploaded.name);
      if (key === owner && !file) file = uploaded;
      if (key !== owner) {
        await assert.rejects(ai.fileSearchStores.importFile({ fileSearchStoreName: store.name, fileName: uploaded.name }), (error) => {
          assert.ok(error instanceof ApiError, `got ${error?.constructor?.name}: ${error?.message}`);
          assert.equal(error.status, 400);
          assert.match(error.message, new RegExp(uploaded.name));
          return true;
        });
      }
      if (file && i >= env.keys.length) break;
    }
    assert.ok(file, 'an upload landed on the store\'s key');

    let operation = await ai.fileSearchStores.importFile({ fileSearchStoreName: store.name, fileName: file.name });
    assert.match(operation.name, new RegExp(`^${store.name}/operations/`));
    for (let i = 0; i < 5 && !operation.done; i++) {
      operation = await ai.operations.get({ operation });
    }
    assert.equal(operation.done, true);
    const documentName = operation.response.documentName;
    assert.match(documentName, new RegExp(`^${store.name}/documents/`));

    const documents = await collect(await ai.fileSearchStores.documents.list({ parent: store.name }));
    assert.deepEqual(documents.map((d) => d.name), [documentName]);
    const document = await ai.fileSearchStores.documents.get({ name: documentName });
    assert.equal(document.name, documentName);
    assert.equal(document.mimeType, 'text/plain');
    await ai.fileSearchStores.documents.delete({ name: documentName, config: { force: true } });
    assert.equal((await collect(await ai.fileSearchStores.documents.list({ parent: store.name }))).length, 0);

    await ai.fileSearchStores.delete({ name: store.name, config: { force: true } });
    assert.ok(!(await collect(await ai.fileSearchStores.list())).some((s) => s.name === store.name), 'a deleted store is not listed');
    assert.equal(await ownerOf(store.name), owner);
    assert.ok((await requestsAt(`/${store.name}`)).length >= 8);
  });

  it('voices.create, get, list and delete, and speech with a custom voice, each reach the key that made the voice', async () => {
    const ai = genai();
    const made = new Map(); // voice id -> the key that made it
    while (new Set(made.values()).size < 2) {
      assert.ok(made.size < 12, 'creates should rotate over the keys');
      const voice = await ai.voices.create({ store: true, voice: { type: 'prompted', display_name: 'narrator', prompted: { input: 'A calm narrator.' } } });
      assert.match(voice.id, /^voice_/);
      assert.ok(voice.expire_time);
      made.set(voice.id, (await requestsAt('/voices')).filter((r) => r.method === 'POST').at(-1).apiKey);
    }
    const [id, owner] = [...made][0];
    assert.equal((await ai.voices.get(id)).id, id);

    const model = freshModel();
    for (let i = 0; i < 4; i++) {
      const spoken = await ai.models.generateContent({
        model, contents: 'Read this aloud.',
        config: { responseModalities: ['AUDIO'], speechConfig: { voiceConfig: { voice: id } } },
      });
      assert.ok(spoken.candidates?.length);
    }
    const synthesis = await recordedFor(model);
    assert.equal(synthesis.length, 4);
    assert.ok(synthesis.every((r) => r.apiKey === owner), 'speech with a custom voice goes to its key');
    assert.equal(JSON.parse(synthesis[0].body).generationConfig.speechConfig.voiceConfig.voice, id);

    // the merged list: every key's custom voices once, then Google's prebuilt catalog once
    const listed = [];
    let page_token;
    do {
      const page = await ai.voices.list({ page_size: 2, ...(page_token ? { page_token } : {}) });
      listed.push(...(page.voices ?? []));
      page_token = page.next_page_token;
    } while (page_token);
    const ids = listed.map((v) => v.id);
    assert.equal(new Set(ids).size, ids.length, 'no voice twice');
    for (const made_id of made.keys()) assert.ok(ids.includes(made_id), `${made_id} is listed`);
    assert.deepEqual(listed.filter((v) => v.type === 'prebuilt').map((v) => v.id), ['Puck', 'Charon', 'Kore']);

    await ai.voices.delete(id);
    assert.equal(await ownerOf(`voices/${id}`), owner);
    await assert.rejects(ai.voices.get(id), (error) => {
      assert.equal(error.status ?? error.statusCode, 403, `got ${error?.constructor?.name}: ${error?.message}`);
      return true;
    });
    for (const other of [...made.keys()].slice(1)) await ai.voices.delete(other);
  });

  it('chats.create keeps the conversation: sendMessage and sendMessageStream send the history and add to it', async () => {
    const model = freshModel();
    const chat = genai().chats.create({ model, config: { temperature: 0.1 } });
    const first = await chat.sendMessage({ message: 'Hello there' });
    assert.ok(first.text.length > 0);
    let streamed = '';
    for await (const chunk of await chat.sendMessageStream({ message: 'Tell me more' })) {
      streamed += chunk.text ?? '';
    }
    assert.ok(streamed.length > 0);
    const third = await chat.sendMessage({ message: 'Thanks' });
    assert.ok(third.text.length > 0);

    // the SDK keeps a streamed answer as one history entry per chunk
    const textOf = (contents) => contents.flatMap((c) => c.parts).map((p) => p.text).join('');
    const history = chat.getHistory();
    const users = history.flatMap((c, i) => (c.role === 'user' ? [i] : []));
    assert.deepEqual(users.map((i) => textOf([history[i]])), ['Hello there', 'Tell me more', 'Thanks']);
    assert.equal(textOf(history.slice(users[1] + 1, users[2])), streamed);
    assert.equal(textOf(history.slice(users[2] + 1)), third.text);
    const sent = (await recordedFor(model)).map((r) => ({ path: r.path, body: JSON.parse(r.body) }));
    assert.deepEqual(sent.map((s) => s.path), [
      `/v1beta/models/${model}:generateContent`, `/v1beta/models/${model}:streamGenerateContent`, `/v1beta/models/${model}:generateContent`]);
    assert.deepEqual(sent[2].body.contents, history.slice(0, users[2] + 1), 'the third turn carried the whole conversation');
    assert.equal(textOf(sent[1].body.contents.slice(1, 2)), first.text);
    assert.ok(sent.every((s) => s.body.generationConfig.temperature === 0.1));
  });

  it('authTokens.create (ephemeral tokens) is refused with the gateway\'s 404, before upstream', async () => {
    const before = (await env.fake.requests()).length;
    await assert.rejects(genai('v1alpha').authTokens.create({ config: { uses: 1 } }), (error) => {
      assert.ok(error instanceof ApiError, `got ${error?.constructor?.name}: ${error?.message}`);
      assert.equal(error.status, 404);
      assert.match(error.message, /auth_tokens/);
      return true;
    });
    assert.ok((await env.fake.requests()).slice(before).every((r) => !r.path.includes('auth_tokens')));
  });
});

describe('openai SDK: the Batch API\'s other calls', { timeout: 60_000 }, () => {
  it('files.retrieve, batches.list and batches.cancel reach the key that holds the batch', async () => {
    const client = new OpenAI({ baseURL: `${env.gateway}/v1beta/openai`, apiKey: env.token, maxRetries: 0, timeout: 20_000 });
    const model = freshModel();
    const line = JSON.stringify({ custom_id: 'only', method: 'POST', url: '/v1/chat/completions', body: { model, messages: [{ role: 'user', content: 'hi' }] } });
    const made = [];
    for (let i = 0; i < 3; i++) {
      const input = await client.files.create({ file: await toFile(Buffer.from(line), `input-${i}.jsonl`), purpose: 'batch' });
      assert.equal((await client.files.retrieve(input.id)).filename, `input-${i}.jsonl`);
      made.push(await client.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' }));
    }
    const listed = [];
    for await (const batch of client.batches.list({ limit: 2 })) listed.push(batch.id);
    assert.equal(new Set(listed).size, listed.length, 'no batch twice');
    for (const batch of made) assert.ok(listed.includes(batch.id), `${batch.id} is listed`);

    const cancelled = await client.batches.cancel(made[0].id);
    assert.equal(cancelled.id, made[0].id);
    assert.match(cancelled.status, /^cancel/);
    assert.match((await client.batches.retrieve(made[0].id)).status, /^cancel/);

    const owners = new Set();
    for (const batch of made) {
      const ids = [batch.id, batch.input_file_id].map(idOf);
      const requests = (await requestsAt('/v1beta/openai/')).filter((r) => ids.some((id) => r.path.includes(id)));
      assert.equal(new Set(requests.map((r) => r.apiKey)).size, 1, `${batch.id} and its input file reached one key`);
      assert.ok(requests.every((r) => r.status === 200));
      owners.add(requests[0].apiKey);
    }
    assert.ok(owners.size >= 2, 'the uploads rotate over the keys');
  });
});

describe('openai SDK helpers', { timeout: 60_000 }, () => {
  it('chat.completions.stream yields content events and the final completion with its usage', async () => {
    const model = freshModel();
    const runner = openai().chat.completions.stream({
      model,
      messages: [{ role: 'user', content: 'Count to three' }],
      stream_options: { include_usage: true },
    });
    const deltas = [];
    runner.on('content', (delta) => deltas.push(delta));
    const completion = await runner.finalChatCompletion();

    assert.ok(deltas.length >= 2, `the stream arrived as ${deltas.length} deltas`);
    assert.equal(completion.choices[0].message.content, deltas.join(''));
    assert.equal(completion.choices[0].finish_reason, 'stop');
    assert.ok(completion.usage.total_tokens > 0);
    const [recorded] = await recordedFor(model);
    assert.equal(JSON.parse(recorded.body).stream, true);
  });

  it('chat.completions.parse with a JSON schema returns the parsed object', async () => {
    const model = freshModel();
    const schema = {
      type: 'object',
      properties: { city: { type: 'string' }, temperature: { type: 'number' }, sunny: { type: 'boolean' }, tags: { type: 'array', items: { type: 'string' } } },
      required: ['city', 'temperature', 'sunny', 'tags'],
      additionalProperties: false,
    };
    const completion = await openai().chat.completions.parse({
      model,
      messages: [{ role: 'user', content: 'Weather in Oslo as JSON' }],
      response_format: { type: 'json_schema', json_schema: { name: 'weather', schema, strict: true } },
    });
    const parsed = completion.choices[0].message.parsed;
    assert.equal(typeof parsed.city, 'string');
    assert.equal(typeof parsed.temperature, 'number');
    assert.equal(typeof parsed.sunny, 'boolean');
    assert.ok(Array.isArray(parsed.tags));
    const [recorded] = await recordedFor(model);
    assert.deepEqual(JSON.parse(recorded.body).response_format.json_schema.schema, schema);
  });

  it('a tool call round trip with runTools: the model calls the function, its result goes back, the model answers', async () => {
    const model = freshModel();
    const calls = [];
    const runner = openai().chat.completions.runTools({
      model,
      messages: [{ role: 'user', content: 'What is the weather in Oslo?' }],
      tools: [{
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
          function: (args) => {
            calls.push(args);
            return { forecast: 'sunny-and-12-degrees' };
          },
          parse: JSON.parse,
        },
      }],
    });
    const answer = await runner.finalContent();

    assert.equal(calls.length, 1);
    assert.equal(typeof calls[0].city, 'string');
    assert.match(answer, /sunny-and-12-degrees/, 'the answer was made from the tool\'s result');
    const sent = (await recordedFor(model)).map((r) => JSON.parse(r.body).messages);
    assert.equal(sent.length, 2);
    assert.deepEqual(sent[1].map((m) => m.role), ['user', 'assistant', 'tool']);
    assert.equal(sent[1][2].tool_call_id, sent[1][1].tool_calls[0].id);
  });
});
});
}
