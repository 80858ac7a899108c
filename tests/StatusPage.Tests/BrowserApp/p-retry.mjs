// A bundler would bundle p-retry (CommonJS) into the page; @google/genai calls it only when httpOptions.retryOptions is
// set, which this page does not, so the stand-in runs the call once.
export default function pRetry(run) {
  return run();
}
