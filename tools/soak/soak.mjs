// The soak driver: sends a steady mix of requests to the product while it scripts faults on some pool keys in the fake
// upstream (and, in cluster mode, kills and restarts a silo), then checks what clients and the fake saw.
// tools/soak/run.sh starts the processes and calls this file; tests/e2e/soak.test.mjs imports runSoak() directly.
// Node 20, no dependencies: global fetch, every call bounded by AbortSignal.timeout.
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const KINDS = ['native', 'native-sse', 'openai', 'openai-stream'];
const DEFAULT_MODELS = ['gemini-2.0-flash', 'gemini-2.5-flash', 'gemini-2.5-pro'];
const CONTROL_TIMEOUT_MS = 10_000;

/**
 * Runs one soak and returns { ok, checks, report, stats }.
 * options: targets (frontend base URLs), token, fakeUrl, keys (in GEMINI_API_KEY order), seconds, rps, concurrency,
 * models, cooldownSeconds (must equal BLACKLIST_TIMEOUT/1000), maxAttempts (DEFAULT_MAX_RETRIES), requestTimeoutMs,
 * mode ('embedded' | 'cluster'), siloCtl (cluster: script taking `kill|start silo-N`), siloPort (first silo port),
 * killAt (fraction of the run), restartAfterSeconds, pidFiles ({ name: path }), rssEveryMs, checkRss, log (function).
 */
export async function runSoak(options) {
  const o = {
    seconds: 120, rps: 40, concurrency: 96, models: DEFAULT_MODELS, cooldownSeconds: 5, maxAttempts: 3,
    requestTimeoutMs: 30_000, mode: 'embedded', killAt: 0.45, restartAfterSeconds: 10, pidFiles: {},
    rssEveryMs: 3_000, checkRss: true, flushWaitMs: 2_500, log: () => {},
    ...options,
  };
  if (o.keys.length < 6) {
    throw new Error(`the soak scripts faults on 5 keys and needs a 6th that stays healthy: got ${o.keys.length} keys`);
  }
  const tag = Math.random().toString(36).slice(2, 8);
  const durationMs = o.seconds * 1000;
  const plan = planFaults(durationMs, o.cooldownSeconds * 1000);
  const baseline = { status: await rotationStatus(o), fake: await fakeCall(o.fakeUrl, 'GET', 'stats') };

  const rss = startRssSampler(o);
  const results = [];
  const silo = { events: [] };
  let inFlight = 0;
  let shed = 0;
  const pending = new Set();
  const t0 = Date.now();
  const at = () => Date.now() - t0;

  const faultLog = [];
  const faultTimers = plan.events.map((event) => setTimeout(() => {
    const body = { key: o.keys[event.key], fault: event.fault, times: event.times ?? 0 };
    if (event.retryDelaySeconds !== undefined) body.retryDelaySeconds = event.retryDelaySeconds;
    const sent = at();
    fakeCall(o.fakeUrl, 'POST', 'faults', body)
      .then(() => faultLog.push({ ...event, sentMs: sent }))
      .catch((error) => faultLog.push({ ...event, sentMs: sent, error: error.message }));
  }, event.at));

  let siloTask = Promise.resolve();
  if (o.mode === 'cluster' && o.siloCtl) {
    siloTask = new Promise((resolve) => setTimeout(resolve, durationMs * o.killAt))
      .then(() => killAndRestartSilo(o, silo, at));
  }

  o.log(`driving ${o.rps} req/s for ${o.seconds} s over ${o.targets.length} frontend(s), ${o.models.length} models`);
  const interval = 1000 / o.rps;
  let progressAt = 10_000;
  for (let i = 0; ; i++) {
    const due = i * interval;
    if (due >= durationMs) break;
    const wait = t0 + due - Date.now();
    if (wait > 0) await sleep(wait);
    if (at() >= progressAt) {
      const failed = results.filter((r) => r.status !== 200).length;
      o.log(`  ${Math.round(at() / 1000)} s: ${results.length} answered, ${failed} not 200, ${inFlight} in flight, ${shed} shed`);
      progressAt += 10_000;
    }
    if (inFlight >= o.concurrency) {
      shed++; // the pool is full: a bounded driver drops the arrival instead of queueing it
      continue;
    }
    inFlight++;
    const request = sendOne(o, tag, i, at);
    pending.add(request);
    request.then((result) => {
      results.push(result);
      inFlight--;
      pending.delete(request);
    });
  }
  const drivenMs = at();
  await Promise.all(pending);
  faultTimers.forEach(clearTimeout);
  await siloTask;
  o.log(`drive over after ${Math.round(drivenMs / 1000)} s; ${results.length} requests answered or timed out; waiting ${o.flushWaitMs} ms for the counter flush`);
  await sleep(o.flushWaitMs);
  rss.stop();

  const finalStatus = await rotationStatus(o);
  const otherStatuses = await Promise.all(o.targets.slice(1).map((target) => rotationStatus(o, target)));
  const fakeStats = await fakeCall(o.fakeUrl, 'GET', 'stats');
  const records = await fakeCall(o.fakeUrl, 'GET', 'requests');
  const analysis = analyse({ o, tag, plan, results, records, silo, baseline, finalStatus, otherStatuses, fakeStats, rss, shed, drivenMs, faultLog });
  return analysis;
}

/**
 * The fault schedule, in units of the cooldown c so that its invariants hold at any speed: at most two keys can spend
 * a request's attempt at any moment (so DEFAULT_MAX_RETRIES=3 always reaches a healthy key), and at least two keys
 * are healthy for every model. k0 turns invalid for good early; k1 gets 429s with RetryInfo, k2 429s without it
 * (BLACKLIST_TIMEOUT applies), k3 503s, k4 connection resets; k5 is never touched.
 */
export function planFaults(durationMs, cooldownMs) {
  const c = cooldownMs;
  const events = [];
  const windows = [];
  const invalidAt = Math.max(1_000, Math.round(durationMs * 0.08));
  events.push({ at: invalidAt, key: 0, fault: 'InvalidKey', times: 1_000_000, label: 'invalid key (400 API_KEY_INVALID), for good' });
  windows.push({ key: 0, fault: 'InvalidKey', from: invalidAt, to: null });
  const quietTail = Math.max(c + 2_000, durationMs * 0.1);
  const lastStart = durationMs - quietTail;
  const steps = [
    { offset: 0, length: 0.4, key: 1, fault: 'RateLimitPerMinute', times: 3, retryDelaySeconds: c / 1000, label: `429 with RetryInfo ${c / 1000}s` },
    { offset: 0.6, length: 0.6, key: 3, fault: 'Overloaded503', times: 1_000_000, label: '503 UNAVAILABLE' },
    { offset: 1.4, length: 0.4, key: 2, fault: 'RateLimitPerMinute', times: 3, retryDelaySeconds: -1, label: '429 without RetryInfo (BLACKLIST_TIMEOUT)' },
    { offset: 2.0, length: 0.6, key: 4, fault: 'ConnectionReset', times: 1_000_000, label: 'connection reset before any byte' },
    { offset: 2.8, length: 0.6, key: 1, fault: 'RateLimitPerMinute', times: 3, retryDelaySeconds: c / 1000, label: `429 with RetryInfo ${c / 1000}s (with the 503s)` },
    { offset: 2.8, length: 0.6, key: 3, fault: 'Overloaded503', times: 1_000_000, label: '503 UNAVAILABLE (with the 429s)' },
  ];
  const cycle = 4 * c;
  for (let start = invalidAt + Math.max(2_000, c * 0.4); start < lastStart; start += cycle) {
    for (const step of steps) {
      const from = Math.round(start + step.offset * c);
      if (from >= lastStart) continue;
      const to = Math.round(from + step.length * c);
      const { offset, length, ...fault } = step;
      events.push({ ...fault, at: from });
      events.push({ at: to, key: step.key, fault: step.fault, times: 0, label: 'cleared' }); // times 0 removes it
      windows.push({ key: step.key, fault: step.fault, label: step.label, from, to });
    }
  }
  events.sort((a, b) => a.at - b.at);
  return { events, windows, invalidAt, quietTail };
}

// ---- one request ----

async function sendOne(o, tag, i, at) {
  // picked by a hash of the sequence number, not in turn: with steady arrivals and round-robin keys, a fixed cycle of
  // kinds lines each kind up with the same keys, and some kinds would never meet a faulty key
  const pick = hash(i);
  const kind = KINDS[pick % KINDS.length];
  const model = o.models[Math.floor(pick / KINDS.length) % o.models.length];
  const target = o.targets[Math.floor(pick / 64) % o.targets.length];
  const text = `soak-${tag}-r${i}: say something short`;
  let url;
  let body;
  const headers = { 'content-type': 'application/json' };
  if (kind.startsWith('native')) {
    url = `${target}/v1beta/models/${model}:${kind === 'native' ? 'generateContent' : 'streamGenerateContent?alt=sse'}`;
    headers['x-goog-api-key'] = o.token;
    body = { contents: [{ role: 'user', parts: [{ text }] }] };
  } else {
    url = `${target}/v1beta/openai/chat/completions`;
    headers.authorization = `Bearer ${o.token}`;
    body = { model, messages: [{ role: 'user', content: text }], stream: kind === 'openai-stream' };
  }
  const result = { id: i, kind, model, target, start: at(), end: 0, status: 0, error: null, complete: false };
  try {
    const response = await fetch(url, {
      method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(o.requestTimeoutMs),
    });
    result.status = response.status;
    const text = await response.text();
    const headerText = [...response.headers].flat().join('\n');
    result.leaked = o.keys.some((key) => text.includes(key) || headerText.includes(key));
    result.complete = response.status === 200 ? isComplete(kind, text) : true;
    if (response.status !== 200) result.error = text.slice(0, 300);
  } catch (error) {
    result.error = error.name === 'TimeoutError' ? 'timeout' : `${error.name}: ${error.cause?.code ?? error.message}`;
  }
  result.end = at();
  return result;
}

/** A 200 must carry a whole answer: a JSON body with a candidate/choice, or a stream that ended properly. */
function isComplete(kind, text) {
  try {
    if (kind === 'native') return Array.isArray(JSON.parse(text).candidates);
    if (kind === 'openai') return Array.isArray(JSON.parse(text).choices);
    const events = text.split(/\r?\n\r?\n/).map((e) => e.trim()).filter((e) => e.startsWith('data:')).map((e) => e.slice(5).trim());
    if (events.length === 0 || events.some((e) => e.includes('"error"'))) return false;
    if (kind === 'openai-stream') return events.at(-1) === '[DONE]';
    return events.at(-1).includes('finishReason');
  } catch {
    return false;
  }
}

// ---- cluster: kill -9 the silo that hosts the pool, restart it ----

async function killAndRestartSilo(o, silo, at) {
  let name = 'silo-1';
  try {
    const status = await rotationStatus(o);
    const port = Number(/:(\d+)(:|$)/.exec(status.data.cluster.poolSilo ?? '')?.[1]);
    if (port >= o.siloPort) name = `silo-${port - o.siloPort + 1}`;
  } catch (error) {
    o.log(`could not read the pool's silo (${error.message}); killing silo-1`);
  }
  silo.name = name;
  silo.killedAt = at();
  o.log(`kill -9 ${name} (hosts the pool) at ${Math.round(silo.killedAt / 1000)} s`);
  await runCtl(o.siloCtl, ['kill', name]);
  await sleep(o.restartAfterSeconds * 1000);
  silo.restartAt = at();
  o.log(`restarting ${name} at ${Math.round(silo.restartAt / 1000)} s`);
  const output = await runCtl(o.siloCtl, ['start', name]);
  silo.readyAt = at();
  silo.restartOutput = output.trim();
  o.log(`${name} ready again at ${Math.round(silo.readyAt / 1000)} s`);
}

function runCtl(script, args) {
  return new Promise((resolve, reject) => {
    execFile('bash', [script, ...args], { timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${script} ${args.join(' ')}: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

// ---- memory ----

function startRssSampler(o) {
  const series = new Map(); // "name pid" -> { name, pid, samples: [{ t, kb }] }
  const t0 = Date.now();
  const sample = () => {
    for (const [name, file] of Object.entries(o.pidFiles)) {
      try {
        const pid = readFileSync(file, 'utf8').trim();
        const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
        if (!kb) continue;
        const id = `${name} ${pid}`;
        if (!series.has(id)) series.set(id, { name, pid, samples: [] });
        series.get(id).samples.push({ t: Date.now() - t0, kb });
      } catch {
        // not running at this moment (a killed silo)
      }
    }
  };
  sample();
  const timer = setInterval(sample, o.rssEveryMs);
  return {
    series,
    stop() {
      sample();
      clearInterval(timer);
    },
  };
}

// ---- checks ----

function analyse({ o, tag, plan, results: answered, records, silo, baseline, finalStatus, otherStatuses, fakeStats, rss, shed, drivenMs, faultLog }) {
  const byId = new Map(answered.map((r) => [r.id, { ...r, attempts: [] }]));
  const results = [...byId.values()];
  const idPattern = new RegExp(`soak-${tag}-r(\\d+)`);
  let unattributed = 0;
  const keyIndex = new Map(o.keys.map((key, index) => [key, index]));
  const attempts = [];
  for (const record of records) {
    const body = Buffer.from(record.bodyBase64 ?? '', 'base64').toString('utf8');
    const match = idPattern.exec(body);
    const request = match ? byId.get(Number(match[1])) : undefined;
    if (!request) {
      unattributed++;
      continue;
    }
    const attempt = { key: keyIndex.get(record.apiKey) ?? -1, model: record.model, status: record.status, request };
    request.attempts.push(attempt);
    attempts.push(attempt);
  }

  // the silo-kill window: from the kill until 10 s after the restarted silo is ready
  const killWindow = silo.killedAt === undefined ? null
    : { from: silo.killedAt, to: Math.max(silo.killedAt + 20_000, (silo.readyAt ?? silo.killedAt) + 10_000) };
  const inKillWindow = (r) => killWindow !== null && r.end >= killWindow.from && r.start <= killWindow.to;

  const checks = [];
  const check = (name, pass, detail) => checks.push({ name, pass, detail });

  // 1. every request got an answer
  const unanswered = results.filter((r) => r.status === 0);
  check('every request got an answer (no timeout, no broken connection)', unanswered.length === 0,
    unanswered.length === 0 ? `${results.length} of ${results.length} answered; slowest ${maxOf(results.map((r) => r.end - r.start))} ms`
      : `${unanswered.length} without answer: ${summarize(unanswered.map((r) => r.error))}`);

  // 2. no avoidable 5xx, no error answer at all outside the kill window
  const fiveXx = results.filter((r) => r.status >= 500 && !inKillWindow(r));
  const early = fiveXx.filter((r) => r.attempts.length < o.maxAttempts);
  const exhausted = fiveXx.filter((r) => r.attempts.length >= o.maxAttempts);
  check('no 5xx that a retry on a healthy key could have avoided', fiveXx.length === 0,
    fiveXx.length === 0 ? `0 of ${results.length - results.filter(inKillWindow).length} outside the kill window`
      : `${fiveXx.length}: ${early.length} gave up with attempts left, ${exhausted.length} spent all ${o.maxAttempts} attempts; e.g. ${describeRequests(fiveXx)}`);
  const otherErrors = results.filter((r) => r.status > 0 && r.status !== 200 && r.status < 500 && !inKillWindow(r));
  check('no other error answer (4xx) while healthy keys remain', otherErrors.length === 0,
    otherErrors.length === 0 ? '0' : `${otherErrors.length}: ${describeRequests(otherErrors)}`);
  const truncated = results.filter((r) => r.status === 200 && !r.complete);
  check('every 200 is a whole answer (JSON parsed, stream ended properly)', truncated.length === 0,
    truncated.length === 0 ? `${results.filter((r) => r.status === 200).length} checked` : `${truncated.length}: ${describeRequests(truncated)}`);

  const leaked = results.filter((r) => r.leaked);
  check('no pool key in any response body or header', leaked.length === 0,
    leaked.length === 0 ? `${results.length} responses scanned` : `${leaked.length} responses carry a pool key: ${describeRequests(leaked)}`);

  // 3. no key used while cooling or invalid
  const cooldowns = attempts.filter((a) => a.status === 429).map((a) => ({
    key: a.key, model: a.model, request: a.request,
    // the pool set the cooldown at some moment inside the request that got the 429: it surely covers [end, start + c]
    surely: { from: a.request.end, to: a.request.start + o.cooldownSeconds * 1000 },
    latest: a.request.end + o.cooldownSeconds * 1000,
  }));
  const coolingViolations = [];
  let overlapping = 0;
  for (const cooldown of cooldowns) {
    for (const a of attempts) {
      if (a.key !== cooldown.key || a.model !== cooldown.model || a.request === cooldown.request) continue;
      if (a.request.start > cooldown.surely.from && a.request.end < cooldown.surely.to) {
        coolingViolations.push({ cooldown, a });
      } else if (a.request.start <= cooldown.surely.from && a.request.end > cooldown.request.start) {
        overlapping++; // leased while the 429 was in flight: allowed
      }
    }
  }
  check('no key used while cooling (key, model) after its 429', coolingViolations.length === 0,
    `${cooldowns.length} cooldowns observed; ${coolingViolations.length} uses inside one; ${overlapping} uses in flight with the 429 (allowed)`
      + (coolingViolations.length ? `; e.g. k${coolingViolations[0].a.key} ${coolingViolations[0].a.model} request r${coolingViolations[0].a.request.id} at ${coolingViolations[0].a.request.start} ms, cooling since ${coolingViolations[0].cooldown.surely.from} ms` : ''));

  const invalidHits = attempts.filter((a) => a.key === 0 && a.status === 400).sort((x, y) => x.request.end - y.request.end);
  const firstInvalid = invalidHits[0];
  const afterInvalid = firstInvalid ? attempts.filter((a) => a.key === 0 && a.request.start > firstInvalid.request.end) : [];
  check('no key used after it was found invalid', firstInvalid !== undefined && afterInvalid.length === 0,
    firstInvalid === undefined ? 'k0 never answered 400 API_KEY_INVALID: the fault did not fire'
      : `k0 invalid from ${firstInvalid.request.end} ms; ${invalidHits.length} request(s) got its 400 (in flight together); ${afterInvalid.length} later uses`);

  // 4. cooled keys come back (a 429 must not disable a key for good)
  const lastAttemptAt = maxOf(attempts.map((a) => a.request.start));
  const returns = cooldowns.filter((c) => c.latest + 5_000 < lastAttemptAt && !cooldowns.some((d) => d !== c && d.key === c.key && d.model === c.model && d.request.start > c.request.start && d.request.start < c.latest + 5_000));
  const stuck = returns.filter((c) => !attempts.some((a) => a.key === c.key && a.model === c.model && a.status === 200 && a.request.start > c.latest));
  check('every cooled key served its model again after the cooldown', stuck.length === 0,
    `${returns.length - stuck.length} of ${returns.length} checked cooldowns were followed by a success on that key and model`
      + (stuck.length ? `; stuck: ${stuck.slice(0, 5).map((c) => `k${c.key}/${c.model}`).join(', ')}` : ''));

  // 5. every injected fault actually happened (else the soak proved nothing)
  const seen = {
    'invalid key (400)': attempts.filter((a) => a.status === 400 && a.key === 0).length,
    '429 with RetryInfo': attempts.filter((a) => a.status === 429 && a.key === 1).length,
    '429 without RetryInfo': attempts.filter((a) => a.status === 429 && a.key === 2).length,
    '503': attempts.filter((a) => a.status === 503).length,
    'connection reset': attempts.filter((a) => a.status === 0).length,
  };
  const missing = Object.entries(seen).filter(([, n]) => n === 0).map(([name]) => name);
  check('every injected fault kind reached the product', missing.length === 0,
    Object.entries(seen).map(([name, n]) => `${name}: ${n}`).join(', '));
  const controlErrors = faultLog.filter((f) => f.error);
  if (controlErrors.length) check('fault control calls succeeded', false, controlErrors.map((f) => f.error).join('; '));

  // 6. counts: /rotation-status lifetime attempts against what the fake counted
  const countRows = o.keys.map((key, index) => {
    const leases = (leasesOf(finalStatus, index) ?? 0) - (leasesOf(baseline.status, index) ?? 0);
    // health probes (a key that failed transiently five times in a row is probed) are upstream calls, not attempts
    const probes = records.filter((r) => r.apiKey === key && Object.entries(r.headers ?? {})
      .some(([name, value]) => name.toLowerCase() === 'user-agent' && String(value).startsWith('gemini-party-key-probe'))).length;
    const fake = (fakeStats.perKey[key] ?? 0) - (baseline.fake.perKey[key] ?? 0) - probes;
    // a killed pool loses the attempts it had not flushed yet (COUNTER_FLUSH_INTERVAL, 1 s; 1.5 s allowed for a late
    // timer on a busy machine), and a lease whose answer died with a silo may be counted twice (+2)
    const tolerance = killWindow ? attempts.filter((a) => a.key === index
      && a.request.start >= killWindow.from - 1_500 && a.request.start <= killWindow.from + 100).length + 2 : 0;
    return { key: `k${index}`, fake, leases, diff: leases - fake, tolerance, pass: Math.abs(leases - fake) <= tolerance };
  });
  check(killWindow ? 'per-key attempts in /rotation-status match the fake (within the write-behind window of the killed silo)'
    : 'per-key attempts in /rotation-status equal the fake\'s per-key counts', countRows.every((r) => r.pass),
  countRows.map((r) => `${r.key} ${r.leases}/${r.fake}`).join(', ') + ' (status/fake)');
  const disagree = otherStatuses.filter((s) => JSON.stringify(s.data.keys.map((k) => k.usage.total)) !== JSON.stringify(finalStatus.data.keys.map((k) => k.usage.total)));
  if (otherStatuses.length) {
    check('every frontend reports the same counts', disagree.length === 0, `${otherStatuses.length + 1} frontends asked`);
  }

  // 7. memory
  const rssRows = [...rss.series.values()].map((s) => rssRow(s, drivenMs, o));
  if (o.checkRss) {
    const growing = rssRows.filter((r) => r.checked && !r.pass);
    check('RSS of every product process stays flat after warm-up', growing.length === 0,
      growing.length === 0 ? `${rssRows.filter((r) => r.checked).length} processes checked` : growing.map((r) => `${r.name}: ${r.verdict}`).join('; '));
  }

  // what each fault window produced: the key's answers of that kind in requests that overlap the window (+1 s)
  const faultStatus = { InvalidKey: 400, RateLimitPerMinute: 429, Overloaded503: 503, ConnectionReset: 0 };
  for (const w of plan.windows) {
    w.hits = attempts.filter((a) => a.key === w.key && a.status === faultStatus[w.fault]
      && a.request.end >= w.from && (w.to === null || a.request.start <= w.to + 1_000)).length;
  }

  const stats = {
    results, attempts: attempts.length, unattributed, shed, drivenMs, killWindow, silo, countRows, rssRows, plan, faultLog,
    killWindowStats: killWindow ? killStats(results.filter(inKillWindow), killWindow) : null,
  };
  const ok = checks.every((c) => c.pass);
  return { ok, checks, stats, report: renderReport(o, checks, stats) };
}

function killStats(inWindow, window) {
  const bad = inWindow.filter((r) => r.status !== 200);
  const slow = inWindow.filter((r) => r.end - r.start > 1_000);
  const disrupted = [...bad, ...slow];
  return {
    requests: inWindow.length,
    fiveXx: inWindow.filter((r) => r.status >= 500).length,
    other: inWindow.filter((r) => r.status !== 200 && r.status < 500).length,
    slow: slow.length,
    maxLatency: maxOf(inWindow.map((r) => r.end - r.start)),
    disruptionMs: disrupted.length ? maxOf(disrupted.map((r) => r.end)) - window.from : 0,
    statuses: countBy(inWindow.map((r) => r.status)),
  };
}

function rssRow(s, drivenMs, o) {
  const kb = s.samples.map((x) => x.kb);
  const row = {
    name: s.name, pid: s.pid, samples: kb.length,
    start: mb(kb[0]), peak: mb(Math.max(...kb)), end: mb(kb.at(-1)), checked: false, pass: true, verdict: 'not checked',
  };
  // the fake keeps every request it saw (by design), Redis keeps its append-only file: report them, judge the product
  if (/^fake/.test(s.name) || /^redis/.test(s.name)) {
    row.verdict = 'reported only';
    return row;
  }
  // warm-up (JIT, heap sizing) is over after ~30% of the run; then the median of [30%, 50%] is the plateau
  const first = s.samples[0].t;
  const span = s.samples.at(-1).t - first;
  if (span < 60_000 || kb.length < 10) {
    row.verdict = `too short to judge (${Math.round(span / 1000)} s)`;
    return row;
  }
  const plateau = median(s.samples.filter((x) => x.t >= first + span * 0.3 && x.t <= first + span * 0.5).map((x) => x.kb));
  const last = median(s.samples.filter((x) => x.t >= first + span * 0.8).map((x) => x.kb));
  const limit = plateau * 1.25 + 16 * 1024;
  row.checked = true;
  row.plateau = mb(plateau);
  row.pass = last <= limit;
  row.verdict = `${row.pass ? 'flat' : 'GROWING'}: plateau ${mb(plateau)} MB, last 20% ${mb(last)} MB (limit ${mb(limit)} MB)`;
  return row;
}

// ---- report ----

function renderReport(o, checks, s) {
  const lines = [];
  const r = s.results;
  const started = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  lines.push(`# Soak: ${o.mode} mode, ${o.seconds} s, ${started}`, '');
  lines.push(`Commit ${o.commit ?? 'unknown'}. ${o.targets.length} frontend(s), ${o.keys.length} keys (k0..k${o.keys.length - 1}), `
    + `${o.rps} req/s offered (concurrency bound ${o.concurrency}, ${s.shed} arrivals shed), models ${o.models.join(', ')}, `
    + `request timeout ${o.requestTimeoutMs / 1000} s, DEFAULT_MAX_RETRIES=${o.maxAttempts}, BLACKLIST_TIMEOUT=${o.cooldownSeconds * 1000}.`, '');
  lines.push(`**Result: ${checks.every((c) => c.pass) ? 'PASS' : 'FAIL'}** (${checks.filter((c) => c.pass).length} of ${checks.length} checks passed)`, '');
  lines.push('## Checks', '', '| check | result | detail |', '|---|---|---|');
  for (const c of checks) lines.push(`| ${c.name} | ${c.pass ? 'pass' : '**FAIL**'} | ${escape(c.detail)} |`);
  lines.push('', '## Load', '');
  const lat = (xs) => xs.length ? `${percentile(xs, 50)} / ${percentile(xs, 95)} / ${percentile(xs, 99)} / ${maxOf(xs)}` : '-';
  lines.push('| kind | requests | statuses | retried on another key | latency ms p50 / p95 / p99 / max |', '|---|---|---|---|---|');
  const retriedOf = (xs) => xs.filter((x) => x.attempts.length > 1).length;
  for (const kind of KINDS) {
    const xs = r.filter((x) => x.kind === kind);
    lines.push(`| ${kind} | ${xs.length} | ${formatCounts(countBy(xs.map((x) => x.status)))} | ${retriedOf(xs)} | ${lat(xs.map((x) => x.end - x.start))} |`);
  }
  lines.push(`| all | ${r.length} | ${formatCounts(countBy(r.map((x) => x.status)))} | ${retriedOf(r)} | ${lat(r.map((x) => x.end - x.start))} |`);
  const retried = r.filter((x) => x.attempts.length > 1).length;
  lines.push('', `Upstream attempts seen by the fake: ${s.attempts} for ${r.length} requests (${retried} requests needed more than one attempt; `
    + `${s.unattributed} upstream requests not matched to a client request). Attempts per request: ${formatCounts(countBy(r.map((x) => x.attempts.length)))}.`);
  lines.push('', '## Faults injected', '', '| from s | to s | key | fault | answers of that kind the key gave |', '|---|---|---|---|---|');
  for (const w of s.plan.windows) {
    lines.push(`| ${(w.from / 1000).toFixed(1)} | ${w.to === null ? 'end' : (w.to / 1000).toFixed(1)} | k${w.key} | ${w.label ?? w.fault} | ${w.hits} |`);
  }
  lines.push('', `k5 was never touched. The last ${(s.plan.quietTail / 1000).toFixed(0)} s are quiet (no new fault) so cooldowns end before the counts are read.`);
  if (s.killWindow) {
    const k = s.killWindowStats;
    lines.push('', '## Silo kill', '');
    lines.push(`\`kill -9\` of ${s.silo.name} (the pool's silo) at ${(s.silo.killedAt / 1000).toFixed(1)} s, restarted at `
      + `${(s.silo.restartAt / 1000).toFixed(1)} s, ready at ${(s.silo.readyAt / 1000).toFixed(1)} s. Kill window (kill until 10 s after ready, at least 20 s): `
      + `${(s.killWindow.from / 1000).toFixed(1)}-${(s.killWindow.to / 1000).toFixed(1)} s.`, '');
    lines.push('| requests in window | statuses | 5xx | other errors | slower than 1 s | slowest ms | disruption (kill to last failed or slow answer) |', '|---|---|---|---|---|---|---|');
    lines.push(`| ${k.requests} | ${formatCounts(k.statuses)} | ${k.fiveXx} | ${k.other} | ${k.slow} | ${k.maxLatency} | ${(k.disruptionMs / 1000).toFixed(1)} s |`);
  }
  lines.push('', '## Counts: /rotation-status lifetime attempts against the fake', '', '| key | fake | /rotation-status | diff | allowed |', '|---|---|---|---|---|');
  for (const row of s.countRows) lines.push(`| ${row.key} | ${row.fake} | ${row.leases} | ${row.diff} | ${row.tolerance ? `±${row.tolerance}` : '0'} |`);
  lines.push('', '## Memory (RSS, MB)', '', '| process | pid | samples | start | peak | end | verdict |', '|---|---|---|---|---|---|---|');
  for (const row of s.rssRows) lines.push(`| ${row.name} | ${row.pid} | ${row.samples} | ${row.start} | ${row.peak} | ${row.end} | ${row.verdict} |`);
  lines.push('');
  return lines.join('\n');
}

// ---- small helpers ----

async function rotationStatus(o, target = o.targets[0]) {
  const response = await fetch(`${target}/rotation-status`, {
    headers: { authorization: `Bearer ${o.token}` }, signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`GET ${target}/rotation-status -> ${response.status}`);
  return response.json();
}

function leasesOf(status, index) {
  return status.data.keys.find((k) => k.index === index)?.usage.total;
}

async function fakeCall(base, method, path, body) {
  const response = await fetch(`${base}/_fake/${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(CONTROL_TIMEOUT_MS * 3),
  });
  if (!response.ok) throw new Error(`${method} /_fake/${path} -> ${response.status}: ${await response.text()}`);
  return response.status === 204 ? undefined : response.json();
}

function describeRequests(list) {
  return list.slice(0, 3).map((r) => `r${r.id} ${r.kind} ${r.model} -> ${r.status || r.error} after [${r.attempts.map((a) => `k${a.key}:${a.status}`).join(' ')}]`).join('; ');
}

/** A fixed 32-bit integer hash (lowbias32): the same mix on every run, spread evenly over small moduli. */
function hash(i) {
  let x = (i + 0x9e3779b9) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d) >>> 0;
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (kb) => (kb === undefined ? '-' : (kb / 1024).toFixed(0));
const maxOf = (xs) => xs.reduce((a, b) => Math.max(a, b), 0);
const median = (xs) => percentile(xs, 50);
function percentile(xs, p) {
  if (xs.length === 0) return 0;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
function countBy(xs) {
  const counts = {};
  for (const x of xs) counts[x] = (counts[x] ?? 0) + 1;
  return counts;
}
const formatCounts = (counts) => Object.entries(counts).map(([k, n]) => `${k}: ${n}`).join(', ') || '-';
const summarize = (xs) => formatCounts(countBy(xs));
const escape = (text) => String(text).replaceAll('|', '\\|').replaceAll('\n', ' ');

// ---- command line (tools/soak/run.sh) ----

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = process.env;
  const required = (name) => {
    if (!env[name]) {
      console.error(`soak: ${name} is not set (tools/soak/run.sh sets it)`);
      process.exit(2);
    }
    return env[name];
  };
  const pidFiles = Object.fromEntries((env.SOAK_PID_FILES ?? '').split(',').filter(Boolean).map((pair) => pair.split('=')));
  const options = {
    mode: env.SOAK_MODE ?? 'embedded',
    targets: required('SOAK_TARGETS').split(','),
    token: required('SOAK_TOKEN'),
    fakeUrl: required('SOAK_FAKE_URL'),
    keys: required('SOAK_KEYS').split(','),
    seconds: Number(env.SOAK_SECONDS ?? 120),
    rps: Number(env.SOAK_RPS ?? 40),
    concurrency: Number(env.SOAK_CONCURRENCY ?? 96),
    cooldownSeconds: Number(env.SOAK_COOLDOWN_SECONDS ?? 5),
    maxAttempts: Number(env.SOAK_MAX_ATTEMPTS ?? 3),
    requestTimeoutMs: Number(env.SOAK_REQUEST_TIMEOUT_MS ?? 30_000),
    siloCtl: env.SOAK_SILO_CTL,
    siloPort: Number(env.SOAK_SILO_PORT ?? 0),
    pidFiles,
    commit: env.SOAK_COMMIT,
    flushWaitMs: Number(env.SOAK_FLUSH_WAIT_MS ?? 2_500),
    log: (line) => console.error(`soak: ${line}`),
  };
  const deadline = setTimeout(() => {
    console.error('soak: the driver overran its bound (run time + 5 min); giving up');
    process.exit(3);
  }, (options.seconds + 300) * 1000);
  deadline.unref();
  try {
    const { ok, report } = await runSoak(options);
    if (env.SOAK_REPORT) {
      mkdirSync(dirname(env.SOAK_REPORT), { recursive: true });
      writeFileSync(env.SOAK_REPORT, report);
    }
    process.stdout.write(`${report}\n`);
    process.exit(ok ? 0 : 1);
  } catch (error) {
    console.error(`soak: ${error.stack ?? error}`);
    process.exit(2);
  }
}
