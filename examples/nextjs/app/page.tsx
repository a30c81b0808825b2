import Link from "next/link";

export default function Home() {
  return (
    <div className="card">
      <h1>IRONMIND</h1>
      <p>
        A Next.js app whose users sign in with Better Auth, calling the IRONMIND API with a
        bearer token.
      </p>
      <p className="row">
        <Link href="/register">Create an account</Link> · <Link href="/login">Sign in</Link> ·{" "}
        <Link href="/dashboard">Dashboard</Link>
      </p>
    </div>
  );
}
