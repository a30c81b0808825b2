// The dashboard is for signed-in users only: the session is checked on the server, and
// anyone without one is redirected to /login before any HTML is sent.
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { getAuth } from "@/lib/auth";
import { apiConfig } from "@/lib/config";
import { Dashboard } from "./dashboard";

export const dynamic = "force-dynamic";

/** Better Auth could not read its own state: say why, instead of a bare server error page. */
function SetupProblem({ error }: { error: unknown }) {
  const message = error instanceof Error ? error.message : String(error);
  const secretChanged = /decrypt/i.test(message);
  return (
    <section className="card error problem" role="alert" data-testid="setup-error" data-kind={secretChanged ? "secret-changed" : "auth"}>
      <strong>
        {secretChanged
          ? "BETTER_AUTH_SECRET changed: Better Auth cannot decrypt the signing keys in its database"
          : "Better Auth could not read the session"}
      </strong>
      <p data-testid="problem-message">{message}</p>
      {secretChanged && (
        <p className="hint">
          The JWT plugin&apos;s private keys in AUTH_DATABASE_URL were encrypted with the secret the app had when
          they were made. Restore that BETTER_AUTH_SECRET, or give the app a new auth database (npm run db:setup).
        </p>
      )}
    </section>
  );
}

export default async function DashboardPage() {
  let session;
  try {
    session = await getAuth().api.getSession({ headers: await headers() });
  } catch (error) {
    console.error("dashboard: Better Auth getSession failed:", error);
    return <SetupProblem error={error} />;
  }
  if (!session) redirect("/login");
  const { id, name, email } = session.user;
  return <Dashboard user={{ id, name, email }} config={apiConfig()} />;
}
