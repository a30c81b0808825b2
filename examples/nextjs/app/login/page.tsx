import Link from "next/link";
import { AuthForm } from "../auth-form";

export default function LoginPage() {
  return (
    <div className="card">
      <h1>Sign in</h1>
      <AuthForm mode="login" />
      <p>
        New here? <Link href="/register">Create an account</Link>
      </p>
    </div>
  );
}
