// Percentiles and summaries of samples (milliseconds unless said otherwise).

/** The p-th percentile (0..100) by the nearest-rank method on a sorted copy. */
export function percentile(sorted, p) {
  if (!sorted.length) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}

export function summarize(samples) {
  const sorted = Float64Array.from(samples).sort();
  const n = sorted.length;
  const mean = n ? sorted.reduce((a, b) => a + b, 0) / n : null;
  return {
    n,
    min: n ? sorted[0] : null,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: n ? sorted[n - 1] : null,
    mean,
  };
}

export const round = (x, digits = 3) => (x == null || !Number.isFinite(x) ? x : Number(x.toFixed(digits)));

/** Rounds every number in a (nested) object, for the JSON report. */
export function roundAll(value, digits = 3) {
  if (typeof value === 'number') return round(value, digits);
  if (Array.isArray(value)) return value.map((v) => roundAll(v, digits));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, roundAll(v, digits)]));
  }
  return value;
}

export const median = (samples) => summarize(samples).p50;

/** Fisher-Yates, in place. */
export function shuffle(array) {
  for (let i = array.length - 1; i > 0; i -= 1) {
    const j = Math.floor(Math.random() * (i + 1));
    [array[i], array[j]] = [array[j], array[i]];
  }
  return array;
}
