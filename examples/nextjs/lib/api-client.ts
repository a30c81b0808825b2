// The browser's client for the IRONMIND API. Self-contained: it imports only `jose`, so it can
// be copied as it is into any Next.js app that signs its users in with Better Auth.
//
// Every request carries `Authorization: Bearer <token>`. The token comes from this app:
//   - mode "exchange":   GET /api/auth/backend-token, an HS256 JWT {sub, iat, exp} signed with
//                        BETTER_AUTH_SECRET (app/api/auth/backend-token/route.ts);
//   - mode "jwt-plugin": GET /api/auth/token, Better Auth's JWT plugin token (EdDSA), which the
//                        API verifies with the public keys at /api/auth/jwks.
// It is cached until a minute before it expires. A 401 from the API (expired or revoked token)
// drops the cache and retries once with a fresh token; no session at all sends the user to
// /login. Anything else that goes wrong is thrown as an error that says what happened, and
// `explain()` turns it into what to tell the user (and what to fix).
import { decodeJwt } from "jose";

export type TokenMode = "exchange" | "jwt-plugin";

export type ApiConfig = {
  /** Where the IRONMIND API is, as the browser reaches it (another origin: CORS applies). */
  apiUrl: string;
  /** exchange: HS256 from /api/auth/backend-token; jwt-plugin: Better Auth's EdDSA token. */
  tokenMode: TokenMode;
  /** Tasks per page; the "Load more" button follows the API's Link: rel="next". */
  tasksPageSize: number;
};

export type Task = {
  id: string;
  title: string;
  description: string | null;
  completed: boolean;
  userId: string;
  createdAt: string;
  updatedAt: string;
};

type ErrorBody = { error?: string; message?: string } | null;

/** The API answered with an error: its status, and the contract's `error` code and `message`. */
export class ApiError extends Error {
  readonly code: string;
  readonly apiMessage: string;

  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const code = (body as ErrorBody)?.error ?? `http_${status}`;
    const apiMessage = (body as ErrorBody)?.message ?? "";
    super(`${status} ${code}${apiMessage ? `: ${apiMessage}` : ""}`);
    this.code = code;
    this.apiMessage = apiMessage;
  }
}

/**
 * No answer the page may read. "unreachable": nothing answers at apiUrl (down, wrong API_URL);
 * "cors": something answers there, but not to this page's origin (the API's CORS_ORIGINS).
 */
export class ApiUnreachable extends Error {
  constructor(
    readonly kind: "unreachable" | "cors",
    readonly apiUrl: string,
    readonly origin: string,
  ) {
    super(
      kind === "cors"
        ? `The API at ${apiUrl} answers, but not to this origin (${origin}).`
        : `The API at ${apiUrl} could not be reached.`,
    );
  }
}

/** This app's own server could not hand out a token (its Better Auth set-up failed). */
export class TokenUnavailable extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(`This app could not issue an API token (${status}): ${detail}`);
  }
}

const RENEW_BEFORE_EXPIRY_MS = 60_000;

let cached: { token: string; renewAt: number } | null = null;
let pending: Promise<string> | null = null;

/** Forget the cached token (on sign out, or when the API refused it). */
export function clearTokenCache(): void {
  cached = null;
  pending = null;
}

function toLogin(): never {
  clearTokenCache();
  window.location.assign("/login");
  throw new TokenUnavailable(401, "no Better Auth session; going to /login.");
}

async function fetchToken(config: ApiConfig): Promise<string> {
  // Both are this app's own routes: the exchange route, or Better Auth's JWT plugin endpoint.
  const path = config.tokenMode === "exchange" ? "/api/auth/backend-token" : "/api/auth/token";
  const res = await fetch(path, { cache: "no-store", credentials: "same-origin" });
  if (res.status === 401) toLogin();
  const body = (await res.json().catch(() => null)) as { token?: string; message?: string } | null;
  if (!res.ok || !body?.token) {
    throw new TokenUnavailable(res.status, body?.message || res.statusText || "no token in the answer");
  }
  const { exp } = decodeJwt(body.token); // the token's own expiry decides how long it is reused
  cached = { token: body.token, renewAt: (exp ?? 0) * 1000 - RENEW_BEFORE_EXPIRY_MS };
  return body.token;
}

async function getToken(config: ApiConfig): Promise<string> {
  if (cached && Date.now() < cached.renewAt) return cached.token;
  if (!pending) {
    pending = fetchToken(config).finally(() => {
      pending = null;
    });
  }
  return pending;
}

/** The cached token, if any (sign out uses it to revoke the token at the API). */
export function cachedToken(): string | null {
  return cached && Date.now() < cached.renewAt ? cached.token : null;
}

/**
 * A fetch the browser refused (TypeError) has no status: ask the API's /health once more
 * without CORS. An opaque answer means the server is there and it is the origin that is
 * refused; a second failure means nothing answers.
 */
async function unreachable(config: ApiConfig): Promise<ApiUnreachable> {
  const answers = await fetch(`${config.apiUrl}/health`, { mode: "no-cors", cache: "no-store" }).then(
    () => true,
    () => false,
  );
  return new ApiUnreachable(answers ? "cors" : "unreachable", config.apiUrl, window.location.origin);
}

/** fetch() against the API with the bearer token, one retry with a fresh token on 401. */
export async function apiFetch(config: ApiConfig, pathOrUrl: string, init: RequestInit = {}) {
  const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${config.apiUrl}${pathOrUrl}`;
  const send = async () => {
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${await getToken(config)}`);
    if (init.body !== undefined) headers.set("Content-Type", "application/json");
    try {
      return await fetch(url, { ...init, headers, mode: "cors", cache: "no-store" });
    } catch {
      throw await unreachable(config);
    }
  };
  let res = await send();
  if (res.status === 401) {
    cached = null; // expired or revoked: one fresh token, one more try
    res = await send();
  }
  return res;
}

async function json<T>(res: Response): Promise<T> {
  const body = res.status === 204 ? null : await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(res.status, body);
  return body as T;
}

/** The URL of the Link header's rel="next", if there is one. */
export function nextLink(res: Response, config: ApiConfig): string | null {
  const header = res.headers.get("Link");
  if (!header) return null;
  for (const part of header.split(",")) {
    const match = /<([^>]*)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return new URL(match[1], `${config.apiUrl}/`).toString();
  }
  return null;
}

export function createApi(config: ApiConfig) {
  return {
    protected: async () =>
      json<{ message: string; user_id: string }>(await apiFetch(config, "/api/protected")),

    /** One page of tasks, newest first; `next` is the following page's URL, if any. */
    listTasks: async (pageUrl?: string) => {
      const res = await apiFetch(config, pageUrl ?? `/api/tasks?limit=${config.tasksPageSize}`);
      const tasks = await json<Task[]>(res);
      return { tasks, next: nextLink(res, config) };
    },

    createTask: async (title: string) =>
      json<Task>(await apiFetch(config, "/api/tasks", { method: "POST", body: JSON.stringify({ title }) })),

    setCompleted: async (id: string, completed: boolean) =>
      json<Task>(
        await apiFetch(config, `/api/tasks/${encodeURIComponent(id)}`, {
          method: "PATCH",
          body: JSON.stringify({ completed }),
        }),
      ),

    deleteTask: async (id: string) =>
      json<null>(await apiFetch(config, `/api/tasks/${encodeURIComponent(id)}`, { method: "DELETE" })),
  };
}

/** What went wrong, for a person: which side, the API's own code and message, what to do. */
export type Problem = {
  kind: "secret" | "cors" | "unreachable" | "api" | "app";
  title: string;
  code?: string;
  message: string;
  hint?: string;
};

export function explain(error: unknown, config: ApiConfig): Problem {
  if (error instanceof ApiUnreachable && error.kind === "cors") {
    return {
      kind: "cors",
      title: "The API refused this origin (CORS)",
      message: error.message,
      hint: `Add ${error.origin} to the API's CORS_ORIGINS (comma-separated) and restart it; or check API_URL.`,
    };
  }
  if (error instanceof ApiUnreachable) {
    return {
      kind: "unreachable",
      title: "The API could not be reached",
      message: error.message,
      hint: `Start the API, or set this app's API_URL to where it listens (now ${error.apiUrl}).`,
    };
  }
  if (error instanceof ApiError && error.status === 401 && /signature verification failed/i.test(error.apiMessage)) {
    return {
      kind: "secret",
      title:
        config.tokenMode === "exchange"
          ? "Secret mismatch: the API cannot verify this app's tokens"
          : "Key mismatch: the API cannot verify Better Auth's tokens",
      code: error.code,
      message: error.apiMessage,
      hint:
        config.tokenMode === "exchange"
          ? "This app signs its tokens with BETTER_AUTH_SECRET: set the same value in the app and the API, and restart both."
          : "The API checks these tokens with the keys at its BETTER_AUTH_URL/api/auth/jwks: point it at this app.",
    };
  }
  if (error instanceof ApiError) {
    return { kind: "api", title: `The API answered ${error.status}`, code: error.code, message: error.apiMessage };
  }
  if (error instanceof TokenUnavailable) {
    return { kind: "app", title: "This app could not issue an API token", message: error.message };
  }
  return { kind: "app", title: "Something failed in the browser", message: String(error) };
}

/**
 * Sign out everywhere: revoke the cached API token (the API lists it as revoked until it
 * expires), end the Better Auth session (its POST /api/auth/sign-out), and forget the token.
 */
export async function signOut(config: ApiConfig | null): Promise<void> {
  const token = cachedToken();
  if (config && token) {
    await fetch(`${config.apiUrl}/api/auth/signout`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}` },
      mode: "cors",
    }).catch(() => undefined); // the session ends below either way
  }
  await fetch("/api/auth/sign-out", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: "{}",
    credentials: "same-origin",
  });
  clearTokenCache();
}
