// The dashboard is for signed-in users only: the session is checked on the server, and
// anyone without one is redirected to /login before any HTML is sent.
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { getAuth } from "@/lib/auth";
import { apiConfig } from "@/lib/config";
import { Dashboard } from "./dashboard";

export const dynamic = "force-dynamic";

export default async function DashboardPage() {
  const session = await getAuth().api.getSession({ headers: await headers() });
  if (!session) redirect("/login");
  const { id, name, email } = session.user;
  return <Dashboard user={{ id, name, email }} config={apiConfig()} />;
}
