// Resources through the gateway with Google's own SDK: a multi-chunk upload, then the file, a cache built from it, a
// batch and a video operation, each used through the gateway and each landing on the key that made it (checked at the
// fake, which refuses any other key with 403 and no key reason). Runs under API_PREFIX, so the rewritten upload URL
// must carry the prefix. Runs twice: against the embedded gateway, and against a cluster (Redis, two silos, two
// frontends) behind a round-robin proxy, so that one upload's chunks and a resource's later uses cross frontends.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GoogleGenAI, createPartFromUri } from '@google/genai';
import OpenAI, { toFile } from 'openai';
import { assertOnlyPoolKeys, freshModel, startCluster, startEnvironment } from './harness.mjs';

let env;

function genai() {
  return new GoogleGenAI({ apiKey: env.token, httpOptions: { baseUrl: `${env.gateway}/gp`, timeout: 60_000 } });
}

/** The keys the fake saw for requests whose path or query contains `fragment`. */
async function keysAt(fragment) {
  const requests = (await env.fake.requests()).filter((r) => r.path.includes(fragment) || (r.query ?? '').includes(fragment));
  assertOnlyPoolKeys(assert, requests);
  return requests.map((r) => r.apiKey);
}

async function keysFor(model) {
  return (await env.fake.requests()).filter((r) => r.model === model).map((r) => r.apiKey);
}

// Every use below follows its create at once and, in the cluster, through the other frontend: what an answer names
// must be bound to its key before the answer reaches the client.
const modes = [['embedded', startEnvironment], ['cluster: 2 frontends behind a round-robin proxy', startCluster]];
for (const [mode, start] of modes) {
describe(`resources with the Google GenAI SDK (${mode})`, { timeout: 180_000 }, () => {
  before(async () => {
    env = await start({ settings: { API_PREFIX: '/gp' } });
  }, { timeout: 180_000 });

  after(async () => {
    await env?.stop();
  }, { timeout: 60_000 });

  it('a file uploaded in chunks, a cache from it, and generates with both all land on the key that made the file', async () => {
    const ai = genai();
    const bytes = Buffer.alloc(9 * 1024 * 1024 + 123, 'a'); // two of the SDK's 8 MiB chunks
    const file = await ai.files.upload({ file: new Blob([bytes], { type: 'text/plain' }), config: { mimeType: 'text/plain', displayName: 'notes' } });
    assert.match(file.name, /^files\//);
    assert.equal(Number(file.sizeBytes), bytes.length);

    const uploads = (await env.fake.requests()).filter((r) => r.path === '/upload/v1beta/files');
    const chunks = uploads.filter((r) => (r.query ?? '').includes('upload_id='));
    assert.equal(chunks.length, 2);
    const owner = chunks[0].apiKey;
    assert.ok(uploads.every((r) => r.apiKey === owner)); // the start and both chunks
    if (env.routed) {
      // through the cluster: the start and the two chunks went through both frontends, and still made one upload
      const frontends = env.routed.filter((r) => r.path.startsWith('/gp/upload/v1beta/files')).map((r) => r.frontend);
      assert.equal(frontends.length, 3);
      assert.equal(new Set(frontends).size, 2);
    }

    const model = freshModel();
    for (let i = 0; i < 4; i++) {
      const response = await ai.models.generateContent({
        model,
        contents: [{ role: 'user', parts: [{ text: 'summarize' }, createPartFromUri(file.uri, file.mimeType)] }],
      });
      assert.ok(response.text.length > 0);
    }
    assert.deepEqual(await keysFor(model), [owner, owner, owner, owner]);
    if (env.routed) {
      assert.equal(new Set(env.routed.filter((r) => r.path.includes(`models/${model}:`)).map((r) => r.frontend)).size, 2);
    }

    const got = await ai.files.get({ name: file.name });
    assert.equal(got.name, file.name);

    const cache = await ai.caches.create({
      model,
      config: { contents: [{ role: 'user', parts: [createPartFromUri(file.uri, file.mimeType)] }], ttl: '600s' },
    });
    assert.match(cache.name, /^cachedContents\//);
    const cacheModel = freshModel();
    for (let i = 0; i < 3; i++) {
      await ai.models.generateContent({ model: cacheModel, contents: 'what is in it?', config: { cachedContent: cache.name } });
    }
    assert.deepEqual(await keysFor(cacheModel), [owner, owner, owner]);
    assert.deepEqual([...new Set(await keysAt('/v1beta/cachedContents'))], [owner]); // the cache was made with the file's key
    assert.ok((await keysAt(file.name)).every((k) => k === owner));
  });

  it('a batch is polled to completion on the key that made it', async () => {
    const ai = genai();
    const model = freshModel();
    let batch = await ai.batches.create({
      model,
      src: [{ contents: [{ role: 'user', parts: [{ text: 'hi' }] }] }],
      config: { displayName: 'e2e' },
    });
    const [owner] = await keysFor(model);
    for (let i = 0; i < 5 && batch.state !== 'JOB_STATE_SUCCEEDED'; i++) {
      batch = await ai.batches.get({ name: batch.name });
    }
    assert.equal(batch.state, 'JOB_STATE_SUCCEEDED');
    assert.ok((await keysAt(batch.name)).every((k) => k === owner));
  });

  it('a video operation is polled to done and its video downloaded from the key that made it', async () => {
    const ai = genai();
    const model = `veo-e2e-${freshModel().slice(-8)}`;
    let operation = await ai.models.generateVideos({ model, prompt: 'a cat on a skateboard' });
    const [owner] = await keysFor(model);
    for (let i = 0; i < 5 && !operation.done; i++) {
      operation = await ai.operations.getVideosOperation({ operation });
    }
    assert.equal(operation.done, true);
    const video = operation.response.generatedVideos[0];
    const dir = mkdtempSync(join(tmpdir(), 'gp-video-'));
    try {
      const path = join(dir, 'video.mp4');
      await ai.files.download({ file: video, downloadPath: path });
      assert.equal(readFileSync(path, 'utf8'), 'fake-mp4-bytes');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const id = video.video.uri.split('files/')[1].split(':')[0];
    assert.ok((await keysAt(operation.name.split('/').pop())).every((k) => k === owner));
    assert.deepEqual([...new Set(await keysAt(id))], [owner]);
  });
  it('files.list pages over the files of every key in the pool', async () => {
    const ai = genai();
    const made = [];
    for (let i = 0; i < 4; i++) {
      const file = await ai.files.upload({ file: new Blob([`listed ${i}`], { type: 'text/plain' }), config: { mimeType: 'text/plain', displayName: `listed-${i}` } });
      await ai.files.get({ name: file.name }); // answered by its key
      made.push(file.name);
    }
    const owners = new Set();
    for (const name of made) {
      for (const key of await keysAt(name)) owners.add(key);
    }
    assert.ok(owners.size >= 2, 'uploads rotate over the keys');

    const pager = await ai.files.list({ config: { pageSize: 2 } });
    const listed = [];
    let pages = 0;
    for (;;) {
      pages++;
      assert.ok(pager.page.length <= 2);
      listed.push(...pager.page.map((f) => f.name));
      if (!pager.hasNextPage()) break;
      await pager.nextPage();
    }
    assert.equal(new Set(listed).size, listed.length, 'no file twice');
    for (const name of made) assert.ok(listed.includes(name), `${name} is listed`);
    assert.ok(pages >= 2);
  });

  it('a File Search store, a document uploaded into it and a generate that searches it all use its key', async () => {
    const ai = genai();
    const store = await ai.fileSearchStores.create({ config: { displayName: 'handbook' } });
    assert.match(store.name, /^fileSearchStores\//);
    const operation = await ai.fileSearchStores.uploadToFileSearchStore({
      fileSearchStoreName: store.name,
      file: new Blob(['chapter one says hello'], { type: 'text/plain' }),
      config: { mimeType: 'text/plain', displayName: 'chapter' },
    });
    assert.equal(operation.done, true);
    assert.match(operation.response.documentName, new RegExp(`^${store.name}/documents/`));

    const model = freshModel();
    for (let i = 0; i < 3; i++) {
      const response = await ai.models.generateContent({
        model,
        contents: 'what does chapter one say?',
        config: { tools: [{ fileSearch: { fileSearchStoreNames: [store.name] } }] },
      });
      assert.ok(response.text.length > 0);
    }
    const listed = [];
    for await (const item of await ai.fileSearchStores.list({ config: { pageSize: 1 } })) listed.push(item.name);
    assert.ok(listed.includes(store.name));

    const owner = (await keysAt('/v1beta/fileSearchStores')).at(0);
    const id = store.name.split('/')[1];
    const used = [...(await keysAt(id)), ...(await keysFor(model))];
    assert.ok(used.length >= 5);
    assert.deepEqual([...new Set(used)], [owner]);
  });

  it('a batch made with the OpenAI SDK (input file, create, polls, output) stays on the key that holds its input file', async () => {
    // Google's OpenAI-compatible Batch API; its ids are resource names ("files/abc"), which the SDK escapes in paths
    const openai = new OpenAI({ baseURL: `${env.gateway}/gp/v1beta/openai`, apiKey: env.token, maxRetries: 0, timeout: 60_000 });
    const model = freshModel();
    const lines = [1, 2, 3].map((i) => JSON.stringify({
      custom_id: `q${i}`, method: 'POST', url: '/v1/chat/completions',
      body: { model, messages: [{ role: 'user', content: `Question ${i}` }] },
    }));
    const input = await openai.files.create({ file: await toFile(Buffer.from(lines.join('\n')), 'requests.jsonl'), purpose: 'batch' });
    assert.match(input.id, /^files\//);

    let batch = await openai.batches.create({ input_file_id: input.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    assert.match(batch.id, /^batches\//);
    for (let poll = 0; poll < 4 && batch.status !== 'completed'; poll++) {
      batch = await openai.batches.retrieve(batch.id);
    }
    assert.equal(batch.status, 'completed');
    const output = await (await openai.files.content(batch.output_file_id)).text();
    assert.deepEqual(output.trim().split('\n').map((line) => JSON.parse(line).custom_id), ['q1', 'q2', 'q3']);
    // the SDK's own paging (after = the last id it saw) walks every key's files, these two among them
    const listed = [];
    for await (const file of openai.files.list({ limit: 2 })) {
      listed.push(file.id);
    }
    assert.equal(new Set(listed).size, listed.length);
    assert.ok(listed.includes(input.id) && listed.includes(batch.output_file_id));
    assert.equal((await openai.files.delete(input.id)).deleted, true);

    const ids = [input.id, batch.id, batch.output_file_id].map((id) => id.split('/')[1]);
    const requests = (await env.fake.requests()).filter((r) => r.path.startsWith('/v1beta/openai/') && ids.some((id) => r.path.includes(id)));
    assert.ok(requests.length >= 4, `the two polls, the download and the delete reached upstream (${requests.length})`);
    assertOnlyPoolKeys(assert, requests);
    const owner = requests[0].apiKey;
    assert.ok(requests.every((r) => r.apiKey === owner && r.status === 200));
    assert.equal((await keysFor(model)).every((key) => key === owner), true); // the create, whose model is the input's
    if (env.routed) {
      const frontends = env.routed.filter((r) => r.path.startsWith('/gp/v1beta/openai/')).map((r) => r.frontend);
      assert.equal(new Set(frontends).size, 2);
    }
  });
});
}
