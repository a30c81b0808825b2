// The browser's client for the IRONMIND API.
//
// Every request carries `Authorization: Bearer <token>`. The token comes from this app:
//   - mode "exchange":   GET /api/auth/backend-token, an HS256 JWT {sub, iat, exp} signed with
//                        BETTER_AUTH_SECRET (app/api/auth/backend-token/route.ts);
//   - mode "jwt-plugin": GET /api/auth/token, Better Auth's JWT plugin token (EdDSA), which the
//                        API verifies with the public keys at /api/auth/jwks.
// It is cached until a minute before it expires. A 401 from the API (expired or revoked token)
// drops the cache and retries once with a fresh token; a second 401, or no session at all,
// sends the user to /login. Signing out clears the cache.
import { decodeJwt } from "jose";
import { authClient } from "./auth-client";
import type { ApiConfig } from "./config";

export type Task = {
  id: string;
  title: string;
  description: string | null;
  completed: boolean;
  userId: string;
  createdAt: string;
  updatedAt: string;
};

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    const code = (body as { error?: string } | null)?.error;
    const message = (body as { message?: string } | null)?.message;
    super(`${status}${code ? ` ${code}` : ""}${message ? `: ${message}` : ""}`);
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
  throw new ApiError(401, { error: "unauthorized", message: "Signed out; redirecting to /login." });
}

async function fetchToken(config: ApiConfig): Promise<string> {
  let token: string | undefined;
  if (config.tokenMode === "exchange") {
    const res = await fetch("/api/auth/backend-token", { cache: "no-store" });
    if (res.status === 401) toLogin();
    if (!res.ok) throw new ApiError(res.status, await res.json().catch(() => null));
    token = ((await res.json()) as { token: string }).token;
  } else {
    const { data, error } = await authClient.token();
    if (error?.status === 401) toLogin();
    if (error || !data) throw new ApiError(error?.status ?? 500, error);
    token = data.token;
  }
  const { exp } = decodeJwt(token); // the token's own expiry decides how long it is reused
  const renewAt = (exp ?? 0) * 1000 - RENEW_BEFORE_EXPIRY_MS;
  cached = { token, renewAt };
  return token;
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

/** fetch() against the API with the bearer token, one retry with a fresh token on 401. */
export async function apiFetch(config: ApiConfig, pathOrUrl: string, init: RequestInit = {}) {
  const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${config.apiUrl}${pathOrUrl}`;
  const send = async () => {
    const headers = new Headers(init.headers);
    headers.set("Authorization", `Bearer ${await getToken(config)}`);
    if (init.body !== undefined) headers.set("Content-Type", "application/json");
    return fetch(url, { ...init, headers, mode: "cors", cache: "no-store" });
  };
  let res = await send();
  if (res.status === 401) {
    cached = null; // expired or revoked: one fresh token, one more try
    res = await send();
    if (res.status === 401) toLogin();
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

/**
 * Sign out everywhere: revoke the cached API token (the API lists it as revoked until it
 * expires), end the Better Auth session, and forget the token.
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
  await authClient.signOut();
  clearTokenCache();
}
