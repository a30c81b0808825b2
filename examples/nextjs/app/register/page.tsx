import Link from "next/link";
import { appUrl } from "@/lib/config";
import { AuthForm } from "../auth-form";

// Rendered per request: the app's URL is read from the environment when it runs.
export const dynamic = "force-dynamic";

export default function RegisterPage() {
  return (
    <div className="card">
      <h1>Create an account</h1>
      <AuthForm mode="register" appUrl={appUrl()} />
      <p>
        Already registered? <Link href="/login">Sign in</Link>
      </p>
    </div>
  );
}
