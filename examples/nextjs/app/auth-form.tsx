"use client";
// The register and sign-in form: Better Auth's client sets the session cookie.
import { useState, type FormEvent } from "react";
import { authClient } from "@/lib/auth-client";
import { clearTokenCache } from "@/lib/api-client";

/** Better Auth's refusal, with what to set when the page's origin is not the app's URL. */
function explainAuthError(error: { message?: string; statusText?: string }, appUrl: string): string {
  const text = error.message || error.statusText || "Failed";
  const origin = window.location.origin;
  if (/invalid origin/i.test(text) && origin !== appUrl) {
    return `${text}: this page is ${origin}, but the app's BETTER_AUTH_URL is ${appUrl}. Open ${appUrl}, or set BETTER_AUTH_URL=${origin} and restart the app.`;
  }
  return text;
}

export function AuthForm({ mode, appUrl }: { mode: "register" | "login"; appUrl: string }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    const email = String(form.get("email"));
    const password = String(form.get("password"));
    setBusy(true);
    setError(null);
    const { error } =
      mode === "register"
        ? await authClient.signUp.email({ name: String(form.get("name")), email, password })
        : await authClient.signIn.email({ email, password });
    if (error) {
      setError(explainAuthError(error, appUrl));
      setBusy(false);
      return;
    }
    clearTokenCache(); // a token of a previous user must not be reused
    window.location.assign("/dashboard");
  }

  return (
    <form onSubmit={onSubmit}>
      {mode === "register" && (
        <label>
          Name
          <input name="name" type="text" required autoComplete="name" />
        </label>
      )}
      <label>
        Email
        <input name="email" type="email" required autoComplete="email" />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          required
          minLength={8}
          autoComplete={mode === "register" ? "new-password" : "current-password"}
        />
      </label>
      <button type="submit" disabled={busy}>
        {mode === "register" ? "Create account" : "Sign in"}
      </button>
      {error && (
        <p className="error" role="alert" data-testid="auth-error">
          {error}
        </p>
      )}
    </form>
  );
}
