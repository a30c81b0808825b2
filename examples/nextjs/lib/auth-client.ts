// Better Auth in the browser: sign-up, sign-in, session, sign-out, and the JWT plugin's token.
import { createAuthClient } from "better-auth/react";
import { jwtClient } from "better-auth/client/plugins";

// No baseURL: the auth routes are on this app's own origin (/api/auth/*).
export const authClient = createAuthClient({ plugins: [jwtClient()] });
