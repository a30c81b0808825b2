// The token exchange: a valid Better Auth session (its cookie) becomes a short-lived HS256 JWT
// that the IRONMIND API verifies with the secret both share. Claims: sub (the Better Auth user
// id, the API's user_id), sid (the Better Auth session's id: once it is signed out or the user
// banned, the API refuses the token), iat, and exp 15 minutes later. No session: 401.
import { SignJWT } from "jose";
import { headers } from "next/headers";
import { getAuth } from "@/lib/auth";

export const dynamic = "force-dynamic";

const TOKEN_TTL_SECONDS = 15 * 60;

export async function GET() {
  const session = await getAuth().api.getSession({ headers: await headers() });
  if (!session) {
    return Response.json(
      { error: "unauthorized", message: "No Better Auth session." },
      { status: 401, headers: { "Cache-Control": "no-store" } },
    );
  }
  const secret = new TextEncoder().encode(process.env.BETTER_AUTH_SECRET);
  const now = Math.floor(Date.now() / 1000);
  const expiresAt = now + TOKEN_TTL_SECONDS;
  const token = await new SignJWT({ sub: session.user.id, sid: session.session.id })
    .setProtectedHeader({ alg: "HS256", typ: "JWT" })
    .setIssuedAt(now)
    .setExpirationTime(expiresAt)
    .sign(secret);
  return Response.json({ token, expiresAt }, { headers: { "Cache-Control": "no-store" } });
}
