// Better Auth's options, shared by the server (lib/auth.ts) and the setup script
// (scripts/db-setup.ts, which creates the tables these options need).
import type { BetterAuthOptions } from "better-auth";
import { admin, jwt } from "better-auth/plugins";
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
    plugins: [
      // Roles and bans: user.role ("user" unless an admin changes it; several roles are one
      // comma-separated string), user.banned; session.id is what a ban or sign-out ends.
      admin(),
      // EdDSA (Ed25519) keys, 15-minute tokens; GET /api/auth/token and /api/auth/jwks.
      // The payload is the user's fields (the plugin's default) plus the two claims the API
      // reads: sid (the Better Auth session, which the API checks is still alive) and role.
      jwt({
        jwt: {
          definePayload: ({ user, session }) => ({
            ...user,
            sid: session.id,
            role: user.role ?? "user",
          }),
        },
      }),
    ],
    telemetry: { enabled: false },
  };
}
