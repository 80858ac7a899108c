// What a web app written against Google's endpoint does, with only the base URL and the key changed: the SDKs' browser
// builds, run by chromium from an origin that is not the gateway's, so every call is a CORS call.
import { GoogleGenAI, Modality } from '/genai/index.mjs';
import OpenAI from '/openai/index.mjs';

async function google(baseUrl, token, model) {
  const ai = new GoogleGenAI({ apiKey: token, httpOptions: { baseUrl } });
  const answer = await ai.models.generateContent({ model, contents: 'Hello from a browser' });
  let events = 0;
  for await (const chunk of await ai.models.generateContentStream({ model, contents: 'Stream to a browser' })) {
    if (chunk.text) events++;
  }
  const file = await ai.files.upload({ file: new Blob(['bytes from a browser'], { type: 'text/plain' }), config: { mimeType: 'text/plain' } });
  const fetched = await ai.files.get({ name: file.name });
  return { text: answer.text, events, file: file.name, fileBytes: fetched.sizeBytes };
}

async function openai(baseUrl, token, model) {
  const client = new OpenAI({ apiKey: token, baseURL: `${baseUrl}/v1`, dangerouslyAllowBrowser: true, maxRetries: 0 });
  const { data, response } = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'Hi from a browser' }] }).withResponse();
  return { content: data.choices[0].message.content, serverTiming: response.headers.get('server-timing') };
}

async function refused(baseUrl, model) {
  const ai = new GoogleGenAI({ apiKey: 'not-a-client-token', httpOptions: { baseUrl } });
  try {
    await ai.models.generateContent({ model, contents: 'Hello' });
    return 'answered';
  } catch (error) {
    return { status: error.status, message: error.message };
  }
}

async function live(baseUrl, token, model) {
  const ai = new GoogleGenAI({ apiKey: token, httpOptions: { baseUrl } });
  let text = '';
  let done;
  const turn = new Promise((resolve) => { done = resolve; });
  const session = await ai.live.connect({
    model,
    config: { responseModalities: [Modality.TEXT] },
    callbacks: {
      onmessage: (message) => {
        text += message.serverContent?.modelTurn?.parts?.map((part) => part.text ?? '').join('') ?? '';
        if (message.serverContent?.turnComplete) done();
      },
    },
  });
  session.sendClientContent({ turns: 'Hello live from a browser', turnComplete: true });
  await turn;
  session.close();
  return text;
}

/** A fetch the browser refuses to hand to the page (no CORS answer) rejects with a TypeError. */
async function direct(url, key) {
  try {
    await fetch(url, { headers: { 'x-goog-api-key': key } });
    return 'read';
  } catch (error) {
    return error.name;
  }
}

window.gatewayCalls = async ({ baseUrl, token, model }) => ({
  origin: location.origin,
  google: await google(baseUrl, token, model),
  openai: await openai(baseUrl, token, model),
  refused: await refused(baseUrl, model),
  live: await live(baseUrl, token, model),
});

window.directCall = ({ url, key }) => direct(url, key);
