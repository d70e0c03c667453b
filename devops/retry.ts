/**
 * Bounded retries for Azure DevOps calls. Azure DevOps throttles per identity (200 TSTU per sliding
 * 5 minutes) by delaying, then answering 429 with `Retry-After` (docs/azure-devops-apis.md#rate-limits); 5xx
 * answers and dropped connections are usually transient. Anything else is permanent and fails at once.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  /** First backoff for 5xx / network errors; doubles per attempt, with jitter. */
  readonly baseDelayMs: number;
  /** Cap for one exponential backoff. */
  readonly maxDelayMs: number;
  /** The longest `Retry-After` we wait; a longer one fails with a clear message instead. */
  readonly maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 6,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
  maxRetryAfterMs: 5 * 60_000,
};

/** What one failed attempt tells the retry loop. */
export interface AttemptFailure {
  readonly error: Error;
  /** True for 429, 5xx (but 501), timeouts and dropped connections. */
  readonly transient: boolean;
  /** Server-requested wait, from `Retry-After`. */
  readonly retryAfterMs?: number;
}

export type Sleep = (ms: number) => Promise<void>;
const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** HTTP statuses worth another attempt. */
export function isTransientStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}

/** Parses `Retry-After`: delta-seconds or an HTTP date. */
export function parseRetryAfter(
  value: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * Runs `attempt` until it succeeds, fails permanently, or the attempts run out. `classify` turns a
 * thrown error into an {@link AttemptFailure}; `onRetry` hears about each wait (for progress logs).
 */
export async function withRetry<T>(
  attempt: (n: number) => Promise<T>,
  classify: (err: unknown) => AttemptFailure,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
  onRetry?: (info: { attempt: number; delayMs: number; reason: string }) => void,
  sleep: Sleep = realSleep,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const failure = classify(err);
      if (!failure.transient) throw failure.error;
      if (n >= policy.maxAttempts) {
        failure.error.message += ` (gave up after ${n} attempts)`;
        throw failure.error;
      }
      let delayMs: number;
      if (failure.retryAfterMs !== undefined) {
        if (failure.retryAfterMs > policy.maxRetryAfterMs) {
          failure.error.message += ` (the service asked to wait ${Math.ceil(failure.retryAfterMs / 1000)} s, more than the ${Math.ceil(policy.maxRetryAfterMs / 1000)} s allowed; run again later)`;
          throw failure.error;
        }
        delayMs = failure.retryAfterMs;
      } else {
        // "Equal jitter": half fixed, half random, so parallel runs do not retry in lockstep.
        const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (n - 1));
        delayMs = ceiling / 2 + Math.random() * (ceiling / 2);
      }
      onRetry?.({ attempt: n, delayMs, reason: failure.error.message });
      await sleep(delayMs);
    }
  }
}
