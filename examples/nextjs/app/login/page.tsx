import Link from "next/link";
import { appUrl } from "@/lib/config";
import { AuthForm } from "../auth-form";

// Rendered per request: the app's URL is read from the environment when it runs.
export const dynamic = "force-dynamic";

export default function LoginPage() {
  return (
    <div className="card">
      <h1>Sign in</h1>
      <AuthForm mode="login" appUrl={appUrl()} />
      <p>
        New here? <Link href="/register">Create an account</Link>
      </p>
    </div>
  );
}
