// Settings read from the environment when a request is served (never baked in at build time),
// then handed to the browser as props by server components.
export type TokenMode = "exchange" | "jwt-plugin";

export type ApiConfig = {
  /** Where the IRONMIND API is, as the browser reaches it (another origin: CORS applies). */
  apiUrl: string;
  /** exchange: HS256 from /api/auth/backend-token; jwt-plugin: Better Auth's EdDSA token. */
  tokenMode: TokenMode;
  /** Tasks per page; the "Load more" button follows the API's Link: rel="next". */
  tasksPageSize: number;
};

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
