// Google's GenAI SDK's Interactions API (ai.interactions) through the gateway, with only baseUrl and apiKey changed:
// a conversation's turns, a stream, a get and a delete, all on the pool key that made the conversation.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { GoogleGenAI } from '@google/genai';
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

async function recordedFor(model, ids = []) {
  return (await env.fake.requests()).filter((r) => r.model === model || ids.some((id) => r.path.includes(id)));
}

describe('Google GenAI SDK interactions', { timeout: 60_000 }, () => {
  it('a conversation continues on the key that made it, through every turn, a get and a delete', async () => {
    const ai = genai();
    const model = freshModel();
    const first = await ai.interactions.create({ model, input: 'Hello, who are you?' });
    assert.equal(first.status, 'completed');
    assert.match(first.output_text, /^Turn 1 of the conversation\./);
    assert.ok(first.usage.total_tokens > 0);

    const ids = [first.id];
    for (let turn = 2; turn <= 5; turn++) {
      const next = await ai.interactions.create({ model, input: 'Go on', previous_interaction_id: ids.at(-1) });
      assert.match(next.output_text, new RegExp(`^Turn ${turn} of the conversation\\.`));
      ids.push(next.id);
    }

    const got = await ai.interactions.get(ids[0]);
    assert.equal(got.id, ids[0]);
    await ai.interactions.delete(ids[0]);
    await assert.rejects(ai.interactions.get(ids[0]), (error) => error.status === 404);

    const recorded = await recordedFor(model, ids);
    assert.equal(recorded.length, 5 + 3);
    assert.equal(new Set(recorded.map((r) => r.apiKey)).size, 1, 'one key: rotation would have spread the turns');
    assertOnlyPoolKeys(assert, recorded);
  });

  it('a streamed turn yields events as they come, and the next turn finds its key', async () => {
    const ai = genai();
    const model = freshModel();
    const stream = await ai.interactions.create({ model, input: 'Tell me a story', stream: true });
    const types = [];
    let id;
    let text = '';
    for await (const event of stream) {
      types.push(event.event_type);
      if (event.event_type === 'interaction.created') {
        id = event.interaction.id;
      }
      if (event.event_type === 'step.delta' && event.delta.type === 'text') {
        text += event.delta.text;
      }
    }
    assert.equal(types[0], 'interaction.created');
    assert.equal(types.at(-1), 'interaction.completed');
    assert.ok(types.includes('step.delta'));
    assert.ok(text.length > 0);

    const next = await ai.interactions.create({ model, input: 'And then?', previous_interaction_id: id });
    assert.match(next.output_text, /^Turn 2 of the conversation\./);
    const recorded = await recordedFor(model);
    assert.equal(recorded.length, 2);
    assert.equal(recorded[0].apiKey, recorded[1].apiKey);
  });
});
