// npm run db:setup — creates the frontend's own PostgreSQL database (AUTH_DATABASE_URL) if it
// does not exist, then the tables Better Auth needs for its options (user, session, account,
// verification, the JWT plugin's jwks, and the admin plugin's columns: user.role, user.banned,
// user.banReason, user.banExpires, session.impersonatedBy), with Better Auth's own migration
// planner. An auth database made before the admin plugin gets its columns added.
// Safe to run again: only what is missing is created.
import { getMigrations } from "better-auth/db/migration";
import { Client } from "pg";
import { authDatabaseUrl, authOptions } from "../lib/auth-options";

async function ensureDatabase(url: string) {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.slice(1));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`unexpected database name ${JSON.stringify(name)}`);
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    const { rowCount } = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (!rowCount) {
      await client.query(`CREATE DATABASE "${name}"`);
      console.log(`created database ${name}`);
    }
  } finally {
    await client.end();
  }
}

async function main() {
  const url = authDatabaseUrl();
  await ensureDatabase(url);
  const options = authOptions();
  const { toBeCreated, toBeAdded, runMigrations } = await getMigrations(options);
  if (!toBeCreated.length && !toBeAdded.length) {
    console.log("Better Auth tables: up to date");
  } else {
    await runMigrations();
    const created = toBeCreated.map((t) => t.table).join(", ") || "none";
    const added = toBeAdded.map((t) => t.table).join(", ") || "none";
    console.log(`Better Auth tables created: ${created}; columns added to: ${added}`);
  }
  await (options.database as { end(): Promise<void> }).end();
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
