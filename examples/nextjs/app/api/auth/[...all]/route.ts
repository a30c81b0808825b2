// Better Auth's own endpoints: sign-up, sign-in, sign-out, session, and the JWT plugin's
// /api/auth/token and /api/auth/jwks (the API fetches the public keys from the latter).
import { getAuth } from "@/lib/auth";

export const dynamic = "force-dynamic";

const handle = (request: Request) => getAuth().handler(request);

export { handle as GET, handle as POST };
