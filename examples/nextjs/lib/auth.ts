// The Better Auth server. Created on first use, not at import, so `next build` needs neither
// the secret nor the database.
import { betterAuth } from "better-auth";
import { authOptions } from "./auth-options";

type Auth = ReturnType<typeof betterAuth>;
let instance: Auth | undefined;

export function getAuth(): Auth {
  if (!instance) {
    const secret = process.env.BETTER_AUTH_SECRET;
    if (!secret || secret.length < 32) {
      throw new Error("BETTER_AUTH_SECRET must be set (at least 32 characters, the API's secret).");
    }
    instance = betterAuth(authOptions());
  }
  return instance;
}
