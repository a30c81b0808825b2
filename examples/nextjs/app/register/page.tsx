import Link from "next/link";
import { AuthForm } from "../auth-form";

export default function RegisterPage() {
  return (
    <div className="card">
      <h1>Create an account</h1>
      <AuthForm mode="register" />
      <p>
        Already registered? <Link href="/login">Sign in</Link>
      </p>
    </div>
  );
}
