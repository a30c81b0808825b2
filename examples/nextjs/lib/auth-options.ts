// Better Auth's options, shared by the server (lib/auth.ts) and the setup script
// (scripts/db-setup.ts, which creates the tables these options need).
import type { BetterAuthOptions } from "better-auth";
import { jwt } from "better-auth/plugins";
import { Pool } from "pg";

export const DEFAULT_AUTH_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/ironmind_nextjs";

export function authDatabaseUrl(): string {
  return process.env.AUTH_DATABASE_URL || DEFAULT_AUTH_DATABASE_URL;
}

export function authOptions(): BetterAuthOptions {
  return {
    // Its own public URL: the JWT plugin's tokens carry it as `iss` and `aud`, and the API
    // reads the public keys from `${BETTER_AUTH_URL}/api/auth/jwks`.
    baseURL: process.env.BETTER_AUTH_URL || "http://localhost:3000",
    secret: process.env.BETTER_AUTH_SECRET,
    database: new Pool({ connectionString: authDatabaseUrl(), max: 5 }),
    emailAndPassword: { enabled: true, autoSignIn: true },
    // EdDSA (Ed25519) keys, 15-minute tokens; GET /api/auth/token and /api/auth/jwks.
    plugins: [jwt()],
    telemetry: { enabled: false },
  };
}
