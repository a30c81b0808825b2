// Settings read from the environment when a request is served (never baked in at build time),
// then handed to the browser as props by server components. The types live with the client
// (lib/api-client.ts), which needs nothing else from this app.
import type { ApiConfig } from "./api-client";

export type { ApiConfig, TokenMode } from "./api-client";

export function apiConfig(): ApiConfig {
  const mode = process.env.API_TOKEN_MODE || "exchange";
  if (mode !== "exchange" && mode !== "jwt-plugin") {
    throw new Error(`API_TOKEN_MODE must be "exchange" or "jwt-plugin"; got ${JSON.stringify(mode)}.`);
  }
  const pageSize = Number(process.env.TASKS_PAGE_SIZE || 20);
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
    throw new Error("TASKS_PAGE_SIZE must be an integer from 1 to 100.");
  }
  return {
    apiUrl: (process.env.API_URL || "http://localhost:8000").replace(/\/+$/, ""),
    tokenMode: mode,
    tasksPageSize: pageSize,
  };
}

/**
 * The app's public URL: BETTER_AUTH_URL, or else http://localhost on the port this server
 * listens on (`next start -p 17011` and `PORT=17011` both set process.env.PORT before the first
 * request). Better Auth accepts sign-ins from this origin only (by default also from
 * http://127.0.0.1 on the same port); JWT-plugin tokens carry it as
 * `iss` and `aud`, and the API reads the public keys from `${appUrl()}/api/auth/jwks`.
 */
export function appUrl(): string {
  const configured = process.env.BETTER_AUTH_URL?.trim();
  if (configured) return configured.replace(/\/+$/, "");
  return `http://localhost:${process.env.PORT || 3000}`;
}
