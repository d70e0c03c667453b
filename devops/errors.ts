/** A failed Azure DevOps call: names the organization, the call and Microsoft's own message. */
export interface DevOpsApiError extends Error {
  readonly name: "DevOpsApiError";
  readonly organization: string;
  readonly call: string;
  readonly status: number | undefined;
  readonly microsoftMessage: string;
}

/**
 * Makes a {@link DevOpsApiError}. A plain `Error` with fields, not a subclass: this code also runs
 * serialized inside the dynamic providers, and Pulumi's closure serializer turns `class … extends
 * Error` into a constructor whose instances are not Errors and lose their message (the engine
 * then reports "error: undefined").
 */
export function devOpsApiError(
  organization: string,
  call: string,
  status: number | undefined,
  microsoftMessage: string,
): DevOpsApiError {
  const err = new Error(
    `Azure DevOps organization "${organization}": ${call} failed` +
      `${status !== undefined ? ` with HTTP ${status}` : ""}: ${microsoftMessage}`,
  );
  return Object.assign(err, {
    name: "DevOpsApiError" as const,
    organization,
    call,
    status,
    microsoftMessage,
  });
}

/** True for the errors {@link devOpsApiError} makes. */
export function isDevOpsApiError(err: unknown): err is DevOpsApiError {
  return err instanceof Error && err.name === "DevOpsApiError";
}

/**
 * True when Azure DevOps did not take the credential: its sign-in page (203), a redirect to it, or
 * 401 (docs/azure-devops-apis.md#sign-in-page, #unauthorized).
 */
export function isCredentialRefusal(err: unknown): boolean {
  if (!isDevOpsApiError(err) || err.status === undefined) return false;
  return err.status === 203 || err.status === 401 || (err.status >= 300 && err.status < 400);
}

/** The call's result, or undefined when Azure DevOps answered 404: "no such user", "already gone". */
export async function unlessNotFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (isDevOpsApiError(err) && err.status === 404) return undefined;
    throw err;
  }
}
