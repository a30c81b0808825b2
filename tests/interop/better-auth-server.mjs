#!/usr/bin/env node
// A real Better Auth instance (memory adapter, email+password, jwt plugin) served on 127.0.0.1,
// plus a few test-only helper routes under /test/ for the IRONMIND API interop tests.
// With --database URL: Better Auth's PostgreSQL adapter on that database (its tables made by
// Better Auth's own migrations), the admin plugin, and jwt tokens carrying sid and role.
//
// Usage: node better-auth-server.mjs [--port N] [--alg EdDSA|ES256|RS256|PS256]
//                                    [--audience X] [--issuer X] [--expiration-time T]
//                                    [--database postgresql://…]
// When listening, prints exactly one line on stdout: {"ready": true, "url": "http://127.0.0.1:<port>"}
// Runs until SIGTERM / SIGINT. All logging goes to stderr.
import http from 'node:http';
import { betterAuth } from 'better-auth';
import { memoryAdapter } from 'better-auth/adapters/memory';
import { getMigrations } from 'better-auth/db/migration';
import { toNodeHandler } from 'better-auth/node';
import { admin, jwt, createJwk } from 'better-auth/plugins';
import { SignJWT } from 'jose';
import pg from 'pg';

const USAGE =
  'usage: node better-auth-server.mjs [--port N] [--alg EdDSA|ES256|RS256|PS256] [--audience X] [--issuer X] [--expiration-time T] [--database URL]';
const DEFAULT_SECRET = 'ironmind-interop-test-secret-not-for-production-0123456789';
const KEY_PAIR_CONFIGS = {
  EdDSA: { alg: 'EdDSA', crv: 'Ed25519' },
  ES256: { alg: 'ES256' },
  RS256: { alg: 'RS256', modulusLength: 2048 },
  PS256: { alg: 'PS256', modulusLength: 2048 },
};

function fail(msg) {
  process.stderr.write(`better-auth-server: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const out = { port: 0, alg: undefined, audience: undefined, issuer: undefined, expirationTime: undefined, database: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const takeValue = () => {
      const v = argv[++i];
      if (v === undefined) fail(`${a} needs a value`);
      return v;
    };
    if (a === '--port') {
      const v = takeValue();
      if (!/^\d+$/.test(v) || Number(v) > 65535) fail(`bad port ${v}`);
      out.port = Number(v);
    } else if (a === '--alg') {
      out.alg = takeValue();
      if (!(out.alg in KEY_PAIR_CONFIGS)) fail(`unsupported alg ${out.alg}`);
    } else if (a === '--audience') {
      out.audience = takeValue();
    } else if (a === '--issuer') {
      out.issuer = takeValue();
    } else if (a === '--expiration-time') {
      out.expirationTime = takeValue();
    } else if (a === '--database') {
      out.database = takeValue();
    } else if (a === '-h' || a === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else {
      fail(`unknown argument ${a}`);
    }
  }
  return out;
}

const args = parseArgs(process.argv.slice(2));
const log = (...parts) => process.stderr.write(`[better-auth-server] ${parts.join(' ')}\n`);

// ---------------------------------------------------------------- Better Auth
function createAuth(baseURL) {
  // jwt plugin options; undefined members fall back to the plugin defaults
  // (EdDSA/Ed25519 keys, iss = aud = baseURL, 15 minute tokens).
  const jwtOptions = {};
  if (args.alg) jwtOptions.jwks = { keyPairConfig: KEY_PAIR_CONFIGS[args.alg] };
  if (args.audience !== undefined || args.issuer !== undefined || args.expirationTime !== undefined) {
    jwtOptions.jwt = {};
    if (args.audience !== undefined) jwtOptions.jwt.audience = args.audience;
    if (args.issuer !== undefined) jwtOptions.jwt.issuer = args.issuer;
    // The plugin's own jwt.expirationTime (default "15m"); e.g. "-2m" mints tokens already expired.
    if (args.expirationTime !== undefined) jwtOptions.jwt.expirationTime = args.expirationTime;
  }
  const db = { user: [], session: [], account: [], verification: [], jwks: [] };
  const plugins = [jwt(jwtOptions)];
  if (args.database) {
    // What the example app's tokens carry: the Better Auth session id and the user's role.
    jwtOptions.jwt = {
      ...jwtOptions.jwt,
      definePayload: ({ user, session }) => ({ ...user, sid: session.id, role: user.role }),
    };
    plugins.push(admin());
  }
  const options = {
    baseURL,
    secret: process.env.BETTER_AUTH_SECRET || DEFAULT_SECRET,
    database: args.database ? new pg.Pool({ connectionString: args.database, max: 5 }) : memoryAdapter(db),
    emailAndPassword: { enabled: true },
    plugins,
    trustedOrigins: [baseURL],
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    logger: {
      log: (level, message, ...rest) =>
        process.stderr.write(`[better-auth ${level}] ${message}${rest.length ? ` ${rest.map(String).join(' ')}` : ''}\n`),
    },
  };
  return { auth: betterAuth(options), options, db, jwtOptions };
}

// The tables the options need, made by Better Auth's own migration planner, as the example
// app's `npm run db:setup` (examples/nextjs/scripts/db-setup.ts) does.
async function migrate(options) {
  const { runMigrations } = await getMigrations(options);
  await runMigrations();
}

// ---------------------------------------------------------------- test helpers
function sendJson(res, status, body) {
  const data = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) });
  res.end(data);
}

async function readJson(req) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  return JSON.parse(text);
}

// Turn a response's Set-Cookie headers into a request Cookie header.
function cookieHeaderFrom(headers) {
  return headers
    .getSetCookie()
    .map((c) => c.split(';', 1)[0])
    .join('; ');
}

function isUserExists(err) {
  const code = err?.body?.code ?? '';
  return typeof code === 'string' && code.startsWith('USER_ALREADY_EXISTS');
}

// Sign up (or sign in, if the user exists) through Better Auth's own API, then fetch the
// jwt plugin's token with the session cookie, exactly as GET /api/auth/token would.
// Sign the user up, or in when the email is taken; Better Auth's answer with its headers.
async function signUpOrIn(state, email, password, name) {
  try {
    return await state.auth.api.signUpEmail({ body: { email, password, name }, returnHeaders: true });
  } catch (err) {
    if (!isUserExists(err)) throw err;
    return await state.auth.api.signInEmail({ body: { email, password }, returnHeaders: true });
  }
}

async function testToken(state, body) {
  const { email, password } = body;
  const name = body.name ?? 'Interop Test User';
  if (typeof email !== 'string' || typeof password !== 'string') {
    return [400, { error: 'body must be {"email": str, "password": str (>= 8 chars), "name": str}' }];
  }
  const result = await signUpOrIn(state, email, password, name);
  const cookie = cookieHeaderFrom(result.headers);
  const { token } = await state.auth.api.getToken({ headers: new Headers({ cookie }) });
  const user = result.response.user;
  return [200, { token, user: { id: user.id, email: user.email, name: user.name } }];
}

// Rotation as Better Auth does it with `jwks.rotationInterval`: the current key reaches its
// `expiresAt`, so the plugin mints a fresh key (createJwk) and signs with it from then on;
// the expired key stays in the JWKS for `jwks.gracePeriod` (default 30 days).
// With {"dropOld": true} the old keys are deleted instead (grace period over).
async function testRotate(state, body) {
  const ctx = await state.auth.$context;
  const now = new Date();
  const old = await ctx.adapter.findMany({ model: 'jwks' });
  for (const key of old) {
    if (body.dropOld) {
      await ctx.adapter.delete({ model: 'jwks', where: [{ field: 'id', value: key.id }] });
    } else if (!key.expiresAt || key.expiresAt > now) {
      await ctx.adapter.update({ model: 'jwks', where: [{ field: 'id', value: key.id }], update: { expiresAt: now } });
    }
  }
  const created = await createJwk({ context: ctx }, state.jwtOptions);
  return [200, { kid: created.id, previous: old.map((k) => k.id) }];
}

// ---------------------------------------------------------------- session helpers (--database)

// Sign up or in through Better Auth's API; return both tokens the frontend can hand the API:
// the jwt plugin's (GET /api/auth/token) and the token exchange's HS256 one.
async function testSignIn(state, body) {
  const { email, password } = body;
  const name = body.name ?? 'Interop Test User';
  const result = await signUpOrIn(state, email, password, name);
  const cookie = cookieHeaderFrom(result.headers);
  const headers = new Headers({ cookie });
  const session = await state.auth.api.getSession({ headers });
  const { token } = await state.auth.api.getToken({ headers });
  return [200, {
    token,
    exchange: await exchangeToken(session),
    cookie,
    session: { id: session.session.id },
    user: { id: session.user.id, email: session.user.email, role: session.user.role },
  }];
}

// The example app's token-exchange route (examples/nextjs/app/api/auth/backend-token/route.ts),
// with the session id as `sid`.
async function exchangeToken(session) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ sub: session.user.id, sid: session.session.id })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + 15 * 60)
    .sign(new TextEncoder().encode(process.env.BETTER_AUTH_SECRET || DEFAULT_SECRET));
}

async function testSignOut(state, body) {
  await state.auth.api.signOut({ headers: new Headers({ cookie: body.cookie }) });
  return [200, { signedOut: true }];
}

// An admin of the admin plugin: signed up, then given the role through Better Auth's own
// internal adapter (the plugin has no API to make the first admin).
async function adminHeaders(state) {
  if (!state.adminCookie) {
    const [, signedIn] = await testSignIn(state, { email: 'admin@example.com', password: 'admin-password', name: 'Admin' });
    const ctx = await state.auth.$context;
    await ctx.internalAdapter.updateUser(signedIn.user.id, { role: 'admin' });
    state.adminCookie = signedIn.cookie;
  }
  return new Headers({ cookie: state.adminCookie });
}

async function testAdmin(state, action, body) {
  const headers = await adminHeaders(state);
  const calls = {
    'revoke-sessions': () => state.auth.api.revokeUserSessions({ body: { userId: body.userId }, headers }),
    ban: () => state.auth.api.banUser({ body: { userId: body.userId, banExpiresIn: body.banExpiresIn }, headers }),
    unban: () => state.auth.api.unbanUser({ body: { userId: body.userId }, headers }),
    'set-role': () => state.auth.api.setRole({ body: { userId: body.userId, role: body.role }, headers }),
  };
  if (!(action in calls)) return [404, { error: 'unknown admin action' }];
  await calls[action]();
  return [200, { done: action }];
}

// ---------------------------------------------------------------- server
const state = { auth: null, options: null, authHandler: null, jwtOptions: null, jwksDown: false, adminCookie: null };

async function handle(req, res) {
  const path = new URL(req.url, 'http://127.0.0.1').pathname;
  if (path.startsWith('/test/')) {
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'POST only' });
    let body;
    try {
      body = await readJson(req);
    } catch {
      return sendJson(res, 400, { error: 'invalid JSON body' });
    }
    switch (path) {
      case '/test/token':
        return sendJson(res, ...(await testToken(state, body)));
      case '/test/rotate':
        return sendJson(res, ...(await testRotate(state, body)));
      case '/test/jwks-down':
        state.jwksDown = true;
        return sendJson(res, 200, { jwks: 'down' });
      case '/test/jwks-up':
        state.jwksDown = false;
        return sendJson(res, 200, { jwks: 'up' });
      case '/test/sign-in':
        return sendJson(res, ...(await testSignIn(state, body)));
      case '/test/sign-out':
        return sendJson(res, ...(await testSignOut(state, body)));
      default:
        if (path.startsWith('/test/admin/')) {
          return sendJson(res, ...(await testAdmin(state, path.slice('/test/admin/'.length), body)));
        }
        return sendJson(res, 404, { error: 'unknown test route' });
    }
  }
  if (state.jwksDown && path === '/api/auth/jwks') {
    return sendJson(res, 503, { error: 'jwks temporarily unavailable (simulated by /test/jwks-down)' });
  }
  return state.authHandler(req, res);
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((err) => {
    log('error handling', req.method, req.url, err?.stack ?? String(err));
    const status = Number.isInteger(err?.statusCode) ? err.statusCode : 500;
    if (!res.headersSent) sendJson(res, status, { error: err?.message ?? String(err), code: err?.body?.code });
    else res.destroy();
  });
});

server.on('error', (err) => {
  log('server error:', err.message);
  process.exit(1);
});

server.listen(args.port, '127.0.0.1', async () => {
  const { port } = server.address();
  const url = `http://127.0.0.1:${port}`;
  const { auth, options, jwtOptions } = createAuth(url);
  if (args.database) {
    try {
      await migrate(options);
    } catch (err) {
      log('migrations failed:', err?.stack ?? String(err));
      process.exit(1);
    }
  }
  state.auth = auth;
  state.options = options;
  state.jwtOptions = jwtOptions;
  state.authHandler = toNodeHandler(auth);
  process.stdout.write(`${JSON.stringify({ ready: true, url })}\n`);
});

let stopping = false;
function shutdown(signal) {
  if (stopping) return;
  stopping = true;
  log(`${signal} received, shutting down`);
  server.close(async () => {
    if (args.database) await state.options.database.end().catch(() => {});
    process.exit(0);
  });
  server.closeAllConnections();
  setTimeout(() => process.exit(0), 2000).unref();
}
process.on('SIGTERM', () => shutdown('SIGTERM'));
process.on('SIGINT', () => shutdown('SIGINT'));
