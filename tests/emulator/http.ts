/** What the emulator's handlers share about a request and its answer. */
import type { IncomingHttpHeaders } from "node:http";
import type { Headers } from "./errors";

export interface Reply {
  status: number;
  /** JSON body; undefined = no body. */
  body?: unknown;
  /** A raw body instead of `body`, sent with `contentType`. */
  text?: string;
  contentType?: string;
  headers?: Headers;
}

/** A complete answer thrown from deep inside a handler (a sign-in page, a bare-string refusal). */
export class ReplyError extends Error {
  constructor(readonly reply: Reply) {
    super(`answered ${reply.status}`);
  }
}

export interface Context {
  method: string;
  /** Decoded path segments. */
  segments: string[];
  params: Record<string, string>;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The URL the client asked for, on the emulator's origin (for sign-in redirects). */
  url: string;
  /** Set once the request is authenticated. */
  token?: string;
}

/** `[major, minor]` */
export type Version = [number, number];

/** Which Authorization scheme a request carried (not whether it was accepted). */
export type AuthScheme = "basic" | "bearer" | "none";

export interface Credentials {
  scheme: AuthScheme;
  token?: string;
}

// rule T2 [guess] Query-parameter names are case-insensitive (`continuationtoken` works)
export function queryParam(query: URLSearchParams, name: string): string | undefined {
  const wanted = name.toLowerCase();
  for (const [key, value] of query) {
    if (key.toLowerCase() === wanted) {
      return value;
    }
  }
  return undefined;
}

// rule AU1 [doc] A PAT comes as Basic with any user name and the token as password, an Entra token as Bearer (securityDefinitions.accessToken of memberEntitlementManagement-7.1.json, graph-7.1.json, core-7.1.json, profile-7.1.json)
export function readCredentials(headers: IncomingHttpHeaders): Credentials {
  const header = headers.authorization;
  if (header === undefined) {
    return { scheme: "none" };
  }
  const [scheme, ...rest] = header.trim().split(/\s+/);
  const value = rest.join(" ");
  if (scheme.toLowerCase() === "basic") {
    const decoded = Buffer.from(value, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    const token = colon < 0 ? "" : decoded.slice(colon + 1);
    return token === "" ? { scheme: "basic" } : { scheme: "basic", token };
  }
  if (scheme.toLowerCase() === "bearer") {
    return value === "" ? { scheme: "bearer" } : { scheme: "bearer", token: value };
  }
  return { scheme: "none" };
}

export function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

/** The body parsed as JSON (a BOM tolerated), or the parse error's message. */
export function parseJsonBody(ctx: Context): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(ctx.body.toString("utf8").replace(/^\uFEFF/, "")) };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/**
 * The body as a JSON object; anything else is refused with the error `refuse` makes, the message
 * saying what the body must be (`mustBe`).
 */
export function jsonObjectBody(
  ctx: Context,
  refuse: (message: string) => Error,
  mustBe: string,
): Record<string, unknown> {
  const parsed = parseJsonBody(ctx);
  if ("error" in parsed) {
    throw refuse(`The request body is not valid JSON: ${parsed.error}`);
  }
  const body = asObject(parsed.value);
  if (body === undefined) {
    throw refuse(mustBe);
  }
  return body;
}

/** The media type of the request body, lower-cased, without parameters. */
export function mediaType(ctx: Context): string {
  return (ctx.headers["content-type"] ?? "").split(";")[0].trim().toLowerCase();
}
