// A short soak in the CI: the driver of tools/soak/run.sh against the embedded product for ~15 s at a low rate, with the
// same faults (a key invalid for good, 429s with and without RetryInfo, 503s, connection resets) and the same checks.
// The full runs (minutes, cluster mode with a silo killed, memory) are `tools/soak/run.sh`; see docs/reliability.md.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startEnvironment } from './harness.mjs';
import { runSoak } from '../../tools/soak/soak.mjs';

const KEYS = [0, 1, 2, 3, 4, 5].map((i) => `AIzaSySoakTest${i}-${'abcdef'[i].repeat(22)}`);
const COOLDOWN_SECONDS = 3;

let env;

before(async () => {
  env = await startEnvironment({
    keys: KEYS,
    settings: { BLACKLIST_TIMEOUT: String(COOLDOWN_SECONDS * 1000), DEFAULT_MAX_RETRIES: '3' },
  });
}, { timeout: 120_000 });

after(async () => {
  await env?.stop();
}, { timeout: 30_000 });

describe('soak (short)', { timeout: 90_000 }, () => {
  it('answers every request under injected faults, blames only the faulty keys, and counts what upstream saw', async () => {
    const { checks, report } = await runSoak({
      mode: 'embedded',
      targets: [env.gateway],
      token: env.token,
      fakeUrl: env.fake.baseUrl,
      keys: KEYS,
      seconds: 15,
      rps: 10,
      concurrency: 32,
      cooldownSeconds: COOLDOWN_SECONDS,
      maxAttempts: 3,
      requestTimeoutMs: 20_000,
      checkRss: false, // 15 s says nothing about memory
      flushWaitMs: 1_500,
    });
    const failed = checks.filter((c) => !c.pass);
    assert.deepEqual(failed, [], `soak checks failed:\n${report}`);
    // the checks the issue names, by name, so that renaming one cannot silently drop it
    for (const name of ['every request got an answer', 'no 5xx that a retry', 'no key used while cooling',
      'no key used after it was found invalid', 'per-key attempts in /rotation-status', 'every injected fault kind']) {
      assert.ok(checks.some((c) => c.name.startsWith(name)), `check "${name}" missing`);
    }
  });
});
