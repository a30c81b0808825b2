// Better Auth's options, shared by the server (lib/auth.ts) and the setup script
// (scripts/db-setup.ts, which creates the tables these options need).
import type { BetterAuthOptions } from "better-auth";
import { jwt } from "better-auth/plugins";
import { Pool } from "pg";
import { appUrl } from "./config";

export const DEFAULT_AUTH_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/ironmind_nextjs";

export function authDatabaseUrl(): string {
  return process.env.AUTH_DATABASE_URL || DEFAULT_AUTH_DATABASE_URL;
}

/** The origins Better Auth accepts: the app's URL, and 127.0.0.1 for the same port by default. */
function trustedOrigins(): string[] {
  if (process.env.BETTER_AUTH_URL?.trim()) return [];
  return [`http://127.0.0.1:${process.env.PORT || 3000}`];
}

export function authOptions(): BetterAuthOptions {
  return {
    baseURL: appUrl(),
    trustedOrigins: trustedOrigins(),
    secret: process.env.BETTER_AUTH_SECRET,
    database: new Pool({ connectionString: authDatabaseUrl(), max: 5 }),
    emailAndPassword: { enabled: true, autoSignIn: true },
    // EdDSA (Ed25519) keys, 15-minute tokens; GET /api/auth/token and /api/auth/jwks.
    plugins: [jwt()],
    telemetry: { enabled: false },
  };
}
